import { createHash, timingSafeEqual } from 'node:crypto';
import { Router, type ErrorRequestHandler, type Request, type RequestHandler } from 'express';
import type { Metrics } from './metrics.js';

/**
 * The label of an answered request: the route pattern that answered it (`/letters/:slug/sign`, with the
 * prefix of the router it sits in), never the address, whose paths carry tokens. Static files are
 * `/assets/*`; anything no route answered (404s, refused bodies) is `unmatched`.
 */
export function routeLabel(req: Pick<Request, 'baseUrl' | 'route'>): string {
  const route = req.route as { path?: unknown } | undefined;
  // Express matches a mount's prefix whatever its case: `/ADMIN/letters` is the same route, one series.
  // The mounts are all literal paths (app.ts), so lower-casing gives the mount as written.
  const base = req.baseUrl.toLowerCase();
  if (route && typeof route.path === 'string') return `${base}${route.path}`;
  if (base === '/assets') return '/assets/*';
  // Answered by the API's own middleware (a preflight, a refused method): one series for all of them.
  if (base === '/api') return '/api/*';
  return 'unmatched';
}

/**
 * For the end of a router mounted under a prefix (`/api`, `/admin`): an error leaving it takes the
 * prefix off `req.baseUrl` before the error page is written, so a 4xx of `/api/v1/letters/:slug` was
 * counted as `/v1/letters/:slug`, a series no dashboard looks at. The label is taken here, inside.
 */
export const keepRouteLabel: ErrorRequestHandler = (error, req, res, next) => {
  res.locals.metricsRoute ??= routeLabel(req);
  next(error);
};

/** Times every request from here to its last byte, for undersigned_http_request_duration_seconds. */
export function requestMetrics(metrics: Metrics): RequestHandler {
  return (req, res, next) => {
    const started = process.hrtime.bigint();
    res.once('finish', () => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const label = res.locals.metricsRoute ?? routeLabel(req);
      metrics.observeRequest(label, req.method, res.statusCode, seconds);
    });
    next();
  };
}

const digest = (value: string) => createHash('sha256').update(value).digest();

/**
 * `GET /metrics` for Prometheus, opened by `Authorization: Bearer <METRICS_TOKEN>`. Without the token,
 * or with a wrong one, it answers as any unknown page does (404), so it does not even say it exists;
 * with no token configured it is not mounted at all. Never cached.
 */
export function metricsRoutes(metrics: Metrics, token: string): Router {
  const router = Router();
  // Both sides hashed to the same length, so the comparison takes the same time however they differ.
  const expected = digest(`Bearer ${token}`);
  router.get('/metrics', async (req, res, next) => {
    const given = req.get('authorization');
    if (given === undefined || !timingSafeEqual(digest(given), expected)) return next();
    const body = await metrics.render();
    res.set('Cache-Control', 'no-store').type(metrics.contentType).send(body);
  });
  return router;
}
