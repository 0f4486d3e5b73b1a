import cookieParser from 'cookie-parser';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { notFound } from '../lib/errors.js';
import { languageCode } from '../lib/languages.js';
import {
  DEFAULT_LANGUAGE,
  fixedT,
  INTERFACE_LANGUAGE_NAMES,
  INTERFACE_LANGUAGES,
  interfaceLanguage,
  type i18n,
  type InterfaceLanguage,
} from '../lib/i18n.js';

/**
 * For the APIs, which read no cookie: answers in the language `?lang=` names, else the one
 * Accept-Language prefers, else the default; sets res.locals.language and its fixed t.
 */
export function apiLanguage(i18nInstance: i18n): RequestHandler {
  return (req, res, next) => {
    const language =
      interfaceLanguage(req.query.lang) ?? fromAcceptLanguage(req.get('accept-language')) ?? DEFAULT_LANGUAGE;
    res.locals.language = language;
    res.locals.t = fixedT(i18nInstance, language);
    next();
  };
}

/** The cookie that remembers the language a reader chose with the switcher. */
export const LANGUAGE_COOKIE = 'us_lang';
const A_YEAR_MS = 365 * 24 * 60 * 60 * 1000;

/** Where the interface language of a request came from; it says which request headers the page varies by. */
type LanguageSource = 'query' | 'cookie' | 'header' | 'default';

/** One link of the language switcher. */
export interface LanguageLink {
  code: InterfaceLanguage;
  /** The language's name in itself ("한국어"), whatever the page's language. */
  name: string;
  /** `/language/<code>?next=<this page>`: sets the cookie and comes back. */
  href: string;
  current: boolean;
}

/**
 * The interface language an Accept-Language header prefers: the supported primary subtag with the
 * highest q (ties keep the header's order); q=0 means "not this one".
 */
export function fromAcceptLanguage(header: string | undefined): InterfaceLanguage | undefined {
  if (!header) return undefined;
  const ranked = header
    .split(',')
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
      const quality = q ? Number(q[1]) : 1;
      return { language: interfaceLanguage(tag), quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry) => entry.language !== undefined && entry.quality > 0)
    .sort((a, b) => b.quality - a.quality || a.index - b.index);
  return ranked[0]?.language;
}

/** The interface language of a request: `?lang=`, then the us_lang cookie, then Accept-Language, then the default. */
export function chooseLanguage(request: {
  query: unknown;
  cookie: unknown;
  acceptLanguage: string | undefined;
}): {
  language: InterfaceLanguage;
  source: LanguageSource;
} {
  const fromQuery = interfaceLanguage(request.query);
  if (fromQuery) return { language: fromQuery, source: 'query' };
  const fromCookie = interfaceLanguage(request.cookie);
  if (fromCookie) return { language: fromCookie, source: 'cookie' };
  const fromHeader = fromAcceptLanguage(request.acceptLanguage);
  if (fromHeader) return { language: fromHeader, source: 'header' };
  return { language: DEFAULT_LANGUAGE, source: 'default' };
}

// cookie-parser itself, run on a stand-in request: the overload refusal, answered before cookie-parser runs,
// reads `us_lang="uk"` or `us_lang=%75k` exactly as the pages behind it do.
const parseCookies = cookieParser();

/** The us_lang cookie as cookie-parser reads it (unquoted, URI-decoded, the first of two), from the raw header. */
export function languageCookie(header: string | undefined): unknown {
  if (!header) return undefined;
  const standIn = { headers: { cookie: header } } as Request;
  parseCookies(standIn, {} as Response, () => undefined);
  return (standIn.cookies as Record<string, unknown>)[LANGUAGE_COOKIE];
}

/** The interface language of a request and where it came from (which says what the page varies by). */
export function requestLanguage(req: Request): { language: InterfaceLanguage; source: LanguageSource } {
  return chooseLanguage({
    query: req.query.lang,
    // Undefined before cookie-parser has run, which the page cache runs only when there are cookies.
    cookie: (req.cookies as Record<string, unknown> | undefined)?.[LANGUAGE_COOKIE],
    acceptLanguage: req.get('accept-language'),
  });
}

const BASE = 'http://undersigned.invalid';

/**
 * The interface language the address chose (`?lang=`), if any: on public pages it sets no cookie, so it
 * travels in links (rememberAddressLanguage says when a staff page keeps it).
 */
export function addressLanguage(req: { query: Record<string, unknown> }): InterfaceLanguage | undefined {
  return interfaceLanguage(req.query.lang);
}

/**
 * The one rule for every link, form action and redirect from a page to another page of this site: it
 * keeps `lang=` whenever the address chose the interface language (`?lang=`, as an e-mail's link does,
 * which sets no cookie on a public page), and adds `text=` when the letter's text it names is not the
 * interface language (which the next page reads as its default text anyway). Merges with a query already
 * on `path`. A page opened with `?lang=` thus links the same whatever the reader's cookie or browser say
 * (nothing to Vary).
 */
export function withLanguages(
  path: string,
  req: { query: Record<string, unknown> },
  res: { locals: { language: string } },
  text?: string,
): string {
  return withLanguageQuery(path, addressLanguage(req), text !== res.locals.language ? text : undefined);
}

/**
 * withLanguages for a link written in a view (the header's, the footer's, a page's own): `path` with
 * `lang=` when the address chose the page's language (`res.locals.addressLanguage`), else as it is.
 */
export function keepingAddressLanguage(path: string, chosen: string | undefined): string {
  return chosen ? withLanguageQuery(path, chosen, undefined) : path;
}

/** `path` with `lang=` and `text=` set when given, the rest of its query kept. */
function withLanguageQuery(path: string, lang: string | undefined, text: string | undefined): string {
  const url = new URL(path, BASE);
  if (lang) url.searchParams.set('lang', lang);
  if (text !== undefined) url.searchParams.set('text', text);
  return `${url.pathname}${url.search}${url.hash}`;
}

/**
 * A local address to come back to, without its `lang=` (so the cookie just set rules): a path that starts
 * with one `/`; anything else (`//host`, `/\host`, `https://…`, nothing) is `/`, so the switcher is no
 * open redirect. On a letter's pages a `lang=` without `text=` also chose the letter's text (an old link,
 * text-language.ts): it becomes `text=`, so switching the interface never switches the text.
 */
export function localPath(next: unknown): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.startsWith('/\\'))
    return '/';
  let url: URL;
  try {
    url = new URL(next, BASE);
  } catch {
    return '/';
  }
  // The URL parser drops tabs and newlines and reads backslashes as slashes: check where it really points.
  if (url.origin !== BASE) return '/';
  // It also resolves dot segments: "/.//evil.example" and "/..//evil.example" become the path
  // "//evil.example", which a browser reads as another site. A path that starts with two slashes is refused.
  if (url.pathname.startsWith('//')) return '/';
  const lang = url.searchParams.get('lang');
  if (lang !== null && url.pathname.startsWith('/letters/') && !url.searchParams.has('text')) {
    const text = languageCode(lang);
    if (text) url.searchParams.set('text', text);
  }
  url.searchParams.delete('lang');
  return `${url.pathname}${url.search}${url.hash}`;
}

/** The switcher's links for a page in `current`, each coming back to `next`. */
export function languageLinks(current: string, next: string): LanguageLink[] {
  // Every character a path may hold is escaped, ( ) ! ' * too: the page never echoes its address as written.
  const back = encodeURIComponent(localPath(next)).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return INTERFACE_LANGUAGES.map((code) => ({
    code,
    name: INTERFACE_LANGUAGE_NAMES[code],
    href: `/language/${code}?next=${back}`,
    current: code === current,
  }));
}

/**
 * The switcher's links on the page a request shows: back to it; after a form POST, to the page the form
 * is on when the route said which (`res.locals.formPage`: the letter, for its signing form), else home.
 */
function languageLinksFor(req: Request, res: Response, current: string): LanguageLink[] {
  if (req.method === 'GET' || req.method === 'HEAD') return languageLinks(current, req.originalUrl);
  return languageLinks(current, res.locals.formPage ?? '/');
}

/**
 * Sets each request's interface language: `res.locals.language` (a plain code), `res.locals.t` (a `t`
 * fixed to it, made once per language by fixedT, never a clone per request), the switcher's links, and
 * the headers that say what the page is in and what it depends on.
 */
export function interfaceLanguageMiddleware(i18n: i18n): RequestHandler {
  return (req, res, next) => {
    const { language, source } = requestLanguage(req);
    res.locals.language = language;
    res.locals.addressLanguage = source === 'query' ? language : undefined;
    res.locals.t = fixedT(i18n, language);
    // Made only when a page renders them (a view reads the local): a redirect, an asset or JSON never does.
    let links: LanguageLink[] | undefined;
    Object.defineProperty(res.locals, 'languageLinks', {
      get: () => (links ??= languageLinksFor(req, res, language)),
      enumerable: true,
      configurable: true,
    });
    res.set('Content-Language', language);
    // The address is in every cache's key already; a cookie or header that chose the language is not.
    if (source !== 'query') res.vary('Cookie');
    if (source === 'header' || source === 'default') res.vary('Accept-Language');
    next();
  };
}

/**
 * `GET /language/<code>?next=<path>`: the switcher. Remembers the choice for a year and goes back to the
 * page (303). A link, not a form, so it works without JavaScript; `?lang=` in a public page's address
 * never sets the cookie (e-mails use it to open one page in their language).
 */
export function languageRoutes(options: { https: boolean }): Router {
  const router = Router();
  router.get('/language/:code', (req, res, next) => {
    const code = req.params.code;
    if (!(INTERFACE_LANGUAGES as readonly string[]).includes(code)) return next(notFound());
    rememberLanguage(res, code, options);
    res.set('Cache-Control', 'no-store');
    res.redirect(303, localPath(req.query.next));
  });
  return router;
}

/** Keeps a reader's language for a year, as the switcher does. */
function rememberLanguage(res: Response, code: string, options: { https: boolean }): void {
  res.cookie(LANGUAGE_COOKIE, code, {
    maxAge: A_YEAR_MS,
    path: '/',
    sameSite: 'lax',
    httpOnly: true,
    secure: options.https,
  });
}

/**
 * For the account pages (login, the staff's pages): a page read with `?lang=` by a browser that has no
 * language chosen keeps it, as the switcher would. Their forms, links and redirects are not written with
 * `withLanguages`, so without it a person invited in Korean got English from the first click after the
 * invitation (the browser's language). A language chosen with the switcher is never replaced: staff
 * e-mails link in the account's e-mail language, which may not be the one its owner reads the pages in.
 * Nothing there is cached. Public pages never set the cookie from an address (they stay cacheable, and
 * a supporter's e-mail opens one page).
 */
export function rememberAddressLanguage(options: { https: boolean }): RequestHandler {
  return (req, res, next) => {
    const chosen = addressLanguage(req);
    const kept = interfaceLanguage((req.cookies as Record<string, unknown> | undefined)?.[LANGUAGE_COOKIE]);
    if (chosen && kept === undefined && (req.method === 'GET' || req.method === 'HEAD'))
      rememberLanguage(res, chosen, options);
    next();
  };
}
