import { Router, type Request, type Response } from 'express';
import { pathParam } from '../http/input.js';
import { AppError } from '../lib/errors.js';
import { withLanguages } from '../http/language.js';
import { formatsFor } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';
import type { LetterPage, LetterService } from './letter-service.js';
import { letterPath, requestedTextLanguage } from './text-language.js';

/**
 * What these pages show for sharing: a letter's share panel and meta tags, the home page's meta tags. The sharing
 * slice makes them (sharing/sharing-views.ts) and app.ts passes them in: letters/ imports no later slice.
 */
export interface SharingViewsPort {
  panel(
    letter: { slug: string; title: string; summary: string; textLanguage: string },
    interfaceLanguage: string,
  ): unknown;
  letterMeta(
    letter: { slug: string; title: string; summary: string; textLanguage: string },
    interfaceLanguage: string,
    t: TFunction,
  ): unknown;
  homeMeta(interfaceLanguage: string, t: TFunction): unknown;
}

export interface LetterRoutesDeps {
  letters: LetterService;
  sharing: SharingViewsPort;
}

/** The text language a request asks for (?text=, an old link's ?lang=, else the interface language). */
function textLanguage(req: Request, res: Response): string {
  return requestedTextLanguage(req.query, res.locals.language);
}

/**
 * The home page's `?page=`: absent is 1; anything but a page number written plainly (1, 2, …; not 01,
 * 1.0 or two of them) is a 400, so the page cache keeps one copy of each page.
 */
function homePageNumber(value: unknown): number {
  if (value === undefined) return 1;
  if (typeof value !== 'string' || !/^[1-9][0-9]{0,5}$/.test(value))
    throw new AppError(400, 'page_invalid', 'home.pages.invalid');
  return Number(value);
}

/**
 * The home page and the pages around signing a letter. The letter page itself, with its signing form,
 * is in pages/letter-page-routes.ts: it composes letters and signatures.
 */
export function letterRoutes(deps: LetterRoutesDeps): Router {
  const router = Router();
  // Shared links name the page's languages and the text the supporter read: whoever opens them reads
  // the letter as they did.
  /**
   * The share panel, and the letter's card for a link to this page: a supporter who shares the address
   * bar after signing (check your inbox, thank you) shares the letter, not a bare page (og:url is the
   * letter's own address).
   */
  const sharingOf = (page: LetterPage, interfaceLanguage: string, t: TFunction) => {
    const shared = {
      slug: page.letter.slug,
      title: page.text.title,
      summary: page.text.summary,
      textLanguage: page.text.language,
    };
    return {
      share: deps.sharing.panel(shared, interfaceLanguage),
      meta: deps.sharing.letterMeta(shared, interfaceLanguage, t),
    };
  };

  router.get('/', async (req, res) => {
    const text = textLanguage(req, res);
    const list = await deps.letters.homeList(text, homePageNumber(req.query.page));
    // Each card links to the letter in the text it shows (a reader who asked for Korean keeps it).
    const letters = list.cards.map((card) => ({
      ...card,
      href: withLanguages(letterPath(card.letter.slug), req, res, card.text.language),
      // Named as the page's language names them (the directory's fields are often in English only).
      recipients: card.recipients.map((r) => recipientNamedIn(r, res.locals.language)),
    }));
    // Page links keep the interface and text languages the address chose.
    const pageHref = (page: number) => withLanguages(page === 1 ? '/' : `/?page=${page}`, req, res, text);
    const open = letters.filter((l) => l.state === 'open' || l.state === 'not-yet-open');
    res.render('letters/home', {
      open,
      // "No open letters" is said on the first page; later pages list what is left (closed letters).
      showOpen: list.page === 1 || open.length > 0,
      closed: letters.filter((l) => l.state === 'closed'),
      pages:
        list.pageCount > 1
          ? {
              page: list.page,
              count: list.pageCount,
              previous: list.page > 1 ? pageHref(list.page - 1) : undefined,
              next: list.page < list.pageCount ? pageHref(list.page + 1) : undefined,
            }
          : undefined,
      ...(list.page > 1
        ? { pageTitle: res.locals.t('home.pages.title', { page: list.page, total: list.pageCount }) }
        : {}),
      meta: deps.sharing.homeMeta(res.locals.language, res.locals.t),
    });
  });

  router.get('/letters/:slug/check-your-inbox', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), textLanguage(req, res));
    res.render('signatures/check-inbox', {
      page,
      pageTitle: page.text.title,
      // Back to the letter in the text the supporter read.
      letterHref: withLanguages(letterPath(page.letter.slug), req, res, page.text.language),
      ...sharingOf(page, res.locals.language, res.locals.t),
    });
  });

  router.get('/letters/:slug/thank-you', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), textLanguage(req, res));
    res.render('signatures/thank-you', {
      page,
      pageTitle: page.text.title,
      letterHref: withLanguages(letterPath(page.letter.slug), req, res, page.text.language),
      // "A, B and C" in the page's language, each as that language names them.
      recipientNames: formatsFor(res.locals.language).list(
        page.recipients.map((r) => recipientNamedIn(r, res.locals.language).name),
      ),
      ...sharingOf(page, res.locals.language, res.locals.t),
    });
  });

  router.get('/letters/:slug/withdrawn', async (req, res) => {
    const page = await deps.letters.page(pathParam(req, 'slug'), textLanguage(req, res));
    res.render('signatures/withdrawn', {
      page,
      pageTitle: page.text.title,
      letterHref: withLanguages(letterPath(page.letter.slug), req, res, page.text.language),
    });
  });

  return router;
}
