/**
 * The moderation forms: the search, the bulk criteria, the reason an invalidation needs, and the
 * erasure form. Each is read into the values the page shows back, then checked with zod; a problem
 * is an i18n key per field, so the page can say what is wrong beside the field and keep the input.
 */
import { isIP } from 'node:net';
import { z } from 'zod';
import { emptyAsUndefined, fieldTexts, oneOf, pageNumber } from '../http/input.js';
import { isCountryCode } from '../lib/countries.js';
import { DAY_MS, inOrder, parseUtcDay, parseUtcMinute } from '../lib/dates.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { firstErrorPerField } from '../lib/form-errors.js';
import { isSlug } from '../letters/letter.js';
import { SIGNATURE_STATUSES } from './signature.js';
import type { BulkCriteria, ModerationFilters } from './signature-repository.js';
import type { RestoreCriteria } from './moderation-service.js';
import { REASON_MAX_LENGTH } from './signature-moves.js';
import { hasVisibleText, UNSAFE_IN_TEXT } from '../lib/unsafe-text.js';

/** Field errors as i18n keys, by field name. */
export type FieldErrors<K extends string> = Partial<Record<K, string>>;

/** The screening filters: signatures silenced (suspect) or flagged for review. */
export const FLAGS = ['suspect', 'review'] as const;

/** The search fields, in the order the form and the "more" link carry them. */
export const SEARCH_FIELDS = [
  'letter',
  'status',
  'flag',
  'name',
  'email',
  'country',
  'ip',
  'from',
  'to',
] as const;
export type SearchValues = Record<(typeof SEARCH_FIELDS)[number], string>;

/** The bulk criteria fields, as the form and its confirmation carry them. */
export const BULK_FIELDS = ['letter', 'ip', 'domain', 'from', 'to'] as const;
export type BulkValues = Record<(typeof BULK_FIELDS)[number], string>;

/** A bulk restore's fields: the bulk criteria, the reason they were invalidated for, a bulk invalidation. */
export const RESTORE_FIELDS = [...BULK_FIELDS, 'reason', 'batch'] as const;
export type RestoreValues = Record<(typeof RESTORE_FIELDS)[number], string>;

/** A UTC day (start of it, or with `end` the end of it) or a UTC date and time; undefined when empty. */
const moment = (end: boolean) =>
  z.string().transform((value, ctx) => {
    if (value === '') return undefined;
    const day = parseUtcDay(value);
    if (day) return end ? new Date(day.getTime() + DAY_MS) : day;
    const minute = parseUtcMinute(value);
    if (minute) return minute;
    ctx.addIssue({ code: 'custom', message: 'moderation.errors.date' });
    return z.NEVER;
  });

const searchSchema = z
  .object({
    letter: z
      .string()
      .refine((value) => value === '' || isSlug(value), {
        message: 'moderation.errors.letter',
      })
      .transform((value) => value || undefined),
    status: oneOf(SIGNATURE_STATUSES, 'moderation.errors.status'),
    flag: oneOf(FLAGS, 'moderation.screening.errors.flag'),
    name: emptyAsUndefined,
    email: emptyAsUndefined,
    country: z
      .string()
      .transform((value) => value.toUpperCase())
      .refine((value) => value === '' || isCountryCode(value), { message: 'moderation.errors.country' })
      .transform((value) => value || undefined),
    ip: emptyAsUndefined,
    from: moment(false),
    to: moment(true),
  })
  .refine(inOrder, { message: 'exports.errors.range', path: ['to'] });

/** The search as typed (kept to show it again), and what to search for or what is wrong. */
export type ModerationSearch = { values: SearchValues; page: number } & (
  { ok: true; filters: ModerationFilters } | { ok: false; errors: FieldErrors<keyof SearchValues> }
);

/** Reads the moderation page's query string: its filters and page. A malformed filter is reported, not ignored. */
export function parseModerationSearch(query: unknown): ModerationSearch {
  const values = fieldTexts(query, SEARCH_FIELDS);
  const page = pageNumber(fieldTexts(query, ['page']).page);
  const result = searchSchema.safeParse(values);
  if (!result.success)
    return { values, page, ok: false, errors: firstErrorPerField<keyof SearchValues>(result.error.issues) };
  const { ip, ...rest } = result.data;
  return { values, page, ok: true, filters: { ...rest, ipHash: ip } };
}

/** The fields both bulk actions select by, as the bulk invalidation's form has them. */
const criteriaFields = z.object({
  letter: emptyAsUndefined,
  // A connection is known by its keyed hash only: an address typed here would match nothing, silently.
  ip: emptyAsUndefined.refine((value) => value === undefined || isIP(value) === 0, {
    message: 'moderation.errors.ipNotHash',
  }),
  domain: z
    .string()
    .transform((value) => value.toLowerCase().replace(/^@/, ''))
    .refine((value) => value === '' || /^[a-z0-9.-]+\.[a-z]{2,}$/.test(value), {
      message: 'moderation.errors.domain',
    })
    .transform((value) => value || undefined),
  from: moment(false),
  to: moment(true),
});

/** Whether the criteria narrow a bulk action: an IP hash, a domain, or a whole time window. */
const narrowed = (c: z.infer<typeof criteriaFields>) =>
  c.ip !== undefined || c.domain !== undefined || (c.from !== undefined && c.to !== undefined);

/** The bulk criteria as the repository takes them. */
const toCriteria = ({ letter, ip, domain, from, to }: z.infer<typeof criteriaFields>): BulkCriteria => ({
  letter,
  ipHash: ip,
  emailDomain: domain,
  from,
  to,
});

const criteriaSchema = criteriaFields
  .refine(inOrder, { message: 'exports.errors.range', path: ['to'] })
  .refine(narrowed, { message: 'moderation.errors.criteria', path: ['criteria'] })
  .transform(toCriteria);

/**
 * A bulk restore selects invalidated signatures by the same criteria, or by what they were
 * invalidated for: the reason given (exactly as given), or one bulk invalidation (its audit entry).
 */
const restoreSchema = criteriaFields
  .extend({
    reason: z.string().transform((value) => (hasVisibleText(value) ? value : undefined)),
    batch: z
      .string()
      .refine((value) => value === '' || /^[1-9]\d{0,8}$/.test(value), {
        message: 'moderation.restoreBulk.errors.batch',
      })
      .transform((value) => (value === '' ? undefined : Number(value))),
  })
  .refine(inOrder, { message: 'exports.errors.range', path: ['to'] })
  .refine((c) => narrowed(c) || c.reason !== undefined || c.batch !== undefined, {
    message: 'moderation.restoreBulk.errors.criteria',
    path: ['criteria'],
  })
  .transform(({ reason, batch, ...rest }): RestoreCriteria => ({ ...toCriteria(rest), reason, batch }));

/** Criteria as typed (kept to show them again), and what they select or what is wrong (`criteria`: nothing narrows them). */
export type CriteriaInput<V extends Record<string, string>, C> = { values: V } & (
  { ok: true; criteria: C } | { ok: false; errors: FieldErrors<(keyof V & string) | 'criteria'> }
);

/** Bulk criteria as typed, and what they select or what is wrong. */
export type BulkCriteriaInput = CriteriaInput<BulkValues, BulkCriteria>;

/** A bulk restore's criteria as typed, and what they select or what is wrong. */
export type RestoreCriteriaInput = CriteriaInput<RestoreValues, RestoreCriteria>;

/** Reads a bulk form's fields from a preview's query string or a confirmation's form, and checks them. */
function parseCriteria<V extends Record<string, string>, C>(
  source: unknown,
  fields: readonly (keyof V & string)[],
  schema: z.ZodType<C, V>,
  max?: number,
): CriteriaInput<V, C> {
  const values = fieldTexts(source, fields, max) as V;
  const result = schema.safeParse(values);
  if (!result.success)
    return {
      values,
      ok: false,
      errors: firstErrorPerField<(keyof V & string) | 'criteria'>(result.error.issues),
    };
  return { values, ok: true, criteria: result.data };
}

/** Reads the bulk criteria from the preview's query string or the confirmation's form. */
export function parseBulkCriteria(source: unknown): BulkCriteriaInput {
  return parseCriteria(source, BULK_FIELDS, criteriaSchema);
}

/** Reads a bulk restore's criteria from its preview's query string or its confirmation's form. */
export function parseRestoreCriteria(source: unknown): RestoreCriteriaInput {
  // A reason is matched whole: read as long as one can be kept.
  return parseCriteria(source, RESTORE_FIELDS, restoreSchema, REASON_MAX_LENGTH);
}

/**
 * Whether a bulk preview form was sent at all: the first visit shows the empty form, without errors; its
 * button (`show`) sent with every field empty is a question, answered with what to fill in.
 */
export function bulkAsked(query: unknown, fields: readonly string[] = BULK_FIELDS): boolean {
  const { show, ...values } = fieldTexts(query, [...fields, 'show']);
  return show !== '' || Object.values(values).some((value) => value !== '');
}

/** Why signatures are invalidated: required, kept with them and in the audit log. */
const reason = z
  .string()
  // Nothing anyone can see is no reason (lib/unsafe-text.ts): a Hangul filler was accepted as one.
  .transform((value) => (hasVisibleText(value) ? value : ''))
  .pipe(z.string().min(1, { message: 'moderation.errors.reason' }))
  .pipe(
    z
      .string()
      .max(REASON_MAX_LENGTH, { message: 'moderation.errors.reasonTooLong' })
      .refine((value) => !UNSAFE_IN_TEXT.test(value), { message: 'moderation.errors.reasonCharacters' }),
  );

/** The reason as typed, and the reason or what is wrong with it. */
export type ReasonInput = { values: { reason: string } } & (
  { ok: true; reason: string } | { ok: false; errors: FieldErrors<'reason'> }
);

/** Reads the reason from an invalidation's confirmation form. */
export function parseInvalidation(body: unknown): ReasonInput {
  // Read whole (up to twice the limit), so a reason that is too long is refused, not cut short silently.
  const values = fieldTexts(body, ['reason'], REASON_MAX_LENGTH * 2);
  const result = reason.safeParse(values.reason);
  if (!result.success)
    return {
      values,
      ok: false,
      errors: firstErrorPerField(result.error.issues.map((i) => ({ ...i, path: ['reason'] }))),
    };
  return { values, ok: true, reason: result.data };
}

/** A bulk invalidation's confirmation: its criteria, the count the admin saw, and the reason. */
export type BulkInvalidationInput = {
  values: BulkValues & { reason: string };
  /** The count the preview showed (-1 when missing: never equal to a real count). */
  expected: number;
  criteria: BulkCriteriaInput;
  reason: ReasonInput;
};

/** The count a bulk confirmation says the preview showed; -1 when missing (never equal to a real count). */
function expectedCount(body: unknown): number {
  const expected = Number.parseInt(fieldTexts(body, ['expected']).expected, 10);
  return Number.isFinite(expected) && expected >= 0 ? expected : -1;
}

/** Reads a bulk invalidation's confirmation form. */
export function parseBulkInvalidation(body: unknown): BulkInvalidationInput {
  const criteria = parseBulkCriteria(body);
  const given = parseInvalidation(body);
  return {
    values: { ...criteria.values, reason: given.values.reason },
    expected: expectedCount(body),
    criteria,
    reason: given,
  };
}

/** Reads a bulk clearing's confirmation form: its criteria and the number of held signatures the admin saw. */
export function parseBulkClearing(body: unknown): { criteria: BulkCriteriaInput; expected: number } {
  return { criteria: parseBulkCriteria(body), expected: expectedCount(body) };
}

/** Reads a bulk restore's confirmation form: its criteria and the number of signatures the admin saw. */
export function parseBulkRestore(body: unknown): { criteria: RestoreCriteriaInput; expected: number } {
  return { criteria: parseRestoreCriteria(body), expected: expectedCount(body) };
}

/** The erasure form as typed, and the address to erase or what is wrong. */
export type ErasureInput = { values: { email: string } } & (
  { ok: true; email: string } | { ok: false; status: 400 | 422; errors: FieldErrors<'email' | 'confirm'> }
);

/** Reads the erasure form: an address, and the tick that confirms it (erasure cannot be undone). */
export function parseErasure(body: unknown): ErasureInput {
  const { email, confirm } = fieldTexts(body, ['email', 'confirm'], 320);
  const values = { email };
  if (!looksLikeEmailAddress(email))
    return { values, ok: false, status: 400, errors: { email: 'erasure.errors.email' } };
  // Nothing happens without the tick.
  if (confirm !== 'yes')
    return { values, ok: false, status: 422, errors: { confirm: 'erasure.errors.confirm' } };
  return { values, ok: true, email };
}
