import { randomBytes } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { doubleCsrf } from 'csrf-csrf';
import helmet from 'helmet';
import { rateLimit } from 'express-rate-limit';
import { AppError } from '../lib/errors.js';

/** Security headers: a strict CSP (no inline script or style), no framing, no referrer leaks to other sites. */
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

const SESSION_COOKIE = 'us_visitor';

/**
 * CSRF protection for every form (double-submit cookie, HMAC-bound to a per-browser identifier).
 * Supporters have no account, so the identifier is a random, HttpOnly, SameSite cookie that lives for
 * the browser session and carries nothing else.
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

/** Limits how often one address may do something (per IP, in memory: one process per deployment). */
export function limitPerIp(
  limit: number,
  windowMs: number,
  options: { countRejected?: boolean } = {},
): RequestHandler {
  return rateLimit({
    windowMs,
    limit,
    // A form sent back with errors (4xx) writes nothing, so a supporter fixing typos is not counted.
    skipFailedRequests: options.countRejected === false,
    standardHeaders: 'draft-8',
    legacyHeaders: false,
    handler: (_req, _res, next) => next(new AppError(429, 'too_many_requests', 'errors.tooManyRequests')),
  });
}
