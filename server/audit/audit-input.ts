import { z } from 'zod';
import { DAY_MS, parseUtcDay } from '../lib/dates.js';
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

/** The last page anyone may ask for: deeper offsets only make the database count rows. */
const MAX_PAGE = 10_000;

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

const schema = z.object({
  action: z
    .string()
    .refine((value) => value === '' || (AUDIT_ACTIONS as readonly string[]).includes(value), {
      message: 'audit.errors.action',
    })
    .transform((value) => (value === '' ? undefined : (value as AuditFilters['action']))),
  actor: z.string().transform((value) => value || undefined),
  from: day(false),
  to: day(true),
  // A page number that is not one is the first page: links only ever carry good ones.
  page: z.string().transform((value) => Math.max(0, Math.min(MAX_PAGE, Number.parseInt(value, 10) || 0))),
});

/** Reads the query string: each filter as text (at most 200 characters, trimmed; '' when missing or repeated). */
export function auditQueryValues(query: Record<string, unknown>): AuditQueryValues {
  const text = (name: string) =>
    typeof query[name] === 'string' ? (query[name] as string).slice(0, 200).trim() : '';
  return {
    action: text('action'),
    actor: text('actor'),
    from: text('from'),
    to: text('to'),
    page: text('page'),
  };
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
