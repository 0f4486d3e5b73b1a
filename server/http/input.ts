import type { Request } from 'express';
import { z } from 'zod';
import { notFound } from '../lib/errors.js';

/** A named path parameter as a string; a route without it is a page that does not exist. */
export function pathParam(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  // No slug, token or id holds a NUL, and PostgreSQL refuses one in any text it is sent (a 500, not a 404).
  if (typeof value !== 'string' || value.length === 0 || value.includes('\u0000')) throw notFound();
  return value;
}

/** A form field as a string: '' when missing, repeated or not text, so a crafted body cannot smuggle arrays in. */
export function formText(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** The body of a parsed form, or an empty one. */
export function formBody(body: unknown): Record<string, unknown> {
  return body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
}

/**
 * A positive whole number from a path parameter, at most the largest id a table holds; anything else is a
 * page that does not exist.
 */
export function idParam(req: Request, name: string): number {
  const value = pathParam(req, name);
  if (!/^[1-9]\d{0,9}$/.test(value) || Number(value) > MAX_ID) throw notFound();
  return Number(value);
}
/**
 * The largest id: ids are PostgreSQL `integer`s (docs/decisions/2026-12-05-migrations-on-two-databases.md): a larger
 * number in a query fails there ("out of range") instead of finding nothing, as it does on SQLite.
 */
export const MAX_ID = 2_147_483_647;

/** A query-string parameter as text, at most 200 characters: '' when missing or repeated. */
export function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.slice(0, 200) : '';
}

/**
 * Field errors (i18n keys) translated for a form view: the message beside each field, and the summary
 * list at the top of the form that links to each field. `params` gives a field's message its values
 * (the longest text it takes, so "too long" can say by how much).
 */
export function translatedErrors(
  t: (key: string, params?: Record<string, unknown>) => string,
  errors: Partial<Record<string, string>>,
  params: Partial<Record<string, Record<string, unknown>>> = {},
): { errors: Record<string, string>; errorList: { field: string; message: string }[] } {
  const messages: Record<string, string> = {};
  for (const [field, key] of Object.entries(errors)) if (key) messages[field] = t(key, params[field]);
  return {
    errors: messages,
    errorList: Object.entries(messages).map(([field, message]) => ({ field, message })),
  };
}

/** The text of each named field of a form or query string, trimmed, at most `max` characters ('' when missing or repeated). */
export function fieldTexts<K extends string>(
  source: unknown,
  names: readonly K[],
  max = 200,
): Record<K, string> {
  const record = formBody(source);
  return Object.fromEntries(
    names.map((name) => {
      const value = record[name];
      return [name, typeof value === 'string' ? value.slice(0, max).trim() : ''];
    }),
  ) as Record<K, string>;
}

/** The last page of a list anyone may ask for: deeper offsets only make the database count rows. */
const MAX_PAGE = 10_000;

/** A page number from a link: one that is not a number is the first page (links only carry good ones). */
export function pageNumber(text: string): number {
  return Math.max(0, Math.min(MAX_PAGE, Number.parseInt(text, 10) || 0));
}

/** Empty text is no filter. */
export const emptyAsUndefined = z.string().transform((value) => value || undefined);

/** One of `options`, or no filter when empty; anything else is the error `message` (an i18n key). */
export const oneOf = <T extends string>(options: readonly T[], message: string) =>
  z
    .string()
    .refine((value) => value === '' || (options as readonly string[]).includes(value), { message })
    .transform((value) => (value === '' ? undefined : (value as T)));
