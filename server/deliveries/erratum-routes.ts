import { Router, type RequestHandler } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam } from '../http/input.js';
import { redirectWithNotice } from '../http/notice.js';
import type { ErratumService } from './erratum-service.js';
import { erratumConfirmView, erratumPath } from './erratum-view.js';
import { requestKey } from './delivery-view.js';

export interface ErratumRoutesDeps {
  errata: ErratumService;
  csrf: { verify: RequestHandler };
}

/** The form's request key when it has the shape requestKey() makes; a fresh one otherwise. */
function keyOf(value: string): string {
  return /^[A-Za-z0-9_-]{8,64}$/.test(value) ? value : requestKey();
}

/** A delivered list's correction: asked on a confirmation page, then sent (admin paths). */
export function erratumRoutes(deps: ErratumRoutesDeps): Router {
  const router = Router();

  router.get('/letters/:id/delivery/rounds/:round/erratum', async (req, res) => {
    const preview = await deps.errata.preview(currentUser(res), idParam(req, 'id'), idParam(req, 'round'));
    res.render(
      'admin/delivery-erratum',
      erratumConfirmView(preview, res.locals.t, res.locals.language, requestKey()),
    );
  });

  router.post('/letters/:id/delivery/rounds/:round/erratum', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const roundId = idParam(req, 'round');
    const body = formBody(req.body);
    const confirmedRoot = formText(body, 'root');
    // Only the confirmation page's form says which list it showed: without it, nothing is sent, and the
    // organizer is shown that page first.
    if (!/^[0-9a-f]{64}$/.test(confirmedRoot)) {
      // Read first, so a letter or round the account may not reach answers 403/404 as the page would.
      await deps.errata.preview(currentUser(res), letterId, roundId);
      return res.redirect(303, erratumPath(letterId, roundId));
    }
    await deps.errata.send(currentUser(res), letterId, roundId, {
      requestKey: keyOf(formText(body, 'request_key')),
      confirmedRoot,
    });
    redirectWithNotice(res, `/admin/letters/${letterId}/delivery`, 'erratumSent');
  });

  return router;
}
