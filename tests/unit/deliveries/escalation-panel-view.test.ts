import { describe, expect, it } from 'vitest';
import type { EscalationPanel } from '../../../server/deliveries/escalation-service.js';
import { escalationPanelView } from '../../../server/deliveries/escalation-view.js';
import type { Letter } from '../../../server/letters/letter.js';
import { createI18n } from '../../../server/lib/i18n.js';

const t = createI18n().getFixedT('en');
const panel = (receivingReplies: boolean): EscalationPanel => ({
  letter: { id: 7 } as Letter,
  schedule: { days: 14 } as EscalationPanel['schedule'],
  recipients: [],
  steps: [],
  reached: 1,
  receivingReplies,
});

describe("the escalation panel's view", () => {
  it('warns that every step goes ahead when the platform receives no replies, and only then', () => {
    expect(escalationPanelView(panel(false), t, 'en').notReceiving).toBe(true);
    expect(escalationPanelView(panel(true), t, 'en').notReceiving).toBe(false);
    expect(t('escalation.notReceiving')).toContain('BOUNCE_SMTP_PORT');
  });
});
