import { pathParam } from '../http/input.js';
import { Router, type RequestHandler } from 'express';
import type { SignatureService } from './signature-service.js';

export interface SignatureRoutesDeps {
  signatures: SignatureService;
  csrf: { verify: RequestHandler };
  linkLimit: RequestHandler;
}

/**
 * The pages behind the links in e-mails. Opening a link only shows a button; the button POSTs. Mail
 * scanners that follow every link therefore never confirm or withdraw anything.
 */
export function signatureRoutes(deps: SignatureRoutesDeps): Router {
  const router = Router();

  router.get('/signatures/confirm/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'confirm');
    res.render('signatures/confirm', {
      pageTitle: res.locals.t('confirm.title'),
      token: pathParam(req, 'token'),
      status: signature.status,
      letterSlug: letter.slug,
    });
  });

  router.post('/signatures/confirm/:token', deps.linkLimit, deps.csrf.verify, async (req, res) => {
    const outcome = await deps.signatures.confirm(pathParam(req, 'token'));
    const slug = encodeURIComponent(outcome.letter.slug);
    if (outcome.kind === 'confirmed') return res.redirect(303, `/letters/${slug}/thank-you`);
    res.status(409).render('signatures/not-confirmed', {
      pageTitle: res.locals.t('notConfirmed.title'),
      reason: outcome.kind,
      letterSlug: outcome.letter.slug,
    });
  });

  router.get('/signatures/withdraw/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'withdraw');
    res.render('signatures/withdraw', {
      pageTitle: res.locals.t('withdraw.title'),
      token: pathParam(req, 'token'),
      status: signature.status,
      letterSlug: letter.slug,
    });
  });

  router.post('/signatures/withdraw/:token', deps.linkLimit, deps.csrf.verify, async (req, res) => {
    const outcome = await deps.signatures.withdraw(pathParam(req, 'token'));
    res.redirect(303, `/letters/${encodeURIComponent(outcome.letter.slug)}/withdrawn`);
  });

  return router;
}
