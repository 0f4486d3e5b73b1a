import { Router, type RequestHandler } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { idParam } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { isCancellable } from './outbox.js';
import type { QueueService } from './queue-service.js';

export interface QueueRoutesDeps {
  queue: QueueService;
  csrf: { verify: RequestHandler };
}

/** The notices the queue page shows after a step. */
const NOTICES = ['retried', 'cancelled', 'dismissed'];

/** The mail queue page for admins: counts, the oldest waiting message, failures with retry and cancel. */
export function queueRoutes(deps: QueueRoutesDeps): Router {
  const router = Router();
  router.use('/queue', requireAdmin);

  router.get('/queue', async (req, res) => {
    const t = res.locals.t;
    const overview = await deps.queue.overview(currentUser(res));
    res.render('admin/queue', {
      pageTitle: t('queue.title'),
      overview,
      statuses: (['queued', 'sending', 'retrying', 'sent', 'failed', 'cancelled'] as const).map((status) => ({
        status,
        count: overview.counts[status] ?? 0,
      })),
      notice: noticeFrom(req, t, 'queue.notices', NOTICES),
    });
  });

  router.post('/queue/:id/retry', deps.csrf.verify, async (req, res) => {
    await deps.queue.retry(currentUser(res), idParam(req, 'id'));
    redirectWithNotice(res, '/admin/queue', 'retried');
  });

  // Cancelling asks first: the message will never be sent (or, returned after it was sent, leaves the list).
  router.get('/queue/:id/cancel', async (req, res) => {
    const message = await deps.queue.find(currentUser(res), idParam(req, 'id'));
    // Opened again after it was cancelled (or once it went): say so, rather than offer a step that fails.
    const cancellable = isCancellable(message.status);
    const title = !cancellable
      ? 'queue.cancel.gone.title'
      : message.bouncedAt
        ? 'queue.dismiss.title'
        : 'queue.cancel.title';
    res.render('admin/queue-cancel', { pageTitle: res.locals.t(title), message, cancellable });
  });

  router.post('/queue/:id/cancel', deps.csrf.verify, async (req, res) => {
    redirectWithNotice(res, '/admin/queue', await deps.queue.cancel(currentUser(res), idParam(req, 'id')));
  });

  return router;
}
