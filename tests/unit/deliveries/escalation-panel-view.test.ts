import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { EscalationPanel } from '../../../server/deliveries/escalation-service.js';
import { escalationPanelView } from '../../../server/deliveries/escalation-view.js';
import { createViewEngine } from '../../../server/http/views.js';
import type { Letter } from '../../../server/letters/letter.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { viewsDir } from '../../../server/lib/paths.js';

const t = createI18n().getFixedT('en');
const panel = (receivingReplies: boolean): EscalationPanel => ({
  letter: { id: 7 } as Letter,
  schedule: { days: 14 } as EscalationPanel['schedule'],
  recipients: [],
  steps: [],
  reached: 1,
  receivingReplies,
});

// The panel's partial rendered by the platform's own view engine, from a page that holds only it.
const dir = mkdtempSync(path.join(tmpdir(), 'escalation-panel-'));
const page = path.join(dir, 'panel.hbs');
writeFileSync(page, '{{> escalation-panel}}');
const engine = createViewEngine(viewsDir, false);
const rendered = (receivingReplies: boolean) =>
  new Promise<string>((resolve, reject) =>
    engine(
      page,
      {
        layout: false,
        t,
        language: 'en',
        csrfToken: 'token',
        // A staff page's: its forms keep what was typed for this account (partials/kept-offer.hbs).
        currentUser: { id: 1 },
        escalation: escalationPanelView(panel(receivingReplies), t, 'en'),
      },
      (error, html) => (error ? reject(error as Error) : resolve(html!)),
    ),
  );
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("the escalation panel's view", () => {
  it('warns that every step goes ahead when the platform receives no replies, and only then', async () => {
    const warning = t('escalation.notReceiving');
    expect(warning).toContain('BOUNCE_SMTP_PORT');
    expect(await rendered(false)).toContain(warning);
    expect(await rendered(true)).not.toContain(warning);
  });

  it("names a recipient's institution beside its name, once when they are the same", () => {
    const recipient = (id: number, name: string, organisation: string) =>
      ({ id, name, organisation, tier: 1, names: {} }) as EscalationPanel['recipients'][number];
    const view = escalationPanelView(
      {
        ...panel(true),
        recipients: [
          recipient(1, 'Embassy of Ukraine in Seoul', 'Embassy of Ukraine in Seoul'),
          recipient(2, 'Ambassador Kovalenko', 'Embassy of Ukraine in Seoul'),
        ],
      },
      t,
      'en',
    );
    expect(view.recipients.map((r) => [r.name, r.organisation])).toEqual([
      ['Embassy of Ukraine in Seoul', ''],
      ['Ambassador Kovalenko', 'Embassy of Ukraine in Seoul'],
    ]);
  });
});
