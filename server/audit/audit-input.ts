import { z } from 'zod';
import { emptyAsUndefined, fieldTexts, oneOf, pageNumber } from '../http/input.js';
import { DAY_MS, inOrder, parseUtcDay } from '../lib/dates.js';
import { AUDIT_ACTIONS, type AuditFilters } from './audit.js';

/** The audit page's filters as typed in its address, kept to show them again. */
export interface AuditQueryValues {
  action: string;
  actor: string;
  from: string;
  to: string;
  page: string;
}

/** The filters to search by and the page, or, per field, what is wrong (an i18n key). */
export type AuditQuery =
  | { ok: true; filters: AuditFilters; page: number }
  | { ok: false; errors: Partial<Record<keyof AuditQueryValues, string>> };

/** A UTC day (YYYY-MM-DD) as the instant a search starts from, or, for `to`, stops before (the day included). */
const day = (end: boolean) =>
  z.string().transform((value, ctx) => {
    if (value === '') return undefined;
    const start = parseUtcDay(value);
    if (!start) {
      ctx.addIssue({ code: 'custom', message: 'audit.errors.date' });
      return z.NEVER;
    }
    return end ? new Date(start.getTime() + DAY_MS) : start;
  });

const schema = z
  .object({
    action: oneOf(AUDIT_ACTIONS, 'audit.errors.action'),
    actor: emptyAsUndefined,
    from: day(false),
    to: day(true),
    page: z.string().transform(pageNumber),
  })
  .refine(inOrder, { message: 'exports.errors.range', path: ['to'] });

/** Reads the query string: each filter as text (at most 200 characters, trimmed; '' when missing or repeated). */
export function auditQueryValues(query: Record<string, unknown>): AuditQueryValues {
  return fieldTexts(query, ['action', 'actor', 'from', 'to', 'page']);
}

/** Checks the filters: an action from the list, real days. */
export function parseAuditQuery(values: AuditQueryValues): AuditQuery {
  const result = schema.safeParse(values);
  if (result.success) {
    const { page, ...filters } = result.data;
    return { ok: true, filters, page };
  }
  const errors: Partial<Record<keyof AuditQueryValues, string>> = {};
  for (const issue of result.error.issues) {
    const field = issue.path[0] as keyof AuditQueryValues;
    errors[field] ??= issue.message;
  }
  return { ok: false, errors };
}
