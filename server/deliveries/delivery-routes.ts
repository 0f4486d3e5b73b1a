import { randomBytes } from 'node:crypto';
import { Router, type Request, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, pathParam, translatedErrors } from '../http/input.js';
import { DELIVERY_MODES } from './delivery.js';
import { deliverySettingsValues, type DeliverySettingsValues } from './delivery-input.js';
import type { DeliveryOverview, DeliveryService } from './delivery-service.js';
import { languageName } from '../lib/languages.js';

export interface DeliveryRoutesDeps {
  deliveries: DeliveryService;
  csrf: { verify: RequestHandler };
}

const NOTICES = ['saved', 'testQueued', 'deliveryQueued', 'updateQueued'] as const;

/** A fresh key for a form that starts a round: submitting it twice makes one round. */
function requestKey(): string {
  return randomBytes(16).toString('base64url');
}

function renderPage(
  req: Request,
  res: Response,
  overview: DeliveryOverview,
  form?: { values: DeliverySettingsValues; errors: Record<string, string> },
  status = 200,
) {
  const t = res.locals.t;
  const ui = res.locals.language;
  const { letter } = overview;
  const values = form?.values ?? {
    mode: letter.deliveryMode,
    milestoneEvery: letter.milestoneEvery ? String(letter.milestoneEvery) : '',
    deliverAt: letter.deliverAt ? letter.deliverAt.toISOString().slice(0, 16) : '',
    replyTo: letter.replyTo,
  };
  const done = req.query.done;
  res.status(status).render('admin/delivery', {
    titleText: t('deliveries.title'),
    overview,
    letter,
    values,
    ...translatedErrors(t, form?.errors ?? {}),
    modes: DELIVERY_MODES.map((mode) => ({
      mode,
      checked: mode === values.mode,
      label: t(`deliveries.modes.${mode}`),
    })),
    notice:
      typeof done === 'string' && (NOTICES as readonly string[]).includes(done)
        ? t(`deliveries.notices.${done}`)
        : undefined,
    requestKey: requestKey(),
    canDeliver:
      overview.tested && (letter.status === 'open' || letter.status === 'closed') && !overview.delivered,
    canUpdate: overview.rounds.some((r) => r.round.kind !== 'test'),
    recipients: overview.recipients.map((r) => ({ ...r, languageLabel: languageName(r.language, ui) })),
    rounds: overview.rounds.map((view) => ({
      ...view,
      kindLabel: t(`deliveries.kinds.${view.round.kind}`),
      triggerLabel: t(`deliveries.triggers.${view.round.trigger}`),
      // Why a round failed before anything was queued (a letter over the size budget), and what to do.
      failure: view.round.failure
        ? t(`limits.roundFailure.${view.round.failure.code}`, view.round.failure.params)
        : '',
      records: view.records.map((r) => ({
        ...r,
        statusLabel: t(`deliveries.statuses.${r.bouncedAt ? 'bounced' : r.status}`),
      })),
    })),
  });
}

/** The organizer's delivery page: when the letter goes, test and real deliveries, and the record of each. */
export function deliveryRoutes(deps: DeliveryRoutesDeps): Router {
  const router = Router();
  const { deliveries } = deps;

  router.get('/letters/:id/delivery', async (req, res) => {
    renderPage(req, res, await deliveries.overview(currentUser(res), idParam(req, 'id')));
  });

  router.post('/letters/:id/delivery/settings', deps.csrf.verify, async (req, res) => {
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const values = deliverySettingsValues(formBody(req.body));
    const outcome = await deliveries.saveSettings(user, letterId, values);
    if (outcome.kind === 'invalid') {
      return renderPage(
        req,
        res,
        await deliveries.overview(user, letterId),
        { values, errors: outcome.errors },
        422,
      );
    }
    res.redirect(303, `/admin/letters/${letterId}/delivery?done=saved`);
  });

  router.post('/letters/:id/delivery/test', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deliveries.sendTest(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'request_key') || requestKey(),
    );
    res.redirect(303, `/admin/letters/${letterId}/delivery?done=testQueued`);
  });

  // Delivering and sending an update ask first, showing what will go to whom.
  for (const action of ['deliver', 'update'] as const) {
    router.get(`/letters/:id/delivery/${action}`, async (req, res) => {
      const overview = await deliveries.overview(currentUser(res), idParam(req, 'id'));
      const ui = res.locals.language;
      res.render('admin/delivery-confirm', {
        titleKey: `deliveries.confirm.${action}Title`,
        action,
        overview,
        letter: overview.letter,
        recipients: overview.recipients.map((r) => ({ ...r, languageLabel: languageName(r.language, ui) })),
        requestKey: requestKey(),
      });
    });
  }

  router.post('/letters/:id/delivery/deliver', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deliveries.deliverNow(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'request_key') || requestKey(),
    );
    res.redirect(303, `/admin/letters/${letterId}/delivery?done=deliveryQueued`);
  });

  router.post('/letters/:id/delivery/update', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deliveries.sendUpdate(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'request_key') || requestKey(),
    );
    res.redirect(303, `/admin/letters/${letterId}/delivery?done=updateQueued`);
  });

  return router;
}

/** The one-click unsubscribe behind the links (and List-Unsubscribe headers) of supporters' news. */
export function unsubscribeRoutes(deps: { deliveries: DeliveryService; linkLimit: RequestHandler }): Router {
  const router = Router();

  router.get('/signatures/unsubscribe/:token', deps.linkLimit, async (req, res) => {
    if (!(await deps.deliveries.unsubscribeLinkValid(pathParam(req, 'token')))) {
      return res
        .status(404)
        .render('signatures/unsubscribed', { valid: false, titleKey: 'unsubscribe.title' });
    }
    res.render('signatures/unsubscribe', { token: pathParam(req, 'token'), titleKey: 'unsubscribe.title' });
  });

  // No CSRF token here by design: RFC 8058 mail programs POST "List-Unsubscribe=One-Click" without
  // one. The token in the path authenticates, and the only effect is fewer e-mails.
  router.post('/signatures/unsubscribe/:token', deps.linkLimit, async (req, res) => {
    const outcome = await deps.deliveries.unsubscribe(pathParam(req, 'token'));
    if (!outcome)
      return res
        .status(404)
        .render('signatures/unsubscribed', { valid: false, titleKey: 'unsubscribe.title' });
    res.render('signatures/unsubscribed', {
      valid: true,
      letterSlug: outcome.letterSlug,
      titleKey: 'unsubscribe.title',
    });
  });

  return router;
}
