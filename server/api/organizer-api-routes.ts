import { Router, type ErrorRequestHandler, type RequestHandler } from 'express';
import type { ExportService } from '../exports/export-service.js';
import { ORGANIZER_COLUMNS, parseExportRequest } from '../exports/export.js';
import { streamExport } from '../exports/export-stream.js';
import { apiLanguage } from '../http/language.js';
import type { i18n } from '../lib/i18n.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { bearerToken } from './token.js';
import type { ApiTokenService } from './token-service.js';

export interface OrganizerApiDeps {
  tokens: ApiTokenService;
  /** Error messages in the language asked for (?lang=, Accept-Language): mounted before the pages' own. */
  i18n: i18n;
  exports: ExportService;
  logger: Logger;
  /** Requests per client address (the platform's limit in the database). */
  limit: RequestHandler;
}

const strings = (value: unknown): string[] =>
  typeof value === 'string'
    ? [value]
    : Array.isArray(value)
      ? value.filter((v) => typeof v === 'string')
      : [];
const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/**
 * The organizer API: `GET /api/v1/organizer/letters/{slug}/signatures` with `Authorization: Bearer
 * <token>`, answered as JSON Lines (one signature a line, streamed). Filters as the export form's:
 * `status` (repeatable; confirmed by default), `country`, `from`, `to` (UTC days), `consent` (yes|no).
 * Errors are always JSON: 401 for a missing, unknown, revoked or expired token, 403 for a letter the
 * token's account may not read, 404 for no such letter, 400 for a bad filter.
 */
export function organizerApiRoutes(deps: OrganizerApiDeps): Router {
  const router = Router();
  // Personal data for one account: never kept by a cache, never read by another site's script (no CORS).
  router.use('/api/v1/organizer', apiLanguage(deps.i18n));
  router.use('/api/v1/organizer', (_req, res, next) => {
    res.set({ 'Cache-Control': 'no-store', 'X-Content-Type-Options': 'nosniff' });
    next();
  });

  router.get('/api/v1/organizer/letters/:slug/signatures', deps.limit, async (req, res) => {
    const user = await deps.tokens.authenticate(bearerToken(req.get('authorization')));
    const query = req.query as Record<string, unknown>;
    const parsed = parseExportRequest({
      letter: text(req.params.slug),
      statuses: strings(query.status),
      country: text(query.country),
      from: text(query.from),
      to: text(query.to),
      consent: text(query.consent),
      columns: [...ORGANIZER_COLUMNS],
      format: 'jsonl',
    });
    if (!parsed.ok)
      throw new AppError(400, 'invalid_filter', 'webhooks.api.invalidFilter', {
        fields: Object.keys(parsed.errors).join(', '),
      });
    const request = { ...parsed.request, addresses: 'consented' as const };
    await streamExport(res, deps.exports, request, user, {
      attachment: false,
      context: { via: 'api-token' },
    });
  });

  // Always JSON here, whatever the client accepts: this is an API, not a page.
  const jsonErrors: ErrorRequestHandler = (error, _req, res, next) => {
    if (res.headersSent) return next(error);
    const known = error instanceof AppError ? error : undefined;
    if (!known) deps.logger.error({ err: error }, 'organizer API: unhandled error');
    const status = known?.status ?? 500;
    const code = known?.code ?? 'internal_error';
    const message = res.locals.t(known?.messageKey ?? 'errors.internal', known?.params ?? {});
    if (status === 401) res.set('WWW-Authenticate', 'Bearer realm="organizer-api"');
    res.status(status).set('Cache-Control', 'no-store').json({ error: { status, code, message } });
  };
  router.use('/api/v1/organizer', jsonErrors);
  return router;
}
