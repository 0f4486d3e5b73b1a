import { Router, type RequestHandler } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, idParam } from '../http/input.js';
import { redirectWithNotice } from '../http/notice.js';
import { formatsFor } from '../lib/format.js';
import type { DeliveryService } from './delivery-service.js';
import { deliveryPageView } from './delivery-view.js';
import { escalationValues } from './escalation-input.js';
import type { EscalationService } from './escalation-service.js';
import { escalationPanelView, stepLabel } from './escalation-view.js';

export interface EscalationRoutesDeps {
  escalations: EscalationService;
  deliveries: DeliveryService;
  csrf: { verify: RequestHandler };
}

/** The escalation panel's form on the delivery page, and cancelling a pending step after a confirmation page. */
export function escalationRoutes(deps: EscalationRoutesDeps): Router {
  const router = Router();
  const { escalations } = deps;

  router.post('/letters/:id/delivery/escalation', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const user = currentUser(res);
    const panel = await escalations.panel(user, letterId);
    const values = escalationValues(
      formBody(req.body),
      panel.recipients.map((r) => r.id),
    );
    const outcome = await escalations.save(user, letterId, values);
    if (outcome.kind === 'invalid') {
      const { t, language } = res.locals;
      // The delivery page again, the escalation form as typed with its errors beside the fields.
      return res.status(422).render('admin/delivery', {
        ...deliveryPageView(await deps.deliveries.overview(user, letterId), t, language, { notice: null }),
        escalation: escalationPanelView(outcome.panel, t, language, { values, errors: outcome.errors }),
      });
    }
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'escalationSaved');
  });

  router.get('/letters/:id/delivery/escalation/steps/:step/cancel', async (req, res) => {
    const { letter, step } = await escalations.pendingStep(
      currentUser(res),
      idParam(req, 'id'),
      idParam(req, 'step'),
    );
    const { t, language } = res.locals;
    res.render('admin/escalation-cancel', {
      pageTitle: t('escalation.confirm.title'),
      letter,
      step: stepLabel(t, step),
      due: formatsFor(language).dateTime(step.dueAt),
      action: `/admin/letters/${letter.id}/delivery/escalation/steps/${step.id}/cancel`,
      back: `/admin/letters/${letter.id}/delivery`,
    });
  });

  router.post('/letters/:id/delivery/escalation/steps/:step/cancel', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    await escalations.cancel(currentUser(res), letterId, idParam(req, 'step'));
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'escalationCancelled');
  });

  return router;
}
