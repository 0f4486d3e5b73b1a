import type { TFunction } from '../lib/i18n.js';
import { formatsFor } from '../lib/format.js';
import { languageName } from '../lib/languages.js';
import { REMOVALS, type ListChange, type RoundList } from './erratum.js';
import { erratumRefusalKey, type ErratumPreview } from './erratum-service.js';

/** Where a round's correction is asked for (its confirmation page) and sent. */
export function erratumPath(letterId: number, roundId: number): string {
  return `/admin/letters/${letterId}/delivery/rounds/${roundId}/erratum`;
}

/**
 * "Delivered with 1,204 signatures — since then 3 withdrawn, 1 erased: the list now counts 1,200." Only
 * the reasons that occurred are named.
 */
export function changeLine(change: ListChange, t: TFunction, ui: string): string {
  const numbers = formatsFor(ui);
  const count = (key: string, n: number) =>
    t(`errata.change.${key}`, { count: n, formatted: numbers.number(n) });
  const removals = REMOVALS.filter((r) => change[r] > 0).map((r) => count(r, change[r]));
  return t('errata.change.line', {
    delivered: count('delivered', change.delivered),
    removals: new Intl.ListFormat(ui, { type: 'conjunction', style: 'narrow' }).format(removals),
    now: count('now', change.now),
  });
}

/** A delivered round's list on the delivery page: nothing when it has not changed and no correction was sent. */
export function roundListView(list: RoundList | null, letterId: number, t: TFunction, ui: string) {
  if (!list || (list.change.now === list.change.delivered && list.corrections.length === 0)) return null;
  const numbers = formatsFor(ui);
  const changed = list.change.now !== list.change.delivered;
  return {
    line: changed ? changeLine(list.change, t, ui) : '',
    corrections: list.corrections.map((c) =>
      t('errata.change.corrected', {
        date: numbers.dateTime(c.createdAt),
        count: c.treeSize,
        formatted: numbers.number(c.treeSize),
        root: c.root,
      }),
    ),
    // The corrections sent cover what changed: said when no other may be sent for that reason.
    upToDate: changed && list.refusal === 'alreadySent',
    erratumHref: list.refusal === null ? erratumPath(letterId, list.roundId) : null,
  };
}

/** The page that asks before a correction is sent: the change, the new root, and who receives it. */
export function erratumConfirmView(preview: ErratumPreview, t: TFunction, ui: string, requestKey: string) {
  const numbers = formatsFor(ui);
  const { letter, round } = preview;
  return {
    pageTitle: t('errata.confirm.title'),
    letter,
    action: erratumPath(letter.id, round.id),
    explain: t('errata.confirm.explain', { date: numbers.dateTime(round.createdAt) }),
    line: changeLine(preview.change, t, ui),
    root: preview.root,
    recipients: preview.recipients.map((r) => ({
      name: r.recipientName,
      languageLabel: languageName(r.language, ui),
    })),
    recipientCount: preview.recipients.length,
    refusal: preview.refusal === null ? null : t(erratumRefusalKey(preview.refusal)),
    requestKey,
  };
}
