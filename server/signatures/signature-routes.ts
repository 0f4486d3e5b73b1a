import { Router, type Request, type RequestHandler } from 'express';
import { pathParam } from '../http/input.js';
import { languageWithoutQuery } from '../http/language.js';
import { interfaceLanguage } from '../lib/i18n.js';
import { letterPath, requestedTextLanguage } from '../letters/text-language.js';
import type { SignatureService } from './signature-service.js';

export interface SignatureRoutesDeps {
  signatures: SignatureService;
  csrf: { verify: RequestHandler };
  linkLimit: RequestHandler;
}

/**
 * What the pages behind an e-mail's link keep on their form and their links: an interface language the
 * e-mail chose in the address (`?lang=`, which sets no cookie, so it travels with the address or is
 * lost) and the language of the text the supporter read (`?text=`), in the order e-mails write them
 * (mail-links.ts).
 */
function languageQuery(req: Request, textLanguage: string | undefined): string {
  const params = new URLSearchParams();
  const chosen = interfaceLanguage(req.query.lang);
  // Only when the reader's own cookie or browser would not give that language anyway.
  if (chosen && chosen !== languageWithoutQuery(req)) params.set('lang', chosen);
  if (textLanguage) params.set('text', textLanguage);
  return params.size > 0 ? `?${params.toString()}` : '';
}

/** The text language an address carries (`?text=`), if any. */
function textOf(req: Request): string | undefined {
  return typeof req.query.text === 'string' && /^[a-z]{2,3}$/.test(req.query.text)
    ? req.query.text
    : undefined;
}

/**
 * Where a form behind an e-mail's link posts: its own address, with the text the supporter read added
 * when an older link lacks it and it is not the interface language (the default).
 */
function formAction(req: Request, path: string, signed: string, interfaceNow: string): string {
  const params = new URLSearchParams();
  const chosen = interfaceLanguage(req.query.lang);
  if (chosen) params.set('lang', chosen);
  const text = textOf(req) ?? (signed !== interfaceNow ? signed : undefined);
  if (text) params.set('text', text);
  return params.size > 0 ? `${path}?${params.toString()}` : path;
}

/** The text to name on the next page: the one the form carried, unless it is the interface language anyway. */
function nextText(req: Request, interfaceNow: string): string | undefined {
  const text = textOf(req);
  return text !== interfaceNow ? text : undefined;
}

/**
 * The pages behind the links in e-mails. Opening a link only shows a button; the button POSTs. Mail
 * scanners that follow every link therefore never confirm or withdraw anything. Every link and redirect
 * keeps the letter in the language the supporter read it in (their signature's language).
 */
export function signatureRoutes(deps: SignatureRoutesDeps): Router {
  const router = Router();

  router.get('/signatures/confirm/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'confirm');
    res.render('signatures/confirm', {
      pageTitle: res.locals.t('confirm.title'),
      status: signature.status,
      action: formAction(
        req,
        `/signatures/confirm/${encodeURIComponent(pathParam(req, 'token'))}`,
        signature.language,
        res.locals.language,
      ),
      letterHref: letterPath(letter.slug, '', signature.language, res.locals.language),
    });
  });

  router.post('/signatures/confirm/:token', deps.linkLimit, deps.csrf.verify, async (req, res) => {
    const outcome = await deps.signatures.confirm(pathParam(req, 'token'));
    const slug = encodeURIComponent(outcome.letter.slug);
    // The form's address carries the text the supporter read (see the GET above).
    if (outcome.kind === 'confirmed')
      return res.redirect(
        303,
        `/letters/${slug}/thank-you${languageQuery(req, nextText(req, res.locals.language))}`,
      );
    res.status(409).render('signatures/not-confirmed', {
      pageTitle: res.locals.t('notConfirmed.title'),
      reason: outcome.kind,
      letterHref: letterPath(
        outcome.letter.slug,
        '',
        requestedTextLanguage(req.query, res.locals.language),
        res.locals.language,
      ),
    });
  });

  router.get('/signatures/withdraw/:token', deps.linkLimit, async (req, res) => {
    const { signature, letter } = await deps.signatures.findByToken(pathParam(req, 'token'), 'withdraw');
    res.render('signatures/withdraw', {
      pageTitle: res.locals.t('withdraw.title'),
      status: signature.status,
      action: formAction(
        req,
        `/signatures/withdraw/${encodeURIComponent(pathParam(req, 'token'))}`,
        signature.language,
        res.locals.language,
      ),
      letterHref: letterPath(letter.slug, '', signature.language, res.locals.language),
    });
  });

  router.post('/signatures/withdraw/:token', deps.linkLimit, deps.csrf.verify, async (req, res) => {
    const outcome = await deps.signatures.withdraw(pathParam(req, 'token'));
    res.redirect(
      303,
      `/letters/${encodeURIComponent(outcome.letter.slug)}/withdrawn${languageQuery(req, nextText(req, res.locals.language))}`,
    );
  });

  return router;
}
