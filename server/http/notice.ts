import type { Request, Response } from 'express';
import type { TFunction } from '../lib/i18n.js';

/** The query parameter that names the notice a page shows after a redirect. */
const NOTICE_PARAM = 'done';

/**
 * After a form's step succeeds: a 303 to `path` with the notice `name` in its query (`?done=name`), so
 * the next page says what happened, works without JavaScript and survives a reload. `params` are the
 * counts the notice's text shows (`?done=bulk&count=3`). A `#fragment` in `path` stays last.
 */
export function redirectWithNotice(
  res: Response,
  path: string,
  name: string,
  params: Readonly<Record<string, number>> = {},
): void {
  res.redirect(303, withNotice(path, name, params));
}

/** The address redirectWithNotice sends to: `path` with the notice and its counts in the query. */
export function withNotice(
  path: string,
  name: string,
  params: Readonly<Record<string, number>> = {},
): string {
  const url = new URL(path, 'http://local');
  url.searchParams.set(NOTICE_PARAM, name);
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, String(value));
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * A page's address without the notice of its last step (`?done=saved`): where a login leads back to,
 * which would otherwise say "saved" again (and a page that says so forgets what a form kept in the tab).
 */
export function withoutNotice(path: string): string {
  const url = new URL(path, 'http://local');
  if (!url.searchParams.has(NOTICE_PARAM)) return path;
  url.searchParams.delete(NOTICE_PARAM);
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * The notice a page shows after a redirect: `${namespace}.${name}` translated, with the query's whole
 * numbers (the counts redirectWithNotice put there) as its parameters. Only names in `allowed` are shown,
 * so a crafted link cannot make a page say anything else; any other name shows nothing (undefined).
 * Views show it with `{{> notice}}`.
 */
export function noticeFrom(
  req: Request,
  t: TFunction,
  namespace: string,
  allowed: readonly string[],
): string | undefined {
  const name = req.query[NOTICE_PARAM];
  if (typeof name !== 'string' || !allowed.includes(name)) return undefined;
  const notice = t(`${namespace}.${name}`, noticeCounts(req, name));
  // An address edited by hand, without the figures the notice says: none, rather than "{{updated}}".
  return notice.includes('{{') ? undefined : notice;
}

/**
 * The whole numbers redirectWithNotice put beside the notice `name`, or undefined when the page shows
 * another notice or none: for a page whose notice is more than one sentence (an erasure's counts).
 */
export function noticeCounts(req: Request, name: string): Record<string, number> | undefined {
  if (req.query[NOTICE_PARAM] !== name) return undefined;
  const params: Record<string, number> = {};
  for (const [key, value] of Object.entries(req.query)) {
    if (key !== NOTICE_PARAM && typeof value === 'string' && /^\d{1,9}$/.test(value))
      params[key] = Number(value);
  }
  return params;
}
