import { Router, type Request, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { letterPath } from '../letters/text-language.js';
import { AppError } from '../lib/errors.js';
import { refusalOf } from './delivery.js';
import { deliverySettingsValues } from './delivery-input.js';
import type { DeliveryService } from './delivery-service.js';
import type { EscalationService } from './escalation-service.js';
import { escalationPanelView } from './escalation-view.js';
import { deliveryConfirmView, deliveryPageView, requestKey } from './delivery-view.js';
import type { SupporterNewsService } from './supporter-news-service.js';

export interface DeliveryRoutesDeps {
  deliveries: DeliveryService;
  /** The page's escalation panel (escalation-routes.ts posts its form). */
  escalations: EscalationService;
  csrf: { verify: RequestHandler };
}

const NOTICES = [
  'saved',
  'testQueued',
  'deliveryQueued',
  'updateQueued',
  'escalationSaved',
  'escalationCancelled',
] as const;

/** The organizer's delivery page: when the letter goes, test and real deliveries, and the record of each. */
export function deliveryRoutes(deps: DeliveryRoutesDeps): Router {
  const router = Router();
  const { deliveries } = deps;

  router.get('/letters/:id/delivery', async (req, res) => {
    const letterId = idParam(req, 'id');
    const overview = await deliveries.overview(currentUser(res), letterId);
    const { t, language } = res.locals;
    res.render('admin/delivery', {
      ...deliveryPageView(overview, t, language, {
        notice:
          noticeFrom(req, t, 'deliveries.notices', NOTICES) ??
          noticeFrom(req, t, 'errata.notices', ['erratumSent']) ??
          null,
      }),
      escalation: escalationPanelView(await deps.escalations.panel(currentUser(res), letterId), t, language),
    });
  });

  router.post('/letters/:id/delivery/settings', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const values = deliverySettingsValues(formBody(req.body));
    const outcome = await deliveries.saveSettings(currentUser(res), letterId, values);
    if (outcome.kind === 'invalid') {
      const { t, language } = res.locals;
      return res.status(422).render('admin/delivery', {
        ...deliveryPageView(outcome.overview, t, language, {
          form: { values, errors: outcome.errors },
          notice: null,
        }),
        escalation: escalationPanelView(
          await deps.escalations.panel(currentUser(res), letterId),
          t,
          language,
        ),
      });
    }
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'saved');
  });

  router.post('/letters/:id/delivery/test', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deliveries.sendTest(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'request_key') || requestKey(),
    );
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'testQueued');
  });

  // Delivering and sending an update ask first, showing what will go to whom.
  for (const action of ['deliver', 'update'] as const) {
    router.get(`/letters/:id/delivery/${action}`, async (req, res) => {
      const overview = await deliveries.overview(currentUser(res), idParam(req, 'id'));
      res.render(
        'admin/delivery-confirm',
        deliveryConfirmView(overview, action, res.locals.t, res.locals.language),
      );
    });
  }

  /**
   * A delivery refused because this version's delivery started meanwhile (a stale tab, Back after
   * delivering) answers 409 with the asking page as it stands now: what became of the version, its record
   * and the next step, never a second round. Other refusals (no test yet, no recipients), a client asking
   * for JSON, and any other error go to the error handler, whose page says why.
   */
  async function deliveredMeanwhile(error: unknown, req: Request, res: Response): Promise<void> {
    const refused = error instanceof AppError && refusalOf(error.code) !== undefined;
    if (!refused || req.accepts(['html', 'json']) === 'json') throw error;
    const { t, language } = res.locals;
    const overview = await deliveries.overview(currentUser(res), idParam(req, 'id'));
    const view = deliveryConfirmView(overview, 'deliver', t, language);
    if (view.started === null) throw error;
    res.status(409).render('admin/delivery-confirm', view);
  }

  router.post('/letters/:id/delivery/deliver', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    try {
      await deliveries.deliverNow(
        currentUser(res),
        letterId,
        formText(formBody(req.body), 'request_key') || requestKey(),
      );
    } catch (error) {
      return deliveredMeanwhile(error, req, res);
    }
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'deliveryQueued');
  });

  router.post('/letters/:id/delivery/update', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await deliveries.sendUpdate(
      currentUser(res),
      letterId,
      formText(formBody(req.body), 'request_key') || requestKey(),
    );
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'updateQueued');
  });

  return router;
}

/** The one-click unsubscribe behind the links (and List-Unsubscribe headers) of supporters' news. */
export function unsubscribeRoutes(deps: {
  supporterNews: SupporterNewsService;
  linkLimit: RequestHandler;
}): Router {
  const router = Router();

  router.get('/signatures/unsubscribe/:token', deps.linkLimit, async (req, res) => {
    const pageTitle = res.locals.t('unsubscribe.title');
    const token = pathParam(req, 'token');
    if (!(await deps.supporterNews.unsubscribeLinkValid(token)))
      return res.status(404).render('signatures/unsubscribed', { valid: false, letterHref: null, pageTitle });
    // The e-mail's language (?lang=, which sets no cookie) goes with the form, so the answer is in it too.
    const action = withLanguages(`/signatures/unsubscribe/${encodeURIComponent(token)}`, req, res);
    res.render('signatures/unsubscribe', { action, pageTitle });
  });

  // No CSRF token here by design: RFC 8058 mail programs POST "List-Unsubscribe=One-Click" without
  // one. The token in the path authenticates, and the only effect is fewer e-mails.
  router.post('/signatures/unsubscribe/:token', deps.linkLimit, async (req, res) => {
    const pageTitle = res.locals.t('unsubscribe.title');
    const outcome = await deps.supporterNews.unsubscribe(pathParam(req, 'token'));
    if (!outcome)
      return res.status(404).render('signatures/unsubscribed', { valid: false, letterHref: null, pageTitle });
    // Back to the letter in the text the supporter read and the e-mail's interface language.
    const letterHref =
      outcome.letterSlug === ''
        ? null
        : withLanguages(letterPath(outcome.letterSlug), req, res, outcome.textLanguage);
    res.render('signatures/unsubscribed', { valid: true, letterHref, pageTitle });
  });

  return router;
}
