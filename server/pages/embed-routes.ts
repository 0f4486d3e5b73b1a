import { Router, type RequestHandler } from 'express';
import { currentUser } from '../http/auth.js';
import { formBody, formText, idParam, pathParam } from '../http/input.js';
import { withLanguages } from '../http/language.js';
import { noticeFrom, redirectWithNotice } from '../http/notice.js';
import { allowFraming } from '../http/security.js';
import type { LetterService } from '../letters/letter-service.js';
import { letterPath, requestedTextLanguage } from '../letters/text-language.js';
import {
  INTERFACE_LANGUAGE_NAMES,
  INTERFACE_LANGUAGES,
  interfaceLanguage,
  type InterfaceLanguage,
  type TFunction,
} from '../lib/i18n.js';
import { langMark, titleFor } from '../lib/languages.js';
import { MAX_EMBED_ORIGINS, MAX_EMBED_ORIGINS_INPUT, type OriginsRefusal } from './embed-origins.js';
import type { EmbedService, EmbedSettings } from './embed-service.js';
import { embedPath, embedSnippet, renderEmbed } from './embed-view.js';
import { EMPTY_SIGNING_FORM } from './letter-page-view.js';

/**
 * The embed's public pages: the compact signing page an organisation frames on its site, and the
 * "check your inbox" answer that comes back inside the frame. Signing itself is the letter page's
 * POST /letters/:slug/sign (pages/letter-page-routes.ts), which answers an `embed=1` form here.
 */
export function embedRoutes(deps: { letters: LetterService }): Router {
  const router = Router();

  router.get('/letters/:slug/embed', async (req, res) => {
    const page = await deps.letters.page(
      pathParam(req, 'slug'),
      requestedTextLanguage(req.query, res.locals.language),
    );
    renderEmbed(req, res, page, { values: EMPTY_SIGNING_FORM, errors: {} });
  });

  router.get('/letters/:slug/embed/check-your-inbox', async (req, res) => {
    const page = await deps.letters.page(
      pathParam(req, 'slug'),
      requestedTextLanguage(req.query, res.locals.language),
    );
    allowFraming(res, page.letter.embedOrigins);
    res.render('letters/embed-check-inbox', {
      page,
      pageTitle: page.text.title,
      layout: 'embed',
      letterHref: withLanguages(letterPath(page.letter.slug), req, res, page.text.language),
      embedHref: withLanguages(embedPath(page.letter.slug), req, res, page.text.language),
    });
  });

  return router;
}

const NOTICES = ['saved'] as const;

/** The organizer's embed page: the snippet, a preview, and the sites allowed to frame it. */
function embedAdminView(
  settings: EmbedSettings,
  t: TFunction,
  ui: string,
  publicUrl: string,
  form: { value: string; refusal?: OriginsRefusal | undefined },
  notice: string | null,
  /** The interface language the snippet's frame always shows; undefined: each visitor's own. */
  frameLanguage?: InterfaceLanguage,
) {
  const { letter, titles } = settings;
  // The page names the letter in its reader's language, as the editor does; the snippet's frame by the
  // primary title (one snippet serves every reader of the other site, whichever text the frame then
  // shows), or by its title in the one language the organizer chose for the frame.
  const { title, titleLanguage } = titleFor(
    letter,
    { primary: titles[letter.primaryLanguage], reader: titles[ui] },
    ui,
  );
  const frameTitle = titleFor(
    letter,
    { primary: titles[letter.primaryLanguage], reader: frameLanguage && titles[frameLanguage] },
    frameLanguage ?? letter.primaryLanguage,
  );
  const error = form.refusal
    ? t(`embed.origins.errors.${form.refusal.key}`, {
        value: form.refusal.value,
        max: MAX_EMBED_ORIGINS,
        length: MAX_EMBED_ORIGINS_INPUT,
      })
    : '';
  return {
    pageTitle: `${error ? `${t('form.errorTitlePrefix')} ` : ''}${t('embed.admin.title')} · ${title}`,
    letter,
    title,
    titleLang: langMark(titleLanguage, ui),
    public: letter.status !== 'draft',
    snippet: embedSnippet(publicUrl, letter.slug, frameTitle.title, frameLanguage, frameTitle.titleLanguage),
    frameLanguages: [
      { code: '', name: t('embed.admin.frameLanguageVisitor'), selected: frameLanguage === undefined },
      ...INTERFACE_LANGUAGES.map((code) => ({
        code,
        name: INTERFACE_LANGUAGE_NAMES[code],
        selected: code === frameLanguage,
      })),
    ],
    previewHref: embedPath(letter.slug),
    origins: { value: form.value, error, current: letter.embedOrigins },
    errorList: error ? [{ field: 'origins', message: error }] : [],
    maxLength: MAX_EMBED_ORIGINS_INPUT,
    notice,
  };
}

/** Mounted under /admin (login and CSRF checked by the caller's chain). */
export function embedAdminRoutes(deps: { embed: EmbedService; csrf: { verify: RequestHandler } }): Router {
  const router = Router();

  router.get('/letters/:id/embed', async (req, res) => {
    const settings = await deps.embed.settings(currentUser(res), idParam(req, 'id'));
    const { t, publicUrl } = res.locals;
    res.render(
      'admin/letter-embed',
      embedAdminView(
        settings,
        t,
        res.locals.language,
        publicUrl,
        { value: settings.letter.embedOrigins.join('\n') },
        noticeFrom(req, t, 'embed.notices', NOTICES) ?? null,
        interfaceLanguage(req.query.frame),
      ),
    );
  });

  router.post('/letters/:id/embed', deps.csrf.verify, async (req, res) => {
    const letterId = idParam(req, 'id');
    const value = formText(formBody(req.body), 'origins');
    const outcome = await deps.embed.saveOrigins(currentUser(res), letterId, value);
    if (outcome.kind === 'invalid') {
      const { t, publicUrl } = res.locals;
      // The list comes back as typed (cut to the field's length), with the entry at fault named.
      return res
        .status(422)
        .render(
          'admin/letter-embed',
          embedAdminView(
            outcome.settings,
            t,
            res.locals.language,
            publicUrl,
            { value: value.slice(0, MAX_EMBED_ORIGINS_INPUT), refusal: outcome.refusal },
            null,
          ),
        );
    }
    redirectWithNotice(res, `/admin/letters/${letterId}/embed`, 'saved');
  });

  return router;
}
