/**
 * Presenters for the moderation pages: service results and parsed forms into the contexts the views
 * read. Every field a view reads is given (null, false or [] when absent): views are compiled strict.
 */
import { canConfirm } from '../letters/letter.js';
import { translatedErrors } from '../http/input.js';
import { countryOptions } from '../lib/countries.js';
import type { TFunction } from '../lib/i18n.js';
import type { BulkPreview } from './moderation-service.js';
import {
  FLAGS,
  SEARCH_FIELDS,
  type BulkValues,
  type FieldErrors,
  type RestoreValues,
  type SearchValues,
} from './moderation-input.js';
import { publicName, SIGNATURE_STATUSES, type SignatureStatus } from './signature.js';
import type { ErasureResult } from './privacy-service.js';
import type { ModerationRow, StandingSignature } from './signature-repository.js';

/** The translated messages beside each field, and the summary list at the top of the form. */
function shownErrors(t: TFunction, errors: Partial<Record<string, string>>) {
  const { errors: messages, errorList } = translatedErrors(t, errors);
  return { errors: messages, errorList };
}

/** One signature's status (a row's badge): in Ukrainian a filter's plural ("відкликані") reads wrong there. */
const statusLabel = (t: TFunction, status: SignatureStatus) => t(`moderation.status.${status}`);

/** A filter's choice of statuses, said of the many it selects. */
const filterLabel = (t: TFunction, status: SignatureStatus) => t(`exports.statuses.${status}`);

/**
 * A row's status as moderators need it. A pending signature whose supporter clicked the link is not
 * waiting on them ("pending (not confirmed)" beside "the supporter clicked the link" read as a
 * contradiction): it is held while suspect, and too late once its letter was delivered, cleared or not.
 */
function rowStatusLabel(t: TFunction, row: ModerationRow): string {
  if (row.status !== 'pending' || !row.confirmRequested) return statusLabel(t, row.status);
  if (!canConfirm({ status: row.letterStatus })) return t('moderation.status.tooLate');
  return row.suspectReasons.length > 0 ? t('moderation.status.held') : statusLabel(t, row.status);
}

/** A signature as the moderation list and the confirmation page show it. */
function rowView(t: TFunction, row: ModerationRow) {
  return {
    ...row,
    ipShort: row.ipHash ? `${row.ipHash.slice(0, 10)}…` : '',
    // How the supporter chose to appear, beside the full name moderators see: a name copied from here
    // must not go anywhere as more than the supporter agreed to (initials, or counted only).
    displayLabel:
      row.display === 'full'
        ? null
        : row.display === 'initials'
          ? t('moderation.display.initials', { shown: publicName(row) })
          : t('moderation.display.hidden'),
    statusLabel: rowStatusLabel(t, row),
    suspectLabels: row.suspectReasons.map((code) => t(`limitsSigning.reasons.${code}`)),
    reviewLabels: row.reviewReasons.map((code) => t(`limitsSigning.reasons.${code}`)),
    suspect: row.suspectReasons.length > 0,
    standing: row.status === 'pending' || row.status === 'confirmed',
    // Held by screening and still pending: the row offers "Not abuse" (clearing it).
    clearable: row.suspectReasons.length > 0 && row.status === 'pending',
  };
}

/** The moderation list: the search form as typed, its errors, and the signatures found. */
export function moderationListView(
  t: TFunction,
  language: string,
  page: {
    values: SearchValues;
    errors: FieldErrors<keyof SearchValues>;
    rows: readonly ModerationRow[];
    /** The address of the next page of results, or null on the last. */
    nextPage: string | null;
    /** The address of the page before, or null on the first. */
    previousPage: string | null;
    /** This page's number, from 1. */
    pageNumber: number;
    /** This page's address, where a step on a row comes back to. */
    returnTo: string;
    notice: string | undefined;
    /** The bulk invalidation just done (its audit entry), offered to be undone; null after anything else. */
    invalidatedBatch: { batch: number; count: number } | null;
  },
) {
  const rows = page.rows.map((row) => ({
    ...rowView(t, row),
    invalidateUrl: `/admin/signatures/${row.id}/invalidate?${new URLSearchParams({ return_to: page.returnTo }).toString()}`,
  }));
  return {
    pageTitle: t('moderation.title'),
    values: page.values,
    ...shownErrors(t, page.errors),
    statuses: SIGNATURE_STATUSES.map((status) => ({
      status,
      selected: status === page.values.status,
      label: filterLabel(t, status),
    })),
    flags: FLAGS.map((flag) => ({
      flag,
      selected: flag === page.values.flag,
      label: t(`moderation.screening.${flag}`),
    })),
    countries: countryOptions(language).map((c) => ({
      ...c,
      selected: c.code === page.values.country.toUpperCase(),
    })),
    rows,
    // The note explaining "Not abuse" only beside a list that has the button: alone it explained nothing.
    anyClearable: rows.some((row) => row.clearable),
    nextPage: page.nextPage,
    previousPage: page.previousPage,
    pageNumber: page.pageNumber,
    returnTo: page.returnTo,
    notice: page.notice ?? null,
    // A mistaken filter is undone from where its result is seen, not by finding the batch again.
    undoBatch: page.invalidatedBatch
      ? {
          url: `/admin/signatures/bulk/restore?batch=${page.invalidatedBatch.batch}`,
          label: t('moderation.restoreBulk.undo', { count: page.invalidatedBatch.count }),
        }
      : null,
  };
}

/** The address of the list's next page: the same search, one page on. */
export function pageUrl(base: string, values: SearchValues, page: number): string {
  const query = SEARCH_FIELDS.map((k): [string, string] => [k, values[k]]).filter(([, v]) => v !== '');
  const pages: [string, string][] = page > 0 ? [['page', String(page)]] : [];
  const search = new URLSearchParams([...query, ...pages]).toString();
  return search ? `${base}?${search}` : base;
}

/** The confirmation step of invalidating one signature: the signature, and the reason to give. */
export function invalidationView(
  t: TFunction,
  page: {
    row: ModerationRow;
    reason: string;
    errors: FieldErrors<'reason'>;
    returnTo: string;
  },
) {
  return {
    pageTitle: t('moderation.invalidation.title'),
    signature: rowView(t, page.row),
    values: { reason: page.reason },
    ...shownErrors(t, page.errors),
    returnTo: page.returnTo,
  };
}

/** A signature a bulk invalidation would change, as its preview lists it: no address, as few details as will do. */
function previewRow(t: TFunction, row: StandingSignature) {
  return {
    name: row.anonymised ? null : row.fullName,
    letter: row.letter,
    country: row.country,
    // As the moderation list says it: held (its supporter confirmed), not "pending (not confirmed)".
    statusLabel: row.held ? t('moderation.status.held') : statusLabel(t, row.status),
    status: row.status,
    createdAt: row.createdAt,
  };
}

/**
 * What both bulk pages show of a preview and of errors: the preview's rows as listed, and the errors at
 * the top, led by `changedKey` when the count changed between the preview and the confirmation.
 */
function bulkPage(
  t: TFunction,
  page: {
    errors: Partial<Record<string, string>>;
    preview: BulkPreview | undefined;
    changed?: boolean | undefined;
  },
  changedKey: string,
) {
  const shown = shownErrors(t, page.errors);
  return {
    errors: shown.errors,
    errorList: page.changed
      ? [{ field: 'criteria', message: t(changedKey) }, ...shown.errorList]
      : shown.errorList,
    preview: page.preview
      ? { ...page.preview, rows: page.preview.rows.map((row) => previewRow(t, row)) }
      : null,
  };
}

/** The bulk page: the criteria as typed, their errors, and the preview of what would change. */
export function bulkView(
  t: TFunction,
  page: {
    values: BulkValues;
    reason: string;
    errors: FieldErrors<keyof BulkValues | 'criteria' | 'reason'>;
    preview: BulkPreview | undefined;
    /** The count changed between the preview and the confirmation. */
    changed?: boolean;
  },
) {
  return {
    pageTitle: t('moderation.bulk.title'),
    values: page.values,
    reason: page.reason,
    ...bulkPage(t, page, 'moderation.bulk.changed'),
  };
}

/**
 * The bulk restore page: the criteria as typed, their errors, and the preview of what restoring would
 * do (each row in the status it returns to).
 */
export function restoreView(
  t: TFunction,
  page: {
    values: RestoreValues;
    errors: FieldErrors<keyof RestoreValues | 'criteria'>;
    preview: BulkPreview | undefined;
    /** The count changed between the preview and the confirmation (restored from another tab, say). */
    changed?: boolean;
  },
) {
  return {
    pageTitle: t('moderation.restoreBulk.title'),
    values: page.values,
    ...bulkPage(t, page, 'moderation.restoreBulk.changed'),
  };
}

/** The erasure page: the form, its errors, and what the last erasure removed. */
export function erasureView(
  t: TFunction,
  page: { email: string; errors: FieldErrors<'email' | 'confirm'>; result: ErasureResult | null },
) {
  return {
    pageTitle: t('erasure.title'),
    values: { email: page.email },
    ...shownErrors(t, page.errors),
    result: page.result,
    // Nothing held for the address (a typo, or erased already): said so, not "Erased: 0 signatures".
    nothingFound:
      page.result !== null &&
      page.result.signatures + page.result.messages + page.result.letters + page.result.mailboxFiles === 0,
  };
}
