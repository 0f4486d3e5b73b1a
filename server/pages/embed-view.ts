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
  const view = letterPageView(page, { t, language, query: req.query }, form);
  res.status(status).render('letters/embed', {
    ...view,
    // Marked in the address too (the hidden field is in a body that may never be read): an error page
    // answered before the signing reads it stays frameable (http/errors.ts), and the address, reopened,
    // leads back to the embed (letter-page-routes.ts).
    signAction: withLanguages(`${letterPath(page.letter.slug, '/sign')}?embed=1`, req, res),
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
 * readers name the frame by it), lazy loading, and a width that suits a phone and a column; then a
 * few lines that set its height to what the embed says it needs (public/embed-height.js), taking the
 * message only from this platform's origin and only for a frame of it, and that bring the frame's top
 * into view when a new page in it (the answer to a submit) starts above the view. Where the site's own rules
 * refuse inline scripts, the frame keeps a height that holds the form in most languages and widths.
 */
export function embedSnippet(
  publicUrl: string,
  slug: string,
  title: string,
  language?: string,
  titleLanguage?: string,
): string {
  const base = publicUrl.replace(/\/+$/, '');
  // Without a language the frame follows each visitor's browser; a Korean site may want Korean for all.
  const src = `${base}${embedPath(slug)}${language ? `?lang=${encodeURIComponent(language)}` : ''}`;
  const origin = JSON.stringify(new URL(base).origin);
  // The title's language on the frame, so a screen reader on the other site reads its name in it.
  const lang = titleLanguage ? ` lang="${attribute(titleLanguage)}"` : '';
  const frame = `<iframe src="${attribute(src)}" title="${attribute(title)}"${lang} loading="lazy" style="width:100%;max-width:32rem;height:${EMBED_FALLBACK_HEIGHT};border:0"></iframe>`;
  // A new page in a frame that has shown one before (the answer to a submit: the error summary or "check
  // your inbox", at the frame's top) brings that top into view when the site is scrolled below it.
  const sizer =
    `<script>(function(){var s=new WeakSet;addEventListener("message",function(e){var d=e.data;if(e.origin!==${origin}||!d||d.type!=="undersigned:embed-height")return;` +
    `document.querySelectorAll("iframe").forEach(function(f){if(f.contentWindow!==e.source)return;f.style.height=Math.min(Math.max(+d.height||0,300),6000)+"px";` +
    `if(d.fresh===true&&s.has(f)&&f.getBoundingClientRect().top<0)f.scrollIntoView();s.add(f)})})})()</script>`;
  return `${frame}\n${sizer}`;
}

/** The frame's height before the embed says its own, or for good where the site refuses inline scripts. */
export const EMBED_FALLBACK_HEIGHT = '110rem';
