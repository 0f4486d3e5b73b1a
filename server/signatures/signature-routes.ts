import { Router, type RequestHandler } from 'express';
import { pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { addressText, letterPath } from '../letters/text-language.js';
import type { SignatureService } from './signature-service.js';
import { statusShown } from './signature.js';

export interface SignatureRoutesDeps {
  signatures: SignatureService;
  linkLimit: RequestHandler;
  /** RETENTION_MONTHS: how long after its letter closes a signature's details are kept. */
  retentionMonths: number;
}

/**
 * The pages behind the links in e-mails. Opening a link only shows a button; the button POSTs. Mail
 * scanners that follow every link therefore never confirm or withdraw anything. Every link and redirect
 * keeps the letter in the language the supporter read it in (the address's `?text=`, else their
 * signature's) and the interface language the e-mail chose (`?lang=`, which sets no cookie).
 */
export function signatureRoutes(deps: SignatureRoutesDeps): Router {
  const router = Router();

  router.get('/signatures/confirm/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'confirm');
    // An older link without ?text=: the signature says which text was read.
    const text = addressText(req.query) ?? signature.language;
    res.render('signatures/confirm', {
      pageTitle: res.locals.t('confirm.title'),
      about: await deps.signatures.describe(signature, letter, text),
      status: statusShown(signature),
      action: withLanguages(
        `/signatures/confirm/${encodeURIComponent(pathParam(req, 'token'))}`,
        req,
        res,
        text,
      ),
      letterHref: withLanguages(letterPath(letter.slug), req, res, text),
    });
  });

  router.post('/signatures/confirm/:token', deps.linkLimit, async (req, res) => {
    const outcome = await deps.signatures.confirm(pathParam(req, 'token'));
    // The form's address carries the text the supporter read when it is not the interface's (the GET above).
    const text = addressText(req.query);
    if (outcome.kind === 'confirmed')
      return res.redirect(303, withLanguages(letterPath(outcome.letter.slug, '/thank-you'), req, res, text));
    res.status(409).render('signatures/not-confirmed', {
      pageTitle: res.locals.t('notConfirmed.title'),
      reason: outcome.kind,
      letterHref: withLanguages(letterPath(outcome.letter.slug), req, res, text),
    });
  });

  router.get('/signatures/withdraw/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'withdraw');
    const text = addressText(req.query) ?? signature.language;
    res.render('signatures/withdraw', {
      pageTitle: res.locals.t('withdraw.title'),
      about: await deps.signatures.describe(signature, letter, text),
      status: signature.status,
      // Erased already: no name to take off, nothing left to erase; withdrawing only stops the count.
      erased: signature.anonymised,
      action: withLanguages(
        `/signatures/withdraw/${encodeURIComponent(pathParam(req, 'token'))}`,
        req,
        res,
        text,
      ),
      letterHref: withLanguages(letterPath(letter.slug), req, res, text),
      // The page's own interface language only: the erase page shows no letter.
      eraseHref: withLanguages(deps.signatures.erasePathOf(signature), req, res),
      retentionMonths: deps.retentionMonths,
    });
  });

  router.post('/signatures/withdraw/:token', deps.linkLimit, async (req, res) => {
    const outcome = await deps.signatures.withdraw(pathParam(req, 'token'));
    res.redirect(
      303,
      withLanguages(letterPath(outcome.letter.slug, '/withdrawn'), req, res, addressText(req.query)),
    );
  });

  return router;
}
