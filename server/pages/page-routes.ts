import { Router } from 'express';

/** Static information pages and the health check. */
export function pageRoutes(options: { retentionMonths: number }): Router {
  const router = Router();
  router.get('/privacy', (_req, res) =>
    res.render('pages/privacy', {
      pageTitle: res.locals.t('privacy.title'),
      retentionMonths: options.retentionMonths,
    }),
  );
  router.get('/healthz', (_req, res) => res.json({ status: 'ok' }));
  return router;
}
