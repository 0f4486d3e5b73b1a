import { translatedErrors } from '../http/input.js';
import { formatsFor } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';
import { TIERS, type EscalationStep } from './escalation.js';
import type { EscalationValues } from './escalation-input.js';
import type { EscalationPanel } from './escalation-service.js';

/** The steps' words: "from the embassy to the ministry", by their tiers. */
export function stepLabel(t: TFunction, step: Pick<EscalationStep, 'fromTier' | 'toTier'>): string {
  return t(`escalation.steps.${step.fromTier}-${step.toTier}`);
}

/** The form as the saved schedule and tiers fill it. */
function savedValues(panel: EscalationPanel): EscalationValues {
  return {
    days: panel.schedule ? String(panel.schedule.days) : '',
    tiers: Object.fromEntries(panel.recipients.map((r) => [r.id, String(r.tier)])),
  };
}

/**
 * The delivery page's escalation panel: the schedule form (as typed, with its errors, when refused), each
 * recipient's tier, the pending steps with their due dates and a cancel link, and the past steps.
 */
export function escalationPanelView(
  panel: EscalationPanel,
  t: TFunction,
  ui: string,
  form?: { values: EscalationValues; errors: Record<string, string> },
) {
  const format = formatsFor(ui);
  const values = form?.values ?? savedValues(panel);
  const { errors, errorList } = translatedErrors(t, form?.errors ?? {});
  const base = `/admin/letters/${panel.letter.id}/delivery/escalation`;
  const topTier = Math.max(1, ...panel.recipients.map((r) => r.tier));
  const pending = panel.steps.filter((s) => s.status === 'pending');
  return {
    action: base,
    days: values.days,
    scheduled: panel.schedule !== undefined,
    // Without a reply listener no reply is ever seen: a schedule then sends on after N days whatever happens.
    notReceiving: !panel.receivingReplies,
    scheduleDays: panel.schedule?.days ?? 0,
    errors,
    errorList,
    recipients: panel.recipients.map((r) => {
      const typed = values.tiers[r.id] ?? String(r.tier);
      // Named in the page's language where the directory has it, as the delivery page's list above.
      const { name, organisation } = recipientNamedIn(r, ui);
      return {
        id: r.id,
        name,
        // Said once: an institution entered as its own name ("Embassy of X · Embassy of X") is not repeated.
        organisation: organisation.trim() === name.trim() ? '' : organisation,
        field: `tier_${r.id}`,
        error: errors[`tier_${r.id}`] ?? '',
        options: TIERS.map((tier) => ({
          value: String(tier),
          label: t(`escalation.tiers.${tier}`),
          selected: typed === String(tier),
        })),
      };
    }),
    // Said when a schedule could not do anything: every recipient sits in one tier (as they start), so
    // every round reaches them all at once; or every tier the letter names has it already.
    oneTier: panel.schedule !== undefined && new Set(panel.recipients.map((r) => r.tier)).size === 1,
    reachedAll:
      panel.schedule !== undefined && panel.reached >= topTier && pending.length === 0 && topTier > 1,
    pending: pending.map((step) => ({
      id: step.id,
      label: stepLabel(t, step),
      due: t('escalation.due', { date: format.dateTime(step.dueAt) }),
      cancelHref: `${base}/steps/${step.id}/cancel`,
    })),
    past: panel.steps
      .filter((s) => s.status !== 'pending')
      .map((step) => ({
        id: step.id,
        label: stepLabel(t, step),
        outcome:
          step.status === 'sent'
            ? t('escalation.outcomes.sent', { date: format.dateTime(step.decidedAt ?? step.dueAt) })
            : t(`escalation.outcomes.${step.cancelReason ?? 'organizer'}`, {
                date: format.dateTime(step.decidedAt ?? step.dueAt),
              }),
      })),
  };
}
