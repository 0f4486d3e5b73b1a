import Handlebars from 'handlebars';
import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { AppError, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { AccessRefusal } from '../audit/access-refusals.js';
import { PolicyRefusal } from '../policy/policy.js';
import { refererOnThisSite } from './auth.js';
import { allowFraming } from './security.js';

interface HttpLikeError {
  status?: unknown;
  statusCode?: unknown;
  type?: unknown;
  expose?: unknown;
}

/** Turns errors from Express's own middleware (body parsing) into the one error shape. */
function toAppError(error: unknown): AppError | undefined {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as HttpLikeError;
  const status =
    typeof e.status === 'number' ? e.status : typeof e.statusCode === 'number' ? e.statusCode : undefined;
  if (status === 413 || e.type === 'entity.too.large')
    return new AppError(413, 'body_too_large', 'errors.bodyTooLarge');
  if (status !== undefined && status >= 400 && status < 500)
    return new AppError(status, 'bad_request', 'errors.badRequest');
  return undefined;
}

const escapeHtml = Handlebars.Utils.escapeExpression;

/** A request to the public API (/api/…): its errors are JSON whatever the client accepts. */
function isApiRequest(req: Request): boolean {
  const path = req.originalUrl.split('?', 1)[0]!;
  return path === '/api' || path.startsWith('/api/');
}

/** The error page without the view engine: what is shown when the error page itself cannot be rendered. */
export function plainErrorPage(language: string, title: string, message: string, home: string): string {
  // Sized for a phone (without the viewport a phone laid it out 980 px wide, its text tiny) and styled by
  // the site's stylesheet, which load shedding never refuses (overload.ts) and browsers keep for a day.
  return `<!doctype html><html lang="${escapeHtml(language)}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>${escapeHtml(title)}</title><link rel="stylesheet" href="/assets/styles.css"></head><body><main class="wrap"><h1>${escapeHtml(title)}</h1><p>${escapeHtml(message)}</p><p><a href="/">${escapeHtml(home)}</a></p></main></body></html>`;
}

/** The signing form's action (pages/letter-page-routes.ts SIGNING_ROUTE; http/ imports no slice). */
const EMBED_SIGNING_PATH = /^\/letters\/[^/]+\/sign$/;

/**
 * Renders an error as the one shape: an HTML page, or JSON for clients that ask for it and for every
 * request under /api. The page renders
 * when other things failed, so it cannot fail in turn: if the view throws (views are strict), the same
 * title and message go out in a plain page, and `onRenderFailure` hears why.
 */
export function renderError(
  req: Request,
  res: Response,
  error: AppError,
  onRenderFailure: (failure: unknown) => void = () => {},
): void {
  const t = res.locals.t;
  const message = t(error.messageKey, error.params);
  res.status(error.status);
  if (isApiRequest(req) || req.accepts(['html', 'json']) === 'json') {
    res.json({ error: { status: error.status, code: error.code, message } });
    return;
  }
  // The embed's signing form posts with ?embed=1 (pages/embed-view.ts): a refusal before the signing
  // reads the letter (the request limit's 429, a body too large or malformed) showed a blank frame on
  // the partner's site. That error page only, for a visitor not logged in (the page then carries no
  // account menu or logout form): it has nothing a framing site could trick anyone into pressing.
  if (
    req.method === 'POST' &&
    req.query.embed === '1' &&
    EMBED_SIGNING_PATH.test(req.path) &&
    res.locals.currentUser === undefined
  )
    allowFraming(res, []);
  // Every status gets a title: its own when the locale has one, else the generic title for its class.
  const title = t(`errors.titles.${error.status}`, {
    defaultValue: t(error.status >= 500 ? 'errors.titles.500' : 'errors.titles.generic'),
  });
  res.render(
    'errors/error',
    {
      status: error.status,
      code: error.code,
      message,
      title,
      pageTitle: title,
      staff: staffWayBack(req, res, error.status),
    },
    (failure: unknown, html?: string) => {
      if (!failure) return res.send(html);
      onRenderFailure(failure);
      res.type('html').send(plainErrorPage(res.locals.language, title, message, t('errors.goHome')));
    },
  );
}

/**
 * Where an error on a staff page leads: back to the page it came from on this site (the import form a
 * file too large was sent from), and to the dashboard. Null elsewhere: the public pages' link home.
 */
function staffWayBack(req: Request, res: Response, status: number): { back: string | null } | null {
  if (res.locals.currentUser === undefined || !/^\/(admin|account)(\/|$)/.test(req.path)) return null;
  const back = refererOnThisSite(req, '');
  // Not the address that failed (a page opened again would fail again), nor the dashboard linked anyway.
  const pointless = back === '' || back === '/admin' || (req.method === 'GET' && back === req.originalUrl);
  if (!pointless) return { back };
  // A step on a letter that its state no longer allows (publishing a published one), opened from a
  // bookmark or the history with no page to go back to: the letter itself is the way on.
  const letter = status === 409 ? /^\/admin\/letters\/(\d+)\//.exec(req.path) : null;
  return { back: letter ? `/admin/letters/${letter[1]}` : null };
}

/** Where policy refusals of signed-in accounts are put on record (audit/access-refusals.ts). */
export interface RefusalRecord {
  record(refusal: AccessRefusal): Promise<unknown>;
}

/** The longest address an entry keeps: a refusal's path is for reading, not a store for whatever was sent. */
const PATH_KEPT = 300;

/**
 * Puts a signed-in account's policy refusal on the audit record, and never fails: the answer is the 403
 * either way. Here, the one place every refusal becomes an answer, rather than in `authorize`: services
 * assert inside their transactions, and an entry written there would be rolled back with the refusal;
 * by the time the error reaches this handler that transaction has ended. Anonymous visitors are not
 * recorded (there is no one to name, and the login redirect answers them).
 */
async function recordRefusal(
  refusals: RefusalRecord,
  logger: Logger,
  req: Request,
  res: Response,
  refusal: PolicyRefusal,
): Promise<void> {
  const user = res.locals.currentUser;
  if (!user) return;
  try {
    await refusals.record({
      user,
      action: refusal.action,
      target: refusal.target,
      method: req.method,
      path: req.originalUrl.split('?', 1)[0]!.slice(0, PATH_KEPT),
    });
  } catch (failure) {
    logger.error({ err: failure, action: refusal.action }, 'a refusal could not be put on the audit record');
  }
}

/**
 * The last middleware: known errors become their page (a signed-in account's policy refusal is put on
 * the audit record first); anything else is logged and shown as a bare 500.
 */
export function errorHandler(logger: Logger, refusals?: RefusalRecord): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const renderFailed = (failure: unknown) =>
      logger.error({ err: failure }, 'the error page failed to render');
    const known = toAppError(error);
    if (known instanceof PolicyRefusal && refusals)
      return void recordRefusal(refusals, logger, req, res, known)
        .then(() => renderError(req, res, known, renderFailed))
        .catch(next);
    if (known) return renderError(req, res, known, renderFailed);
    logger.error({ err: error, method: req.method, path: req.route?.path ?? 'unmatched' }, 'unhandled error');
    try {
      renderError(req, res, new AppError(500, 'internal_error', 'errors.internal'), renderFailed);
    } catch {
      res.status(500).type('text/plain').send('Internal error');
    }
  };
}

/** Any path no route answered. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());
