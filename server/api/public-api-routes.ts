import { createHash } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { apiLanguage } from '../http/language.js';
import { pathParam } from '../http/input.js';
import { AppError, notFound } from '../lib/errors.js';
import type { i18n } from '../lib/i18n.js';
import { PUBLIC_CACHE_CONTROL } from '../pages/page-cache.js';
import { openApiDocument } from './openapi.js';
import { keepRouteLabel } from '../metrics/metrics-routes.js';
import {
  ApiUrls,
  consistencyResource,
  letterListResource,
  letterResource,
  parseLetterQuery,
  parseConsistencyQuery,
  parseListQuery,
  parseRoundParam,
  parseSignaturesQuery,
  plausibleSlug,
  preferredLanguages,
  signaturesResource,
} from './public-api.js';
import type { PublicApiService } from './public-api-service.js';

export interface PublicApiRoutesDeps {
  api: PublicApiService;
  i18n: i18n;
  publicUrl: string;
  /** The request limit per client address (app.ts's limitPerIp, kept in the database). */
  limit: RequestHandler;
}

/** The OpenAPI document changes only with a new release: browsers and caches may keep it a while. */
const DOCUMENT_CACHE_CONTROL = 'public, max-age=300';

/** How many serialised answers one document keeps (its languages, each asked for in a few ways). */
const MAX_VARIANTS = 32;

/** One answer, serialised once per document and language, with its ETag. */
interface Serialised {
  body: Buffer;
  etag: string;
}

function serialise(value: unknown): Serialised {
  const body = Buffer.from(JSON.stringify(value));
  return { body, etag: `"${createHash('sha1').update(body).digest('base64url')}"` };
}

/**
 * Headers every answer under /api carries, errors included: readable from any site (no credentials: the
 * API reads no cookie and sets none), never run as a page, never framed.
 */
function apiHeaders(res: Response): void {
  res.set({
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'ETag, Retry-After, RateLimit, RateLimit-Policy',
    'Cross-Origin-Resource-Policy': 'cross-origin',
    'X-Content-Type-Options': 'nosniff',
    'Content-Security-Policy': "default-src 'none'; frame-ancestors 'none'",
    'Referrer-Policy': 'no-referrer',
    // Errors and anything not said otherwise: kept by no one.
    'Cache-Control': 'no-store',
  });
  // The answers' text language and error messages follow Accept-Language; the address holds ?lang=.
  res.vary('Accept-Language');
}

/** Writes a cacheable answer: 304 when the client's copy is this one (Express's res.send checks req.fresh). */
function send(res: Response, answer: Serialised, type: string, cacheControl = PUBLIC_CACHE_CONTROL): void {
  res.status(200).set({ 'Content-Type': type, ETag: answer.etag, 'Cache-Control': cacheControl });
  res.send(answer.body);
}

const HAL = 'application/hal+json; charset=utf-8';

/**
 * The public read API (issue 14 item 4): JSON, no key, CORS open, cached per count epoch, limited per
 * client address. Mounted before every page route; it needs no cookie, session or body. Every answer,
 * errors included, is JSON (http/errors.ts renders /api paths so).
 */
export function publicApiRoutes(deps: PublicApiRoutesDeps): Router {
  const urls = new ApiUrls(deps.publicUrl);
  // Each document read in an epoch is serialised once per language asked for, not per request.
  const serialised = new WeakMap<object, Map<string, Serialised>>();
  const variant = (doc: object, key: string, make: () => unknown): Serialised => {
    let variants = serialised.get(doc);
    if (!variants) serialised.set(doc, (variants = new Map()));
    let answer = variants.get(key);
    if (!answer) {
      answer = serialise(make());
      // Keys hold the languages asked for: made-up Accept-Language headers must not grow one document's set.
      if (variants.size < MAX_VARIANTS) variants.set(key, answer);
    }
    return answer;
  };
  const document = serialise(openApiDocument(deps.publicUrl));

  const api = Router();
  // Error messages in the interface language asked for (?lang=, Accept-Language); no cookie is read.
  api.use(apiLanguage(deps.i18n));
  api.use((req, res, next) => {
    apiHeaders(res);
    if (req.method === 'OPTIONS') {
      // A preflight: any site may read with GET, with the headers a conditional, translated read sends.
      res.set({
        'Access-Control-Allow-Methods': 'GET, HEAD, OPTIONS',
        'Access-Control-Allow-Headers': 'Accept, Accept-Language, If-None-Match, Cache-Control',
        'Access-Control-Max-Age': '86400',
      });
      res.status(204).end();
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.set('Allow', 'GET, HEAD, OPTIONS');
      return next(new AppError(405, 'method_not_allowed', 'api.errors.methodNotAllowed'));
    }
    next();
  });
  api.use(deps.limit);

  api.get('/openapi.json', (_req, res) =>
    send(res, document, 'application/json; charset=utf-8', DOCUMENT_CACHE_CONTROL),
  );

  api.get('/v1/letters', async (req, res) => {
    const query = parseListQuery(req.query);
    const preferred = preferredLanguages(query.lang, req.get('accept-language'));
    const doc = await deps.api.list(query.page, query.perPage);
    send(
      res,
      variant(doc, `${query.page}|${query.perPage}|${query.lang ?? ''}|${preferred.join(',')}`, () =>
        letterListResource(doc, query, preferred, urls),
      ),
      HAL,
    );
  });

  api.get('/v1/letters/:slug', async (req, res) => {
    const slug = letterSlug(req);
    const { lang } = parseLetterQuery(req.query);
    const preferred = preferredLanguages(lang, req.get('accept-language'));
    const doc = await deps.api.letter(slug);
    const answer = variant(doc, `${lang ?? ''}|${preferred.join(',')}`, () =>
      letterResource(doc, preferred, lang, urls),
    );
    send(res, answer, HAL);
  });

  api.get('/v1/letters/:slug/signatures', async (req, res) => {
    const slug = letterSlug(req);
    const query = parseSignaturesQuery(req.query);
    const doc = await deps.api.signatures(slug, query.cursor, query.perPage);
    send(
      res,
      variant(doc, '', () => signaturesResource(doc, query, urls)),
      HAL,
    );
  });

  api.get('/v1/letters/:slug/commitments/:round/consistency', async (req, res) => {
    const slug = letterSlug(req);
    const to = parseRoundParam(pathParam(req, 'round'));
    const { from } = parseConsistencyQuery(req.query);
    const answer = await deps.api.consistency(slug, from, to);
    send(res, serialise(consistencyResource(answer)), 'application/json; charset=utf-8');
  });

  // Anything else under /api is a JSON 404, never the site's HTML page.
  api.use((_req, _res, next) => next(notFound('api_not_found', 'api.errors.notFound')));
  api.use(keepRouteLabel);

  const router = Router();
  router.use('/api', api);
  return router;
}

/** The slug in the path; one no letter could have (unicode, dots, too long) is a 404 read from nowhere. */
function letterSlug(req: Request): string {
  const slug = pathParam(req, 'slug');
  if (!plausibleSlug(slug)) throw notFound('letter_not_found', 'errors.letter.notFound');
  return slug;
}
