import { translatedErrors } from '../http/input.js';
import type { TFunction } from '../lib/i18n.js';
import { readableDomain, type AbuseListEntry, type RangeWarning } from './abuse-list.js';
import { formatsFor } from '../lib/format.js';
import { shortHash, type EntryInput, type TrendingSources } from './abuse-service.js';

/** The add form as nobody has typed in it yet. */
export const EMPTY_ENTRY_INPUT: EntryInput = { list: 'block', kind: 'ip', value: '', note: '' };

/** An entry as the page shows it: hashes shortened, whole addresses never (the list has only their hash). */
export function entryView(t: TFunction, entry: AbuseListEntry) {
  return {
    id: entry.id,
    list: entry.list,
    listLabel: t(`abuse.lists.${entry.list}`),
    kindLabel: t(`abuse.kinds.${entry.kind}`),
    value:
      entry.kind === 'address'
        ? t('abuse.hiddenAddress')
        : entry.kind === 'ip-hash'
          ? shortHash(entry.value)
          : entry.kind === 'domain'
            ? readableDomain(entry.value)
            : entry.value,
    note: entry.note,
    createdAt: entry.createdAt,
  };
}

/** The lists page's context: both lists, the add form as typed with its errors, and the notice. */
export function listsPageView(
  t: TFunction,
  entries: readonly AbuseListEntry[],
  view: {
    input: EntryInput;
    errors: Partial<Record<string, string>>;
    notice: string | undefined;
    /** A block to confirm: what it holds and why it is asked about. */
    confirm?: { warnings: readonly RangeWarning[]; range: string; addresses: bigint; language: string };
  },
) {
  const shown = entries.map((e) => entryView(t, e));
  const { confirm } = view;
  return {
    pageTitle: t('abuse.title'),
    sections: [
      { id: 'blocked', heading: t('abuse.blockList'), entries: shown.filter((e) => e.list === 'block') },
      { id: 'allowed', heading: t('abuse.allowList'), entries: shown.filter((e) => e.list === 'allow') },
    ],
    input: view.input,
    lists: (['block', 'allow'] as const).map((value) => ({
      value,
      label: t(`abuse.lists.${value}`),
      checked: view.input.list === value,
    })),
    kinds: (['ip', 'domain', 'address'] as const).map((value) => ({
      value,
      label: t(`abuse.kinds.${value}`),
      selected: view.input.kind === value,
    })),
    notice: view.notice,
    confirmBlock: confirm
      ? confirm.warnings.map((warning) =>
          t(`abuse.confirmBlock.${warning}`, {
            range: confirm.range,
            // Written out by the interface language's own grouping: "16,777,216", "16 777 216".
            addresses: formatsFor(confirm.language).number(Number(confirm.addresses)),
          }),
        )
      : undefined,
    ...translatedErrors(t, view.errors),
  };
}

/** The trending page's context: the sources of the last hour, client hashes shortened. */
export function trendingPageView(t: TFunction, sources: TrendingSources, notice: string | undefined) {
  return {
    pageTitle: t('abuse.trending.title'),
    ...sources,
    addresses: sources.addresses.map((row) => ({ ...row, shortSource: shortHash(row.source) })),
    notice,
  };
}

/** The confirmation before blocking a trending source: what will be blocked, as the page may show it. */
export function blockPageView(
  t: TFunction,
  source: { kind: 'domain' | 'ip-hash'; value: string },
  invalid: boolean,
) {
  return {
    pageTitle: t('abuse.block.title'),
    kind: source.kind,
    value: source.value,
    shown: source.kind === 'domain' ? source.value : shortHash(source.value),
    errorList: invalid ? [{ field: '', message: t('abuse.block.invalid') }] : [],
  };
}
