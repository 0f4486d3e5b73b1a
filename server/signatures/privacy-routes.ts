import { Router, type Request, type RequestHandler, type Response } from 'express';
import { formBody, pathParam, translatedErrors } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import type { PrivacyService } from './privacy-service.js';
import { parseAccessRequest } from './privacy-input.js';

export interface PrivacyRoutesDeps {
  privacy: PrivacyService;
  linkLimit: RequestHandler;
  accessLimit: RequestHandler;
}

/** A supporter's own data: erase it through the link in any e-mail, or ask for a copy of it by e-mail. */
export function privacyRoutes(deps: PrivacyRoutesDeps): Router {
  const router = Router();

  /** An erase link's page: its button, "already erased", or the invalid link (404) with a way on. */
  const renderErase = (req: Request, res: Response, state: 'valid' | 'erased' | 'invalid') => {
    // The e-mail's language (?lang=, which sets no cookie) goes with the form, so the answer is in it too.
    res.status(state === 'invalid' ? 404 : 200).render('privacy/erase', {
      pageTitle: res.locals.t('erase.title'),
      action: withLanguages(`/privacy/erase/${encodeURIComponent(pathParam(req, 'token'))}`, req, res),
      valid: state === 'valid',
      erased: state === 'erased',
      accessHref: withLanguages('/privacy/access', req, res),
    });
  };

  router.get('/privacy/erase/:token', deps.linkLimit, async (req, res) => {
    renderErase(req, res, await deps.privacy.eraseLinkState(pathParam(req, 'token')));
  });

  router.post('/privacy/erase/:token', deps.linkLimit, async (req, res) => {
    const result = await deps.privacy.eraseByToken(pathParam(req, 'token'));
    if (!result) return renderErase(req, res, 'invalid');
    res.render('privacy/erased', { pageTitle: res.locals.t('erase.title') });
  });

  router.get('/privacy/access', (_req, res) =>
    res.render('privacy/access', {
      pageTitle: res.locals.t('access.title'),
      values: { email: '' },
      errors: {},
      errorList: [],
    }),
  );

  router.post('/privacy/access', deps.accessLimit, async (req, res) => {
    // The language switcher on the answer goes back to the form.
    res.locals.formPage = '/privacy/access';
    const form = parseAccessRequest(formBody(req.body));
    if (!form.ok)
      return res.status(422).render('privacy/access', {
        pageTitle: res.locals.t('access.title'),
        values: form.values,
        ...translatedErrors(res.locals.t, form.errors),
      });
    await deps.privacy.requestAccess(form.email);
    // The same answer whether anything is held or not: the page must not tell who has signed.
    res.render('privacy/access-sent', { pageTitle: res.locals.t('access.title') });
  });

  return router;
}
