import { Router } from 'express';
import { notFound } from '../lib/errors.js';
import type { Mailbox } from './mailbox.js';

/**
 * /dev/mailbox: the captured mail, for development and demos. Mounted only outside production.
 * A message's HTML is served on its own URL inside a sandboxed frame with a CSP that forbids scripts.
 */
export function mailboxRoutes(mailbox: Mailbox): Router {
  const router = Router();

  router.get('/dev/mailbox', async (_req, res) => {
    res.render('mailbox/list', { messages: await mailbox.list() });
  });

  router.get('/dev/mailbox/:name', async (req, res) => {
    const message = await mailbox.read(req.params.name);
    if (!message) throw notFound('message_not_found');
    res.render('mailbox/message', { message });
  });

  router.get('/dev/mailbox/:name/html', async (req, res) => {
    const message = await mailbox.read(req.params.name);
    if (!message?.html) throw notFound('message_not_found');
    res
      .set(
        'Content-Security-Policy',
        "sandbox allow-popups allow-popups-to-escape-sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; frame-ancestors 'self'",
      )
      .type('html')
      .send(message.html);
  });

  return router;
}
