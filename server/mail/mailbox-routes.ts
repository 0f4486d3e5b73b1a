import { Router } from 'express';
import { currentUser } from '../http/auth.js';
import { idParam, pathParam } from '../http/input.js';
import { attachmentDelivery } from './mailbox.js';
import type { MailboxReader } from './mailbox-reader.js';

/** The preview frame's permissions: forms and links may open a new tab or, on a click, the whole window; never script. */
export const PREVIEW_SANDBOX =
  'allow-forms allow-popups allow-popups-to-escape-sandbox allow-top-navigation-by-user-activation';

/**
 * /admin/mailbox: the captured mail, for admins, whenever mail is captured (SMTP_URL unset). Mounted
 * behind the login; the reader asserts that the account is an admin.
 *
 * A message's HTML is served on its own URL, shown in a sandboxed frame, under a CSP that forbids
 * scripts and lets its forms post only to the platform (PUBLIC_URL, and this origin when they differ).
 */
export function mailboxRoutes(mailbox: MailboxReader, options: { publicUrl: string }): Router {
  const router = Router();
  const publicOrigin = new URL(options.publicUrl).origin;
  const previewPolicy = [
    `sandbox ${PREVIEW_SANDBOX}`,
    "default-src 'none'",
    "style-src 'unsafe-inline'",
    'img-src data:',
    `form-action ${publicOrigin} 'self'`,
    "frame-ancestors 'self'",
  ].join('; ');

  router.get('/mailbox', async (_req, res) => {
    res.render('mailbox/list', {
      pageTitle: res.locals.t('mailbox.title'),
      messages: await mailbox.list(currentUser(res)),
    });
  });

  router.get('/mailbox/:name', async (req, res) => {
    const message = await mailbox.message(currentUser(res), pathParam(req, 'name'));
    res.render('mailbox/message', { message, pageTitle: message.subject, sandbox: PREVIEW_SANDBOX });
  });

  router.get('/mailbox/:name/html', async (req, res) => {
    const html = await mailbox.preview(currentUser(res), pathParam(req, 'name'));
    res.set('Content-Security-Policy', previewPolicy).type('html').send(html);
  });

  router.get('/mailbox/:name/attachments/:number', async (req, res) => {
    const file = await mailbox.attachment(currentUser(res), pathParam(req, 'name'), idParam(req, 'number'));
    const delivery = attachmentDelivery(file.contentType);
    // res.attachment encodes any file name safely (RFC 6266); a PDF is then marked to open in the browser.
    res.attachment(file.filename);
    if (delivery.inline)
      res.set('Content-Disposition', res.get('Content-Disposition')!.replace(/^attachment/, 'inline'));
    res.set('Content-Type', delivery.contentType).set('X-Content-Type-Options', 'nosniff').send(file.content);
  });

  return router;
}

/** The viewer's old address: it now lives behind the admin login. */
export function oldMailboxRedirect(): Router {
  const router = Router();
  router.get(['/dev/mailbox', '/dev/mailbox/*rest'], (req, res) => {
    const rest = (req.params as { rest?: string[] }).rest ?? [];
    res.redirect(302, ['/admin/mailbox', ...rest.map((part) => encodeURIComponent(part))].join('/'));
  });
  return router;
}
