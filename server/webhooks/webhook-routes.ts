import { Router, type RequestHandler, type Response } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, translatedErrors } from '../http/input.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { parseEndpointForm, WEBHOOK_EVENTS, type WebhookEndpoint } from './webhook.js';
import { UrlRefused, type WebhookService } from './webhook-service.js';

export interface WebhookRoutesDeps {
  webhooks: WebhookService;
  csrf: { verify: RequestHandler };
}

/** The steps an endpoint's page offers, each asked for on a confirmation page first. */
const STEPS = ['disable', 'enable', 'rotate', 'delete'] as const;
type Step = (typeof STEPS)[number];

type T = Response['locals']['t'];

const endpointView = (t: T, letterId: number, endpoint: WebhookEndpoint) => ({
  ...endpoint,
  href: `/admin/letters/${letterId}/webhooks/${endpoint.id}`,
  stateLabel: t(endpoint.enabled ? 'webhooks.endpoints.enabled' : 'webhooks.endpoints.disabled'),
  eventList: endpoint.events.join(', '),
});

async function renderList(
  res: Response,
  deps: WebhookRoutesDeps,
  letterId: number,
  form: { url: string; events: string[] },
  errors: Record<string, string> = {},
  extra: { notice?: string | undefined; created?: { secret: string; url: string } } = {},
  status = 200,
): Promise<void> {
  const t = res.locals.t;
  const { letter, endpoints } = await deps.webhooks.list(currentUser(res), letterId);
  res.status(status).render('admin/webhooks', {
    pageTitle: t('webhooks.endpoints.title'),
    letter,
    endpoints: endpoints.map((e) => endpointView(t, letter.id, e)),
    form,
    events: WEBHOOK_EVENTS.map((event) => ({
      event,
      checked: form.events.includes(event),
      label: t(`webhooks.events.${event.replace('.', '-')}`),
    })),
    ...translatedErrors(t, errors),
    ...extra,
  });
}

/** A letter's webhook endpoints: register (the secret shown once), each one's log, and its steps. */
export function webhookRoutes(deps: WebhookRoutesDeps): Router {
  const router = Router();
  const empty = { url: '', events: [...WEBHOOK_EVENTS] as string[] };

  router.get('/letters/:id/webhooks', async (req, res) =>
    renderList(
      res,
      deps,
      idParam(req, 'id'),
      empty,
      {},
      {
        notice: noticeFrom(req, res.locals.t, 'webhooks.endpoints.done', ['deleted']),
      },
    ),
  );

  router.post('/letters/:id/webhooks', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const parsed = parseEndpointForm(formBody(req.body));
    if (!parsed.ok) return renderList(res, deps, letterId, parsed, parsed.errors, {}, 422);
    try {
      const { secret } = await deps.webhooks.register(currentUser(res), letterId, parsed);
      // Shown in this answer only (no redirect): the secret is never shown again.
      return renderList(res, deps, letterId, empty, {}, { created: { secret, url: parsed.url } }, 201);
    } catch (error) {
      if (error instanceof UrlRefused)
        return renderList(res, deps, letterId, parsed, { url: error.messageKey }, {}, 422);
      throw error;
    }
  });

  router.get('/letters/:id/webhooks/:endpointId', async (req, res) => {
    const t = res.locals.t;
    const before =
      typeof req.query.before === 'string' && /^[1-9]\d{0,9}$/.test(req.query.before)
        ? Number(req.query.before)
        : undefined;
    const detail = await deps.webhooks.detail(
      currentUser(res),
      idParam(req, 'id'),
      idParam(req, 'endpointId'),
      before,
    );
    const endpoint = endpointView(t, detail.letter.id, detail.endpoint);
    res.render('admin/webhooks-endpoint', {
      pageTitle: t('webhooks.endpoint.title'),
      letter: detail.letter,
      endpoint,
      attempts: detail.attempts.map((a) => ({
        ...a,
        outcomeLabel: t(`webhooks.outcomes.${a.outcome}`),
        ok: a.outcome === 'delivered',
      })),
      older: detail.more ? `${endpoint.href}?before=${detail.attempts.at(-1)!.id}` : null,
      counts: ['waiting', 'sending', 'succeeded', 'failed'].map((state) => ({
        label: t(`webhooks.endpoint.states.${state}`),
        count: detail.counts[state] ?? 0,
      })),
      steps: STEPS.filter((step) =>
        step === 'disable' ? endpoint.enabled : step === 'enable' ? !endpoint.enabled : true,
      ).map((step) => ({ step, label: t(`webhooks.steps.${step}.link`), href: `${endpoint.href}/${step}` })),
      notice: noticeFrom(req, t, 'webhooks.endpoints.done', ['disabled', 'enabled']),
    });
  });

  const stepParam = (value: unknown): Step | undefined => STEPS.find((step) => step === value);

  router.get('/letters/:id/webhooks/:endpointId/:step', async (req, res, next) => {
    const step = stepParam(req.params.step);
    if (!step) return next();
    const t = res.locals.t;
    const detail = await deps.webhooks.forStep(
      currentUser(res),
      idParam(req, 'id'),
      idParam(req, 'endpointId'),
    );
    res.render('admin/webhooks-confirm', {
      pageTitle: t(`webhooks.steps.${step}.title`),
      letter: detail.letter,
      endpoint: endpointView(t, detail.letter.id, detail.endpoint),
      step,
      explain: t(`webhooks.steps.${step}.explain`, { url: detail.endpoint.url }),
      confirm: t(`webhooks.steps.${step}.confirm`),
      danger: step === 'delete' || step === 'rotate',
      // The secret this page saw: a rotation sent twice rotates once.
      seenMark: step === 'rotate' ? detail.seenMark : '',
    });
  });

  router.post('/letters/:id/webhooks/:endpointId/:step', deps.csrf.verify, async (req, res, next) => {
    const step = stepParam(req.params.step);
    if (!step) return next();
    const user = currentUser(res);
    const letterId = idParam(req, 'id');
    const endpointId = idParam(req, 'endpointId');
    const href = `/admin/letters/${letterId}/webhooks/${endpointId}`;
    if (step === 'delete') {
      await deps.webhooks.remove(user, letterId, endpointId);
      return redirectWithNotice(res, `/admin/letters/${letterId}/webhooks`, 'deleted');
    }
    if (step === 'rotate') {
      const secret = await deps.webhooks.rotate(
        user,
        letterId,
        endpointId,
        formText(formBody(req.body), 'seen'),
      );
      const t = res.locals.t;
      const detail = await deps.webhooks.detail(user, letterId, endpointId);
      return res.render('admin/webhooks-confirm', {
        pageTitle: t('webhooks.steps.rotate.done'),
        letter: detail.letter,
        endpoint: endpointView(t, detail.letter.id, detail.endpoint),
        step,
        secret,
      });
    }
    await deps.webhooks.setEnabled(user, letterId, endpointId, step === 'enable');
    redirectWithNotice(res, href, step === 'enable' ? 'enabled' : 'disabled');
  });

  return router;
}
