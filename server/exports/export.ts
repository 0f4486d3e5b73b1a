import { isSlug } from '../letters/letter.js';
import { isCountryCode } from '../lib/countries.js';
import { DAY_MS, parseUtcDay } from '../lib/dates.js';
import { SIGNATURE_STATUSES, type SignatureFilters, type SignatureStatus } from '../signatures/signature.js';

/** The columns an export can have, in this order; documented in the README. */
export const EXPORT_COLUMNS = [
  'letter',
  'status',
  'name',
  'public_name',
  'display',
  'email',
  'country',
  'city',
  'organisation',
  'title',
  'language',
  'consent_updates',
  'letter_version',
  'signed_at',
  'confirmed_at',
  'withdrawn_at',
  'invalidated_at',
] as const;
export type ExportColumn = (typeof EXPORT_COLUMNS)[number];

/** What an export holds unless the admin chooses otherwise: enough to hand over, no more. */
export const DEFAULT_EXPORT_COLUMNS: readonly ExportColumn[] = [
  'letter',
  'status',
  'public_name',
  'country',
  'organisation',
  'title',
  'confirmed_at',
];

export const EXPORT_FORMATS = ['csv', 'jsonl', 'pdf'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/**
 * What an organizer's read of one letter hands over of each signature (the organizer API, and the
 * letter's supporters page): the name as the supporter chose to show it, and an address only when they
 * agreed to updates (the 'consented' rule); never the full name of someone who chose initials or to be
 * counted only, nor their city or the version they signed.
 */
export const ORGANIZER_COLUMNS: readonly ExportColumn[] = [
  'status',
  'public_name',
  'display',
  'email',
  'country',
  'organisation',
  'title',
  'language',
  'consent_updates',
  'signed_at',
  'confirmed_at',
  'withdrawn_at',
];

/** The formats of an organizer's read: lists, not the PDF annex (the delivery page has the letter as sent). */
export const ORGANIZER_FORMATS: readonly ExportFormat[] = ['csv', 'jsonl'];

/** The most signatures a PDF annex export holds (a PDF is built in memory, unlike CSV and JSON Lines). */
export const PDF_EXPORT_LIMIT = 20_000;

/** What an export selects by: the signatures slice's filters, which its repository reads. */
export type ExportFilters = SignatureFilters;

export interface ExportRequest {
  filters: ExportFilters;
  columns: ExportColumn[];
  format: ExportFormat;
  /**
   * 'consented': an organizer's read of one letter (the organizer API): only supporters who agreed to
   * updates carry an address, the others' is null. Unset: an admin's export, every address.
   */
  addresses?: 'consented';
  /**
   * The language a PDF annex is written in where the letter has a text in it (the admin's interface
   * language); otherwise, and when unset, the letter's own.
   */
  language?: string;
}

/** The export form (or command line) as typed. */
export interface ExportValues {
  letter: string;
  statuses: string[];
  country: string;
  from: string;
  to: string;
  consent: string;
  columns: string[];
  format: string;
}

/**
 * What the admin's form must have that a request elsewhere may leave out: the command line and the API
 * default to confirmed signatures, but a form sent with every status unticked was answered with confirmed
 * ones, unsaid (a walkthrough's export of "nothing" was of confirmed signatures). An i18n key per field.
 */
export function formChoicesMissing(
  values: Pick<ExportValues, 'statuses' | 'columns'>,
): Record<string, string> {
  return {
    ...(values.statuses.length === 0 ? { statuses: 'exports.errors.noStatus' } : {}),
    // Likewise every column unticked: the default columns came out, unsaid.
    ...(values.columns.length === 0 ? { columns: 'exports.errors.noColumn' } : {}),
  };
}

/** Checks an export request; errors are i18n keys per field, so a bad filter gets a 400 that says what to fix. */
export function parseExportRequest(
  values: ExportValues,
): { ok: true; request: ExportRequest } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const letter = values.letter.trim();
  if (letter !== '' && !isSlug(letter)) errors.letter = 'exports.errors.letter';

  const statuses = values.statuses.length === 0 ? ['confirmed'] : values.statuses;
  if (!statuses.every((s) => (SIGNATURE_STATUSES as readonly string[]).includes(s)))
    errors.statuses = 'exports.errors.status';

  const country = values.country.trim().toUpperCase();
  if (country !== '' && !isCountryCode(country)) errors.country = 'exports.errors.country';

  const from = values.from.trim() === '' ? undefined : parseUtcDay(values.from);
  if (values.from.trim() !== '' && !from) errors.from = 'exports.errors.date';
  const toDay = values.to.trim() === '' ? undefined : parseUtcDay(values.to);
  if (values.to.trim() !== '' && !toDay) errors.to = 'exports.errors.date';
  const to = toDay ? new Date(toDay.getTime() + DAY_MS) : undefined;
  if (from && to && to <= from) errors.to = 'exports.errors.range';

  let consent: boolean | undefined;
  if (values.consent === 'yes') consent = true;
  else if (values.consent === 'no') consent = false;
  else if (values.consent !== '' && values.consent !== 'any') errors.consent = 'exports.errors.consent';

  const columns = values.columns.length === 0 ? [...DEFAULT_EXPORT_COLUMNS] : values.columns;
  if (!columns.every((c) => (EXPORT_COLUMNS as readonly string[]).includes(c)))
    errors.columns = 'exports.errors.columns';

  const format = values.format === '' ? 'csv' : values.format;
  if (!(EXPORT_FORMATS as readonly string[]).includes(format)) errors.format = 'exports.errors.format';
  if (format === 'pdf' && letter === '') errors.letter = 'exports.errors.pdfNeedsLetter';

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    request: {
      filters: {
        letter: letter || undefined,
        statuses: [...new Set(statuses)] as SignatureStatus[],
        country: country || undefined,
        from,
        to,
        consent,
      },
      // In the documented order, whatever order they were asked in.
      columns: EXPORT_COLUMNS.filter((c) => columns.includes(c)),
      format: format as ExportFormat,
    },
  };
}

/**
 * Characters that make a spreadsheet run a cell as a formula (CSV injection, OWASP): = + - @, a tab or
 * a carriage return, and their full-width forms, which some spreadsheets fold into the ASCII ones.
 */
export const FORMULA_CHARACTERS = [
  '=',
  '+',
  '-',
  '@',
  '\t',
  '\r',
  '\uff1d',
  '\uff0b',
  '\uff0d',
  '\uff20',
] as const;

/**
 * Characters on which a spreadsheet may split a cell into several: the separators a CSV import can be
 * told to use (comma, semicolon, tab, pipe, space-like full-width comma and semicolon) and line breaks.
 * Each piece becomes a cell of its own, so each piece must not begin with a formula character.
 */
export const SPLIT_CHARACTERS = [',', ';', '\t', '|', '\n', '\r', '\uff0c', '\uff1b'] as const;

const FORMULA: ReadonlySet<string> = new Set<string>(FORMULA_CHARACTERS);
const SPLIT: ReadonlySet<string> = new Set<string>(SPLIT_CHARACTERS);
/** The spaces a spreadsheet's import may trim from the start of a cell. */
const TRIMMED: ReadonlySet<string> = new Set<string>([' ', '\u00a0', '\u3000']);

/**
 * Neutralises a CSV cell: every formula character that begins the value, or begins a piece a spreadsheet
 * could split off (after a comma, semicolon, tab, pipe or line break, and any spaces), gets an apostrophe in front, which
 * spreadsheets show as text and never evaluate. `Org;@SUM(1+1)` becomes `Org;'@SUM(1+1)`. The cell is
 * also quoted when written (csv-stringify), so a spreadsheet that honours quotes sees one cell; this is
 * for the ones told to split on another separator. Only CSV is neutralised: JSON Lines stays raw.
 */
export function neutraliseCell(value: string): string {
  let out = '';
  // At the start of a piece: the cell's start, or after a separator and any spaces, which a spreadsheet
  // told to trim them drops ("Org; =HYPERLINK(…)" is a formula once trimmed).
  let pieceStart = true;
  for (const character of value) {
    if (pieceStart && FORMULA.has(character)) out += "'";
    out += character;
    pieceStart = SPLIT.has(character) || (pieceStart && TRIMMED.has(character));
  }
  return out;
}

/**
 * What a PDF export holds whatever columns the form had ticked: the letter's annex, each name as its
 * supporter chose to show it (with a full name, their title and organisation), its country and status.
 * The audit log records these for a PDF: it said "email" of a document that holds no address. Kept in
 * step with the annex (deliveries/delivery.ts annexOf) by hand.
 */
export const PDF_ANNEX_COLUMNS: readonly ExportColumn[] = [
  'status',
  'public_name',
  'title',
  'organisation',
  'country',
];

/** The filters as they go into the audit log: no personal data, only what was asked for. */
export function describeFilters(request: ExportRequest): Record<string, unknown> {
  const { filters } = request;
  return {
    letter: filters.letter ?? 'all',
    statuses: filters.statuses,
    country: filters.country ?? 'any',
    from: filters.from?.toISOString().slice(0, 10) ?? null,
    to: filters.to ? new Date(filters.to.getTime() - DAY_MS).toISOString().slice(0, 10) : null,
    consent: filters.consent ?? 'any',
    columns: request.format === 'pdf' ? PDF_ANNEX_COLUMNS : request.columns,
    format: request.format,
  };
}
