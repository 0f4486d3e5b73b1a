import type { Request } from 'express';
import { notFound } from '../lib/errors.js';

/** A named path parameter as a string; a route without it is a page that does not exist. */
export function pathParam(req: Request, name: string): string {
  const value = (req.params as Record<string, unknown>)[name];
  if (typeof value !== 'string' || value.length === 0) throw notFound();
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

/** A positive whole number from a path parameter; anything else is a page that does not exist. */
export function idParam(req: Request, name: string): number {
  const value = pathParam(req, name);
  if (!/^[1-9]\d{0,15}$/.test(value)) throw notFound();
  return Number(value);
}

/** A query-string parameter as text, at most 200 characters: '' when missing or repeated. */
export function queryText(req: Request, name: string): string {
  const value = req.query[name];
  return typeof value === 'string' ? value.slice(0, 200) : '';
}

/**
 * Field errors (i18n keys) translated for a form view: the message beside each field, and the summary
 * list at the top of the form that links to each field.
 */
export function translatedErrors(
  t: (key: string, params?: Record<string, unknown>) => string,
  errors: Partial<Record<string, string>>,
): { errors: Record<string, string>; errorList: { field: string; message: string }[] } {
  const messages: Record<string, string> = {};
  for (const [field, key] of Object.entries(errors)) if (key) messages[field] = t(key);
  return {
    errors: messages,
    errorList: Object.entries(messages).map(([field, message]) => ({ field, message })),
  };
}
