import { Router, type Request, type RequestHandler, type Response } from 'express';
import { formBody, formText, pathParam } from '../http/input.js';
import { AppError } from '../lib/errors.js';
import { seeOther } from '../http/see-other.js';
import { withLanguages } from '../http/language.js';
import type { LetterPage, LetterService } from '../letters/letter-service.js';
import { letterPath, requestedTextLanguage } from '../letters/text-language.js';
import { parseSigningForm, signingFormValues } from '../signatures/signature-input.js';
import type { SignatureService } from '../signatures/signature-service.js';
import type { SharingViews } from '../sharing/sharing-views.js';
import { embedPath, renderEmbed } from './embed-view.js';
import { EMPTY_SIGNING_FORM, letterPageView, type SigningFormState } from './letter-page-view.js';

export interface LetterPageRoutesDeps {
  letters: LetterService;
  signatures: SignatureService;
  signLimit: RequestHandler;
  /** The share panel and meta tags (sharing/sharing-views.ts). */
  sharing: SharingViews;
}

/** The signing form's action: app.ts mounts its handlers on the signing lane, ahead of every other route. */
export const SIGNING_ROUTE = '/letters/:slug/sign';

/** The letter page, or the signing form sent back with its errors. */
function renderLetterPage(
  sharing: SharingViews,
  req: Request,
  res: Response,
  page: LetterPage,
  form: SigningFormState,
  status = 200,
): void {
  const { t, language } = res.locals;
  res
    .status(status)
    .render('letters/letter', letterPageView(page, { t, language, query: req.query, sharing }, form));
}

/**
 * The public letter page. It lives in pages/ because it composes slices: the letter (letters/), the
 * signing form and its outcome (signatures/).
 */
export function letterPageRoutes(deps: Pick<LetterPageRoutesDeps, 'letters' | 'sharing'>): Router {
  const router = Router();
  router.get('/letters/:slug', async (req, res) => {
    const page = await deps.letters.page(
      pathParam(req, 'slug'),
      requestedTextLanguage(req.query, res.locals.language),
    );
    renderLetterPage(deps.sharing, req, res, page, { values: EMPTY_SIGNING_FORM, errors: {} });
  });
  // The form's action is the address bar's after a refused signing: reopened (a restored tab, a bookmark,
  // the address copied), it leads to the form on the letter's page rather than to "page not found".
  router.get(SIGNING_ROUTE, (req, res) => {
    const text = requestedTextLanguage(req.query, res.locals.language);
    const slug = pathParam(req, 'slug');
    if (req.query.embed === '1') return res.redirect(303, withLanguages(embedPath(slug), req, res, text));
    res.redirect(303, `${withLanguages(letterPath(slug), req, res, text)}#sign`);
  });
  return router;
}

/**
 * `POST /letters/:slug/sign`, the signing form's action: the per-client request limit, then the signing.
 * Every outcome but a fresh signing shows the letter page (or the embed) again.
 */
export function signingHandlers(deps: LetterPageRoutesDeps): RequestHandler[] {
  /** Signs, or (`limited`: the request limit refused it) shows the form again with what was typed. */
  const sign = async (req: Request, res: Response, limited?: AppError) => {
    const body = formBody(req.body);
    // The form's hidden field: the language of the text the supporter read, so the page comes back in it.
    const textLanguage = formText(body, 'language') || requestedTextLanguage(req.query, res.locals.language);
    const slug = pathParam(req, 'slug');
    // Sent from the embed (its hidden field): every answer stays in the embed's frameable pages.
    const embed = formText(body, 'embed') === '1';
    // The page itself is built only for the answers that show it again (refused input, closed letter).
    const target = await deps.letters.forSigning(slug, textLanguage);
    const again = async (form: SigningFormState, status: number) => {
      const page = await deps.letters.page(slug, textLanguage);
      // The switcher on the form shown again goes back to the letter (what was typed cannot follow), in
      // the text read when it is not the interface language (withLanguages' rule, as the page's own links).
      res.locals.formPage = withLanguages(
        embed ? embedPath(target.letter.slug) : letterPath(target.letter.slug),
        req,
        res,
        target.textLanguage,
      );
      if (embed) renderEmbed(req, res, page, form, status);
      else renderLetterPage(deps.sharing, req, res, page, form, status);
    };
    // The next page names the letter in the text the supporter read.
    const checkInbox = withLanguages(
      embed
        ? embedPath(target.letter.slug, '/check-your-inbox')
        : letterPath(target.letter.slug, '/check-your-inbox'),
      req,
      res,
      target.textLanguage,
    );
    const values = signingFormValues(body);
    // Too many signings from this connection (a shared Wi-Fi at an event, a household): the limit's 429,
    // with its Retry-After, but as the form with what was typed and how long to wait, not an error page.
    // It costs what a refused form costs (the page is built again, not cached): a flood past the limit
    // is the overload guard's (http/overload.ts), which answers before any of this runs.
    if (limited)
      return again({ values, errors: {}, refusal: res.locals.t(limited.messageKey, limited.params) }, 429);
    // A field hidden from people and screen readers: only bots fill it in. They get the usual answer.
    if (formText(body, 'website') !== '') return seeOther(res, checkInbox);

    const parsed = parseSigningForm(values);
    if (!parsed.ok) return again({ values, errors: parsed.errors }, 422);
    const outcome = await deps.signatures.sign(target.letter, parsed.input, {
      // The language of the text shown (the letter has it), whatever the hidden field claimed.
      language: target.textLanguage,
      // The page's language: the confirmation and every later e-mail are written in it.
      interfaceLanguage: res.locals.language,
      ip: req.ip,
      // The proof-of-work widget's answer; absent when the browser ran no JavaScript.
      proof: formText(body, 'altcha') || undefined,
    });
    if (outcome.kind === 'not-signable') return again({ values, errors: {} }, 409);
    seeOther(res, checkInbox);
  };
  const limitThenSign: RequestHandler = (req, res, next) => {
    deps.signLimit(req, res, (error?: unknown) => {
      if (error === undefined) return sign(req, res).catch(next);
      if (error instanceof AppError && error.status === 429) return sign(req, res, error).catch(next);
      next(error);
    });
  };
  return [limitThenSign];
}
