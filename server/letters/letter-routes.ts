import { pathParam, translatedErrors } from '../http/input.js';
import { Router, type Request, type Response } from 'express';
import { countryOptions } from '../lib/countries.js';
import type { SignatureService } from '../signatures/signature-service.js';
import { DISPLAY_CHOICES } from '../signatures/signature.js';
import {
  parseSigningForm,
  signingFormValues,
  type SigningFormValues,
} from '../signatures/signature-input.js';
import type { LetterPage, LetterService } from './letter-service.js';
import type { RequestHandler } from 'express';

export interface LetterRoutesDeps {
  letters: LetterService;
  signatures: SignatureService;
  csrf: { verify: RequestHandler };
  signLimit: RequestHandler;
}

const EMPTY_FORM: SigningFormValues = {
  name: '',
  email: '',
  country: '',
  city: '',
  organisation: '',
  title: '',
  display: 'initials',
  privacy: false,
  updates: false,
};

/** The language a reader asked for: ?lang=xx for the letter text, else the interface language. */
function requestedLanguage(req: Request): string {
  const lang = req.query.lang;
  return typeof lang === 'string' && /^[a-z]{2,3}$/.test(lang) ? lang : (req.language ?? 'en');
}

function formView(
  res: Response,
  page: LetterPage,
  values: SigningFormValues,
  errors: Partial<Record<string, string>>,
) {
  const t = res.locals.t;
  return {
    values,
    ...translatedErrors(t, errors),
    countries: countryOptions(res.locals.language).map((c) => ({
      ...c,
      selected: c.code === values.country,
    })),
    displayChoices: DISPLAY_CHOICES.map((choice) => ({ value: choice, checked: values.display === choice })),
    language: page.text.language,
  };
}

function renderLetter(res: Response, page: LetterPage, form: ReturnType<typeof formView>, status = 200) {
  const t = res.locals.t;
  res.status(status).render('letters/letter', {
    page,
    form,
    otherLanguages: page.languages.filter((l) => l !== page.text.language),
    // Screen readers hear the title first: it says at once that the form came back with errors.
    titleText:
      form.errorList.length > 0 ? `${t('form.errorTitlePrefix')} ${page.text.title}` : page.text.title,
  });
}

/** Public letter pages and the signing form. */
export function letterRoutes(deps: LetterRoutesDeps): Router {
  const router = Router();

  router.get('/', async (req, res) => {
    const letters = await deps.letters.listPublic(requestedLanguage(req));
    res.render('letters/home', {
      open: letters.filter((l) => l.state === 'open' || l.state === 'not-yet-open'),
      closed: letters.filter((l) => l.state === 'closed'),
    });
  });

  router.get('/letters/:slug', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), requestedLanguage(req));
    renderLetter(res, page, formView(res, page, EMPTY_FORM, {}));
  });

  router.post('/letters/:slug/sign', deps.signLimit, deps.csrf.verify, async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const language = typeof body.language === 'string' ? body.language : requestedLanguage(req);
    const letter = await deps.letters.findPublished(pathParam(req, 'slug'));
    const checkInbox = `/letters/${encodeURIComponent(letter.slug)}/check-your-inbox`;
    // A field hidden from people and screen readers: only bots fill it in. They get the usual answer.
    if (typeof body.website === 'string' && body.website !== '') return res.redirect(303, checkInbox);

    const values = signingFormValues(body);
    const parsed = parseSigningForm(values);
    if (!parsed.ok) {
      const page = await deps.letters.page(letter.slug, language);
      return renderLetter(res, page, formView(res, page, values, parsed.errors), 422);
    }
    const page = await deps.letters.page(letter.slug, language);
    const outcome = await deps.signatures.sign(letter, parsed.input, {
      language: page.text.language,
      ip: req.ip,
      // The proof-of-work widget's answer; absent when the browser ran no JavaScript.
      proof: typeof body.altcha === 'string' && body.altcha !== '' ? body.altcha : undefined,
    });
    if (outcome.kind === 'not-signable') return renderLetter(res, page, formView(res, page, values, {}), 409);
    res.redirect(303, checkInbox);
  });

  router.get('/letters/:slug/check-your-inbox', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), requestedLanguage(req));
    res.render('signatures/check-inbox', { page, titleText: page.text.title });
  });

  router.get('/letters/:slug/thank-you', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), requestedLanguage(req));
    const url = `${res.locals.publicUrl}/letters/${encodeURIComponent(page.letter.slug)}`;
    const text = page.text.title;
    res.render('signatures/thank-you', {
      page,
      titleText: page.text.title,
      recipientNames: page.recipients.map((r) => r.name).join('; '),
      share: {
        url,
        email: `mailto:?subject=${encodeURIComponent(text)}&body=${encodeURIComponent(url)}`,
        x: `https://twitter.com/intent/tweet?text=${encodeURIComponent(text)}&url=${encodeURIComponent(url)}`,
        facebook: `https://www.facebook.com/sharer/sharer.php?u=${encodeURIComponent(url)}`,
        whatsapp: `https://wa.me/?text=${encodeURIComponent(`${text} ${url}`)}`,
        telegram: `https://t.me/share/url?url=${encodeURIComponent(url)}&text=${encodeURIComponent(text)}`,
      },
    });
  });

  router.get('/letters/:slug/withdrawn', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), requestedLanguage(req));
    res.render('signatures/withdrawn', { page, titleText: page.text.title });
  });

  return router;
}
