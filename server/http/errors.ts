import type { ErrorRequestHandler, Request, RequestHandler, Response } from 'express';
import { AppError, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';

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

/** Renders an error as the one shape: an HTML page, or JSON for clients that ask for it. */
export function renderError(req: Request, res: Response, error: AppError): void {
  const t = res.locals.t;
  const message = t(error.messageKey, error.params);
  res.status(error.status);
  if (req.accepts(['html', 'json']) === 'json') {
    res.json({ error: { status: error.status, code: error.code, message } });
    return;
  }
  // Every status gets a title: its own when the locale has one, else the generic title for its class.
  const title = t(`errors.titles.${error.status}`, {
    defaultValue: t(error.status >= 500 ? 'errors.titles.500' : 'errors.titles.generic'),
  });
  res.render('errors/error', { status: error.status, code: error.code, message, title, pageTitle: title });
}

/** The last middleware: known errors become their page; anything else is logged and shown as a bare 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error, req, res, next) => {
    if (res.headersSent) return next(error);
    const known = toAppError(error);
    if (known) return renderError(req, res, known);
    logger.error({ err: error, method: req.method, path: req.route?.path ?? 'unmatched' }, 'unhandled error');
    try {
      renderError(req, res, new AppError(500, 'internal_error', 'errors.internal'));
    } catch {
      res.status(500).type('text/plain').send('Internal error');
    }
  };
}

/** Any path no route answered. */
export const notFoundHandler: RequestHandler = (_req, _res, next) => next(notFound());
