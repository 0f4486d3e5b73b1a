import { Router } from 'express';

/** Static information pages and the health check. */
export function pageRoutes(options: {
  retentionMonths: number;
  /** Resolves when the database answers (DatabaseHandle.ping). */
  databaseAnswers: () => Promise<void>;
}): Router {
  const router = Router();
  router.get('/privacy', (_req, res) =>
    res.render('pages/privacy', {
      pageTitle: res.locals.t('privacy.title'),
      retentionMonths: options.retentionMonths,
    }),
  );
  // For load balancers and monitors: 503 while the database does not answer, so traffic goes to a
  // process that can serve it rather than to one that answers every page with an error.
  router.get('/healthz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    try {
      await options.databaseAnswers();
      res.json({ status: 'ok' });
    } catch {
      res.status(503).json({ status: 'unavailable', database: 'no answer' });
    }
  });
  return router;
}
