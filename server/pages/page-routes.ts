import { Router } from 'express';

/** Static information pages and the health check. */
export function pageRoutes(): Router {
  const router = Router();
  router.get('/privacy', (_req, res) => res.render('pages/privacy', {}));
  router.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  return router;
}
