import { createHash } from 'node:crypto';
import type { OutgoingHttpHeaders } from 'node:http';
import cookieParser from 'cookie-parser';
import type { Request, RequestHandler, Response } from 'express';
import { requestLanguage } from '../http/language.js';
import { interfaceLanguage } from '../lib/i18n.js';
import { isLetterLanguage } from '../lib/languages.js';
import type { Clock } from '../lib/clock.js';
import type { LetterService } from '../letters/letter-service.js';

/**
 * How long a rendered page's count and recent signatories may stand: a page is rendered again in each
 * epoch. With the browsers' and proxies' share (PUBLIC_CACHE_CONTROL: 1 s fresh + 2 s stale), the count
 * a reader sees is never more than 5 s behind.
 */
export const COUNT_EPOCH_MS = 2_000;

/** What an anonymous public page allows browsers and shared caches (a CDN) to do with it. */
export const PUBLIC_CACHE_CONTROL = 'public, max-age=1, stale-while-revalidate=2';

/** Bounds of the page cache: a letter page is ~20-40 kB, so 64 MiB holds every variant of ~500 letters. */
const MAX_ENTRIES = 2_000;
const MAX_BYTES = 64 * 1024 * 1024;

/** One rendered page, as it was answered: its headers (security headers included) and body. */
interface CachedPage {
  /** The headers of a 200 (ETag, Cache-Control and Content-Length included), written as they are. */
  headers: OutgoingHttpHeaders;
  /** The same without Content-Length, for a 304. */
  notModifiedHeaders: OutgoingHttpHeaders;
  /** The route that rendered it (`/letters/:slug`): a hit is counted under it in the metrics. */
  route?: unknown;
  etag: string;
  body: Buffer;
}

/** Headers that belong to one response, never to a copy of it. */
const NOT_REPLAYED = new Set(['set-cookie', 'date', 'content-length', 'etag', 'cache-control']);

/** A bounded LRU of rendered pages (entries and bytes), oldest use evicted first. */
export class PageCache {
  private readonly pages = new Map<string, CachedPage>();
  private bytes = 0;

  constructor(
    private readonly limits: { maxEntries: number; maxBytes: number } = {
      maxEntries: MAX_ENTRIES,
      maxBytes: MAX_BYTES,
    },
  ) {}

  /** The page under `key`, marked as just used. */
  get(key: string): CachedPage | undefined {
    const page = this.pages.get(key);
    if (page) {
      this.pages.delete(key);
      this.pages.set(key, page);
    }
    return page;
  }

  /** Keeps `page` under `key`, evicting the least recently used pages past the bounds. */
  set(key: string, page: CachedPage): void {
    if (page.body.length > this.limits.maxBytes) return;
    this.delete(key);
    this.pages.set(key, page);
    this.bytes += page.body.length;
    for (const [oldest, old] of this.pages) {
      if (this.pages.size <= this.limits.maxEntries && this.bytes <= this.limits.maxBytes) break;
      this.pages.delete(oldest);
      this.bytes -= old.body.length;
    }
  }

  /** How many pages and bytes are kept (for tests and operators). */
  size(): { entries: number; bytes: number } {
    return { entries: this.pages.size, bytes: this.bytes };
  }

  private delete(key: string): void {
    const old = this.pages.get(key);
    if (old) {
      this.pages.delete(key);
      this.bytes -= old.body.length;
    }
  }
}

/** The query parameters a public page depends on; any other (a notice's `done=`, a search) is not cached. */
const KEYED_QUERY = new Set(['lang', 'text']);
/**
 * The home page's also include its list's `page=`. The route answers only page numbers written plainly
 * and up to the last page with 200, and only those are kept: its variants stay as bounded as its pages.
 */
const HOME_QUERY = new Set([...KEYED_QUERY, 'page']);

/**
 * The values kept: only what names a variant the page really has, so that made-up values (any `?text=`,
 * 16 kB of it) neither crowd out the real pages nor grow the keys; anything else is rendered uncached.
 */
const KEYED_VALUE: Readonly<Record<string, (value: string) => boolean>> = {
  lang: (value) => interfaceLanguage(value) === value,
  text: (value) => isLetterLanguage(value),
  page: (value) => /^[1-9][0-9]{0,5}$/.test(value),
};

/**
 * Pages kept by address and language alone, rendered again each count epoch: the home page, and pages that
 * read nothing from the database (the privacy notice, /verify and its algorithm).
 */
const STATIC_PAGES = new Set(['/', '/privacy', '/verify', '/verify/how']);

/** A letter's page and its embed (pages/embed-routes.ts), whose CSP, per letter, is kept with it. */
const LETTER_PAGE = /^\/letters\/([^/]+)(?:\/embed)?$/;
/** A letter's privacy notice (pages/privacy-notice-routes.ts): keyed by its own stamp, not the page's. */
const NOTICE_PAGE = /^\/letters\/([^/]+)\/privacy$/;

/** What a letter's privacy notice depends on in the database, as one string (PrivacyNoticeService). */
export interface NoticeStamps {
  stamp(slug: string): Promise<string | undefined>;
}

/**
 * cookie-parser itself, run here only for a request that has cookies (most anonymous readers have none):
 * the key reads the language cookie exactly as the pages do, and the app's cookie-parser, after the
 * cache, finds the request parsed already.
 */
const parseCookies = cookieParser();
const nothing = (): void => undefined;

/**
 * The cache key of an anonymous public page: its address (path, `lang=`/`text=`, the home page's `page=`), the interface
 * language and where it came from (which sets the Vary header), what the page depends on in the database
 * (a letter's row: its version, status, dates) and the count epoch. Undefined: not a cacheable page.
 */
async function pageKey(
  req: Request,
  letters: LetterService,
  notices: NoticeStamps | undefined,
  now: number,
): Promise<string | undefined> {
  let query = '';
  const keyed = req.path === '/' ? HOME_QUERY : KEYED_QUERY;
  for (const [name, value] of Object.entries(req.query)) {
    if (!keyed.has(name) || typeof value !== 'string' || !KEYED_VALUE[name]!(value)) return undefined;
    // Encoded, so that no value can read as another parameter (`text=ko%26lang%3Dzz` is not `text=ko&lang=zz`).
    query += `&${name}=${encodeURIComponent(value)}`;
  }
  const { language, source } = requestLanguage(req);
  const epoch = Math.floor(now / COUNT_EPOCH_MS);
  const base = `${language}|${source}|${query}|${epoch}|`;
  if (STATIC_PAGES.has(req.path)) return `${base}${req.path}`;
  const notice = notices ? NOTICE_PAGE.exec(req.path)?.[1] : undefined;
  const slug = notice ?? LETTER_PAGE.exec(req.path)?.[1];
  if (slug === undefined) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(slug);
  } catch {
    // Broken percent-encoding: the route answers it (400).
    return undefined;
  }
  // A letter that is edited, closed or reopened, or whose signatures move, has another stamp: at once;
  // a notice, when anything it says changes (the letter, its recipients, the controller...).
  const stamp = notice !== undefined ? await notices!.stamp(decoded) : await letters.pageStamp(decoded);
  return stamp === undefined ? undefined : `${base}${req.path}|${stamp}`;
}

/**
 * Whether the browser's copy is this page (If-None-Match names its ETag or `*`), as Express's req.fresh
 * says for a page without Last-Modified: a request that says `Cache-Control: no-cache` is never answered
 * from the browser's copy.
 */
function notModified(req: Request, etag: string): boolean {
  const match = req.headers['if-none-match'];
  if (match === undefined) return false;
  const control = req.headers['cache-control'];
  if (control !== undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/.test(control)) return false;
  if (match.trim() === '*') return true;
  return match.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === etag || trimmed === `W/${etag}`;
  });
}

function answer(req: Request, res: Response, page: CachedPage): void {
  // Request metrics label a request by the route that answered it; a hit was answered by that route's page.
  if (page.route !== undefined) req.route = page.route;
  // Headers made once per page and written as they are: a hit is answered by a few native calls.
  if (notModified(req, page.etag)) {
    res.writeHead(304, page.notModifiedHeaders).end();
    return;
  }
  res.writeHead(200, page.headers).end(req.method === 'HEAD' ? undefined : page.body);
}

/**
 * Serves anonymous public pages (home, letter pages, the privacy notice) from `cache`, and keeps a copy
 * of each such page the routes render with 200: every visitor gets the same page (no cookie, no token, no
 * account outside the account paths), so one rendering serves all of them within a count epoch. Every
 * cacheable answer, hit or not, carries an ETag (If-None-Match answers 304) and PUBLIC_CACHE_CONTROL.
 * Pages with a notice or a form's errors, error pages and anything that sets a cookie are never kept.
 * One rendering per key at a time: requests that miss a key while it is being rendered (every reader
 * of a busy page when a count epoch turns) wait for that page instead of rendering it again each.
 */
export function cachedPages(deps: {
  cache: PageCache;
  letters: LetterService;
  /** Letters' privacy notices; without them, notices are rendered uncached. */
  privacyNotices?: NoticeStamps;
  clock: Clock;
}): RequestHandler {
  // The keys being rendered, each with the page it will be (undefined: that answer was not kept).
  const rendering = new Map<string, Promise<CachedPage | undefined>>();
  return async (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    try {
      if (req.headers.cookie !== undefined) parseCookies(req, res, nothing);
      const key = await pageKey(req, deps.letters, deps.privacyNotices, deps.clock.now().getTime());
      if (key === undefined) return next();
      const hit = deps.cache.get(key);
      if (hit) return answer(req, res, hit);
      const underway = rendering.get(key);
      if (underway) {
        const page = await underway;
        // Not kept (an error, a cookie, a client gone): this request is rendered for itself.
        return page ? answer(req, res, page) : next();
      }
      let settle!: (page: CachedPage | undefined) => void;
      const promised = new Promise<CachedPage | undefined>((resolve) => (settle = resolve));
      const done = (page: CachedPage | undefined): void => {
        if (rendering.get(key) === promised) rendering.delete(key);
        settle(page);
      };
      rendering.set(key, promised);
      // Whatever ends this response without a page kept (an error page, a redirect, a closed connection)
      // lets the waiting requests go on; after a page was kept this settles nothing.
      res.once('close', () => done(undefined));
      const send = res.send.bind(res);
      res.send = (body?: unknown) => {
        res.send = send;
        if (res.statusCode !== 200 || typeof body !== 'string' || res.getHeader('set-cookie') !== undefined)
          return send(body);
        const bytes = Buffer.from(body);
        const headers: OutgoingHttpHeaders = { 'content-type': 'text/html; charset=utf-8' };
        for (const [name, value] of Object.entries(res.getHeaders()))
          if (!NOT_REPLAYED.has(name) && value !== undefined) headers[name] = value;
        const etag = `"${createHash('sha1').update(bytes).digest('base64url')}"`;
        const notModifiedHeaders = { ...headers, 'cache-control': PUBLIC_CACHE_CONTROL, etag };
        const page: CachedPage = {
          headers: { ...notModifiedHeaders, 'content-length': bytes.length },
          notModifiedHeaders,
          route: req.route as unknown,
          etag,
          body: bytes,
        };
        deps.cache.set(key, page);
        done(page);
        answer(req, res, page);
        return res;
      };
      next();
    } catch (error) {
      next(error);
    }
  };
}
