import { Router, type RequestHandler, type Response } from 'express';
import { currentUser, requireAdmin } from '../http/auth.js';
import { idParam } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { AppError } from '../lib/errors.js';
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

  /** The cancel question, or, for a message that went or was cancelled meanwhile, the page saying so. */
  async function renderCancel(res: Response, id: number, status = 200) {
    const message = await deps.queue.find(currentUser(res), id);
    // Opened again after it was cancelled (or once it went): say so, rather than offer a step that fails.
    const cancellable = isCancellable(message.status);
    const title = !cancellable
      ? 'queue.cancel.gone.title'
      : message.bouncedAt
        ? 'queue.dismiss.title'
        : 'queue.cancel.title';
    res.status(status).render('admin/queue-cancel', {
      pageTitle: res.locals.t(title),
      message,
      cancellable,
      // What became of it: a returned message taken off the list was dismissed, not "cancelled, never sent".
      gone: message.bouncedAt ? 'dismissed' : message.status,
    });
  }

  // Cancelling asks first: the message will never be sent (or, returned after it was sent, leaves the list).
  router.get('/queue/:id/cancel', async (req, res) => renderCancel(res, idParam(req, 'id')));

  router.post('/queue/:id/cancel', deps.csrf.verify, async (req, res) => {
    const id = idParam(req, 'id');
    try {
      redirectWithNotice(res, '/admin/queue', await deps.queue.cancel(currentUser(res), id));
    } catch (error) {
      // Cancelled from another tab, or sent meanwhile: the same page as opening the question again.
      if (error instanceof AppError && error.code === 'message_not_cancellable')
        return renderCancel(res, id, error.status);
      throw error;
    }
  });

  return router;
}
