import { randomBytes } from 'node:crypto';
import { translatedErrors } from '../http/input.js';
import type { TFunction } from '../lib/i18n.js';
import { formatsFor } from '../lib/format.js';
import { languageName } from '../lib/languages.js';
import {
  DELIVERY_MODES,
  onItsWay,
  refusalMessageKey,
  versionDelivery,
  type DeliveryRound,
  type VersionDelivery,
} from './delivery.js';
import type { DeliverySettingsValues } from './delivery-input.js';
import type { DeliveryOverview } from './delivery-service.js';
import { CORRECTION_TRIGGER } from './erratum.js';
import { roundListView } from './erratum-view.js';
import { keptNameIn, recipientNamedIn } from '../recipients/recipient-names.js';

/** A fresh key for a form that starts a round: submitting it twice makes one round. */
export function requestKey(): string {
  return randomBytes(16).toString('base64url');
}

/** The settings form as the saved (or default) settings fill it. */
function savedValues(overview: DeliveryOverview): DeliverySettingsValues {
  const { settings } = overview;
  return {
    mode: settings.mode,
    milestoneEvery: settings.milestoneEvery ? String(settings.milestoneEvery) : '',
    deliverAt: settings.deliverAt ? settings.deliverAt.toISOString().slice(0, 16) : '',
    replyTo: settings.replyTo,
  };
}

function recipientsView(recipients: DeliveryOverview['recipients'], ui: string) {
  // Named in the organizer's language where the directory has it, as the editor names them.
  return recipients.map((r) => ({
    ...r,
    ...recipientNamedIn(r, ui),
    languageLabel: languageName(r.language, ui),
  }));
}

/** How many of the newest rounds show their record unfolded, whatever became of their letters. */
const OPEN_ROUNDS = 2;

/** The delivery page's context: the overview, the settings form (as typed, with its errors), and the notice. */
export function deliveryPageView(
  overview: DeliveryOverview,
  t: TFunction,
  ui: string,
  options: {
    form?: { values: DeliverySettingsValues; errors: Record<string, string> };
    notice: string | null;
  },
) {
  const { letter } = overview;
  const values = options.form?.values ?? savedValues(overview);
  const refusal = overview.deliverRefusal;
  const listed = new Map(overview.recipients.map((r) => [r.id, r]));
  return {
    pageTitle: t('deliveries.title'),
    overview,
    letter,
    values,
    ...translatedErrors(t, options.form?.errors ?? {}),
    modes: DELIVERY_MODES.map((mode) => ({
      mode,
      checked: mode === values.mode,
      label: t(`deliveries.modes.${mode}`),
    })),
    // The default applies until the organizer saves: say so, so the checked mode is not taken for a choice.
    defaultMode: !overview.settings.chosen,
    // Automatic modes wait for a test; the saved mode decides, not the one typed in a refused form.
    waitsForTest: !overview.tested && overview.settings.mode !== 'manual',
    warnings: overview.warnings.map((w) => t(`deliveries.warnings.${w}`)),
    notice: options.notice,
    requestKey: requestKey(),
    canDeliver: refusal === null,
    // Why "Deliver now" is not offered; a delivered version says so in its own words.
    deliverBlocked:
      refusal === null || refusal === 'alreadyDelivered' || refusal === 'letterDelivered'
        ? null
        : // The test comes first on the page, even for a draft (a draft can be tested).
          t(`deliveries.send.${overview.tested ? refusal : 'testFirst'}`),
    canUpdate: overview.canUpdate,
    // Letters still being compiled or sent: the record follows them (public/delivery-progress.js).
    inProgress: overview.rounds.some(
      (view) => view.pending > 0 || view.records.some((r) => onItsWay(r.status)),
    ),
    recipients: recipientsView(overview.recipients, ui),
    /** How many the next round goes to (with an escalation schedule, the tiers reached so far). */
    nextRoundCount: overview.nextRound.recipients.length,
    rounds: overview.rounds.map((view, index) => ({
      ...view,
      ...roundLabels(view.round, overview, t, ui),
      // Past the two newest, a round whose letters all went keeps its table folded: after five rounds
      // the page was eleven phone screens long. One still on its way, or with a failure, stays open.
      folded:
        index >= OPEN_ROUNDS &&
        view.pending === 0 &&
        view.records.length > 0 &&
        view.records.every((r) => r.status === 'sent' && !r.bouncedAt),
      // What became of its list since it went, and the corrections sent (erratum-view.ts).
      list: roundListView(view.list, letter.id, t, ui),
      // Why a round failed before anything was queued (a letter over the size budget), and what to do.
      failure: view.round.failure
        ? t(`limits.roundFailure.${view.round.failure.code}`, view.round.failure.params)
        : '',
      records: view.records.map((r) => ({
        ...r,
        // In the page's language where the directory has a name for it, as the recipients list above.
        recipientName: keptNameIn(
          { name: r.recipientName, organisation: '' },
          r.recipientId === null ? undefined : listed.get(r.recipientId),
          ui,
        ).name,
        statusLabel: t(`deliveries.statuses.${r.bouncedAt ? 'bounced' : r.status}`),
      })),
      // The letter as this round compiled it, as a PDF, in each language it went in (delivery-downloads.ts);
      // a correction carries no letter.
      downloads: (view.round.trigger === CORRECTION_TRIGGER
        ? []
        : [...new Set(view.records.map((r) => r.language))]
      ).map((language) => ({
        language,
        href: `/admin/letters/${overview.letter.id}/delivery/rounds/${view.round.id}/${language}.pdf`,
      })),
    })),
  };
}

/** A round's kind and how it came: a correction names the delivery it corrects. */
function roundLabels(
  round: DeliveryOverview['rounds'][number]['round'],
  overview: DeliveryOverview,
  t: TFunction,
  ui: string,
): { kindLabel: string; triggerLabel: string } {
  if (round.trigger !== CORRECTION_TRIGGER)
    return {
      kindLabel: t(`deliveries.kinds.${round.kind}`),
      triggerLabel: t(`deliveries.triggers.${round.trigger}`),
    };
  const corrected = overview.rounds.find((r) => r.list?.corrections.some((c) => c.roundId === round.id));
  return {
    kindLabel: t('errata.kind'),
    triggerLabel: t('errata.trigger', {
      date: corrected ? formatsFor(ui).dateTime(corrected.round.createdAt) : '',
    }),
  };
}

/** The page that asks before a delivery or an update, listing who will receive what. */
export function deliveryConfirmView(
  overview: DeliveryOverview,
  action: 'deliver' | 'update',
  t: TFunction,
  ui: string,
) {
  // Read first: once this version's delivery has started, there is nothing to ask, only where it stands.
  const where =
    action === 'deliver' ? versionDelivery(overview.rounds, overview.letter.currentVersionId) : undefined;
  if (where && where.state !== 'notDelivered') return deliveryStartedView(overview, where, t);
  // The page asks only what may be done now: a refused round says why, and offers no button.
  const refusal = action === 'deliver' ? overview.deliverRefusal : overview.updateRefusal;
  return {
    pageTitle: t(`deliveries.confirm.${action}Title`),
    // Delivered before, in an earlier version (the same rule, so never this one): the same officials get
    // a second letter, which the page says before anyone presses.
    deliveredBefore: where?.earlier?.createdAt ?? null,
    action,
    started: null,
    refusal: refusal === null ? null : t(refusalMessageKey(refusal)),
    overview,
    letter: overview.letter,
    // Only those this round goes to: with an escalation schedule, the others wait for a step.
    recipients: recipientsView(overview.nextRound.recipients, ui),
    later: overview.nextRound.later,
    held: overview.held,
    requestKey: requestKey(),
  };
}

/**
 * The asking page once this version's delivery has started: what became of it, once, with the way to its
 * record, and the next step there is (an update with new figures, when one may be sent now).
 */
function deliveryStartedView(
  overview: DeliveryOverview,
  where: Exclude<VersionDelivery<DeliveryRound>, { state: 'notDelivered' }>,
  t: TFunction,
) {
  const { round } = where;
  const failure = where.state === 'stopped' ? round.failure : null;
  return {
    pageTitle: t(`deliveries.confirm.${where.state}.title`),
    action: 'deliver',
    started: {
      state: where.state,
      date: round.createdAt,
      recordHref: `/admin/letters/${overview.letter.id}/delivery#round-${round.id}`,
      // Why it stopped and what to do, as the record says it (a letter over the size budget).
      failure: failure ? t(`limits.roundFailure.${failure.code}`, failure.params) : null,
      // New figures go as an update; not while the delivery is still on its way, nor when it never went.
      update: where.state === 'delivered' && overview.canUpdate,
    },
    overview,
    letter: overview.letter,
  };
}
