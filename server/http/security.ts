import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import helmet from 'helmet';
import { ipKeyGenerator, rateLimit, type Store } from 'express-rate-limit';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { TFunction } from '../lib/i18n.js';
import { keyedHash } from '../lib/keyed-hash.js';

/**
 * Security headers: a strict CSP (no inline script or style; the letter editor alone allows style
 * attributes, allowStyleAttributes), no framing, no referrer leaks to other sites.
 */
export function securityHeaders(options: { https: boolean }): RequestHandler {
  return helmet({
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        fontSrc: ["'self'"],
        formAction: ["'self'"],
        frameAncestors: ["'self'"],
        frameSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        ...(options.https ? { upgradeInsecureRequests: [] } : {}),
      },
    },
    referrerPolicy: { policy: 'same-origin' },
    strictTransportSecurity: options.https,
  });
}

/**
 * Lets the page being answered be framed by other sites: `origins` (an organizer's list of https
 * origins, validated by pages/embed-origins.ts) and this platform, or any site when the list is empty.
 * Only the embed's pages call it; every other page keeps securityHeaders' `frame-ancestors 'self'` and
 * X-Frame-Options. It edits the CSP helmet set for this response, so the header, per letter, is kept with
 * the page in the page cache and replayed on every hit.
 */
export function allowFraming(res: Response, origins: readonly string[]): void {
  const policy = res.getHeader('content-security-policy');
  // No policy to edit (never the case after securityHeaders): the page stays unframeable.
  if (typeof policy !== 'string' || !policy.includes('frame-ancestors')) return;
  const ancestors = origins.length === 0 ? '*' : ["'self'", ...origins].join(' ');
  res.setHeader(
    'Content-Security-Policy',
    policy.replace(/frame-ancestors[^;]*/, `frame-ancestors ${ancestors}`),
  );
  // Superseded by frame-ancestors in every current browser; older ones would refuse any other site.
  res.removeHeader('X-Frame-Options');
}

/**
 * The sandbox of the frame that shows an e-mail's HTML beside the letter editor: nothing at all is
 * allowed (no script, no form, no pop-up, no navigation); a preview is to be looked at.
 */
export const EMAIL_PREVIEW_SANDBOX = '';

/**
 * Lets the page being answered show an e-mail's HTML in a sandboxed `srcdoc` frame (the letter editor's
 * preview): such a frame takes its page's policy, and e-mails style with `style` attributes (no
 * stylesheet survives mail clients). Only attributes are allowed: never a script, a `<style>` element
 * or a stylesheet from elsewhere. The frame's sandbox (no allow-scripts) keeps the rest inert.
 */
export function allowStyleAttributes(res: Response): void {
  const policy = res.getHeader('content-security-policy');
  if (typeof policy !== 'string' || policy.includes('style-src-attr')) return;
  res.setHeader('Content-Security-Policy', `${policy};style-src-attr 'unsafe-inline'`);
}

/** Methods that change nothing: a cross-site GET is a link, never a form post. */
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/**
 * CSRF protection for every form, the anonymous ones' only one (signing, confirm, withdraw, data access,
 * erasure, unsubscribe), by Fetch Metadata and Origin, as Go 1.25's `http.CrossOriginProtection` does:
 * a state-changing request whose `Sec-Fetch-Site` is anything but `same-origin` or `none` (typed or
 * bookmarked) is refused, `same-site` too (a sibling subdomain is another party); without that header
 * (older browsers), an `Origin` that is neither PUBLIC_URL's nor the request's own (its Host, which the
 * browser sets and a page cannot) is refused; a request with neither header does not come from a browser,
 * so no visitor's ambient credentials ride on it, and it is accepted. Needing no token, public pages carry
 * nothing per visitor and can be cached (docs/decisions/2026-12-05-cacheable-anonymous-pages.md).
 */
export function crossOriginProtection(options: { publicUrl: string }): RequestHandler {
  const platformOrigin = new URL(options.publicUrl).origin;
  return (req, _res, next) => {
    if (SAFE_METHODS.has(req.method)) return next();
    const site = req.get('sec-fetch-site');
    const origin = req.get('origin');
    const allowed =
      site !== undefined
        ? site === 'same-origin' || site === 'none'
        : origin === undefined ||
          origin === platformOrigin ||
          origin === `${req.protocol}://${req.get('host')}`;
    next(allowed ? undefined : new AppError(403, 'csrf_invalid', 'errors.csrf'));
  };
}

const SESSION_COOKIE = 'us_visitor';

/**
 * CSRF tokens for the forms under the account paths (login, account, admin), in addition to
 * crossOriginProtection: a double-submit cookie, HMAC-bound to a per-browser identifier, a random,
 * HttpOnly, SameSite cookie that lives for the browser session and carries nothing else. Issued only
 * there: public pages set no cookie and carry no token.
 */
export function csrfProtection(secret: string, options: { https: boolean }) {
  const cookieOptions = { httpOnly: true, sameSite: 'lax' as const, secure: options.https, path: '/' };
  const { generateCsrfToken, doubleCsrfProtection } = doubleCsrf({
    getSecret: () => secret,
    getSessionIdentifier: (req) => (req.cookies as Record<string, string | undefined>)[SESSION_COOKIE] ?? '',
    cookieName: options.https ? '__Host-us_csrf' : 'us_csrf',
    cookieOptions,
    getCsrfTokenFromRequest: (req) =>
      (req.body as Record<string, unknown> | undefined)?._csrf as string | undefined,
    errorConfig: { statusCode: 403, code: 'csrf_invalid', message: 'invalid csrf token' },
  });

  /** Gives the browser its identifier and every view a token for its forms. */
  const issue: RequestHandler = (req, res, next) => {
    const cookies = req.cookies as Record<string, string | undefined>;
    if (!cookies[SESSION_COOKIE]) {
      const id = randomBytes(18).toString('base64url');
      res.cookie(SESSION_COOKIE, id, cookieOptions);
      cookies[SESSION_COOKIE] = id;
    }
    res.locals.csrfToken = generateCsrfToken(req, res);
    next();
  };

  /** Refuses a POST without a valid token with the one error shape (403, csrf_invalid). */
  const verify: RequestHandler = (req: Request, res: Response, next: NextFunction) => {
    doubleCsrfProtection(req, res, (error?: unknown) => {
      if (error) return next(new AppError(403, 'csrf_invalid', 'errors.csrf'));
      next();
    });
  };

  return { issue, verify };
}

/** Options of one request limit. */
export interface LimitOptions {
  /** false: a request answered with a 4xx is not counted (a form sent back with errors writes nothing). */
  countRejected?: boolean;
  /**
   * Keeps this limit's counters apart from other limits'. By default, the limit's place in the order
   * limits are made in, with its numbers: stable across restarts and across processes running one build.
   */
  name?: string;
}

/** Makes a request limit per client address: at most `limit` requests in `windowMs`, then 429. */
export type LimitPerIp = (limit: number, windowMs: number, options?: LimitOptions) => RequestHandler;

/** Seconds under a minute and a half, minutes above: "wait 5 seconds" reads better than "wait 1 minute". */
function waitText(t: TFunction, seconds: number): string {
  return seconds < 90
    ? t('limitsSigning.wait.seconds', { count: seconds })
    : t('limitsSigning.wait.minutes', { count: Math.ceil(seconds / 60) });
}

/**
 * Request limits kept in the database (login, links, exports), so they survive restarts and hold across
 * every process on one database. Clients are keyed by a keyed hash of their address (an IPv6 client by
 * its /56 block), never the address itself. Past the limit: 429 with `Retry-After` and a page that says
 * how long to wait.
 */
export function requestLimits(deps: {
  /** Makes the store that keeps one limit's counters (the database's: limits/limit-store.ts, given by app.ts). */
  store: (name: string) => Store;
  clock: Clock;
  secret: string;
}): LimitPerIp {
  let made = 0;
  return (limit, windowMs, options = {}) => {
    made += 1;
    const name = options.name ?? `limit-${made}-${limit}-${windowMs}`;
    const store = deps.store(name);
    const limiter = rateLimit({
      windowMs,
      limit,
      standardHeaders: 'draft-8',
      legacyHeaders: false,
      store,
      keyGenerator: (req) => keyedHash(deps.secret, 'request-limit', ipKeyGenerator(req.ip ?? 'unknown')),
      handler: (req, res, next) => {
        const resetTime = (req as Request & { rateLimit?: { resetTime?: Date } }).rateLimit?.resetTime;
        const now = deps.clock.now().getTime();
        const seconds = Math.max(1, Math.ceil(((resetTime?.getTime() ?? now + windowMs) - now) / 1000));
        // Retry-After is set by the limiter from the same reset time; the page says it in words.
        res.setHeader('Retry-After', String(seconds));
        next(
          new AppError(429, 'too_many_requests', 'limitsSigning.tooManyRequests', {
            wait: waitText(res.locals.t, seconds),
          }),
        );
      },
    });
    if (options.countRejected !== false) return limiter;
    // A form sent back for a mistake (a 4xx answered in full) is taken off the count once its answer has
    // gone. Not express-rate-limit's skipFailedRequests: it also takes back a request whose client hung
    // up before the answer, so a script that posts and drops the connection was never counted (an e-mail
    // queued every time on the data-access form).
    return (req, res, next) => {
      limiter(req, res, (error?: unknown) => {
        if (error !== undefined) return next(error);
        const key = (req as Request & { rateLimit?: { key?: string } }).rateLimit?.key;
        if (key !== undefined)
          res.once('finish', () => {
            if (res.statusCode >= 400 && res.statusCode < 500 && res.statusCode !== 429)
              void Promise.resolve(store.decrement(key)).catch(() => undefined);
          });
        next();
      });
    };
  };
}
