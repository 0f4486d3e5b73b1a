import type { Request, Response } from 'express';
import { allowFraming } from '../http/security.js';
import { withLanguages } from '../http/language.js';
import type { LetterPage } from '../letters/letter-service.js';
import { letterPath } from '../letters/text-language.js';
import { letterPageView, type SigningFormState } from './letter-page-view.js';

/** The embed's address on a letter: the page an organisation puts in an <iframe>. */
export function embedPath(slug: string, suffix = ''): string {
  return letterPath(slug, `/embed${suffix}`);
}

/**
 * Renders the embed (the count, the goal and the signing form, in the compact `embed` layout), framable
 * by the sites the letter allows. The form is the letter page's (views/partials/signing-form.hbs), with
 * the hidden `embed=1` that brings its answers back here.
 */
export function renderEmbed(
  req: Request,
  res: Response,
  page: LetterPage,
  form: SigningFormState,
  status = 200,
): void {
  const { t, language } = res.locals;
  allowFraming(res, page.letter.embedOrigins);
  res.status(status).render('letters/embed', {
    ...letterPageView(page, { t, language, query: req.query }, form),
    embed: true,
    layout: 'embed',
    // The whole letter opens outside the frame, in the text the embed shows.
    letterHref: withLanguages(letterPath(page.letter.slug), req, res, page.text.language),
  });
}

/** Escapes text for an HTML attribute value in double quotes. */
function attribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * The snippet an organizer pastes into their site: an <iframe> of the embed with a title (screen
 * readers name the frame by it), lazy loading, and a size that suits a phone and a column.
 */
export function embedSnippet(publicUrl: string, slug: string, title: string): string {
  const src = `${publicUrl.replace(/\/+$/, '')}${embedPath(slug)}`;
  return `<iframe src="${attribute(src)}" title="${attribute(title)}" loading="lazy" style="width:100%;max-width:32rem;height:58rem;border:0"></iframe>`;
}
