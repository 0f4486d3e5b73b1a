import Handlebars from 'handlebars';
import type { LetterMergeFields } from './merge-fields.js';

export type { LetterMergeFields };

/**
 * Letter texts are plain text with Handlebars merge fields: a blank line separates paragraphs, a newline
 * breaks a line. One rendering produces the plain-text letter; the HTML letter is that text escaped as a
 * whole and cut into paragraphs, so nothing written in a letter text or a merge value can become markup.
 */

export interface RenderedLetter {
  text: string;
  html: string;
}

// Letter texts get their own environment: no partials, no custom helpers, strict about unknown fields.
const letterEnvironment = Handlebars.create();
// Built-ins a letter has no use for: `log` writes to stdout, `lookup` and `with` reach into data freely.
for (const helper of ['log', 'lookup', 'with']) letterEnvironment.unregisterHelper(helper);
const compiled = new Map<string, HandlebarsTemplateDelegate<LetterMergeFields>>();
const CACHE_LIMIT = 500;

function compile(source: string): HandlebarsTemplateDelegate<LetterMergeFields> {
  let template = compiled.get(source);
  if (!template) {
    template = letterEnvironment.compile<LetterMergeFields>(source, {
      strict: true,
      noEscape: true,
      knownHelpersOnly: true,
      knownHelpers: { if: true, unless: true, each: true },
    });
    if (compiled.size >= CACHE_LIMIT) compiled.clear();
    compiled.set(source, template);
  }
  return template;
}

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}

/** Turns plain letter text into HTML paragraphs; every character of the input is escaped. */
export function textToHtml(text: string): string {
  return text
    .replace(/\r\n?/g, '\n')
    .split(/\n\s*\n/)
    .map((paragraph) => paragraph.trim())
    .filter((paragraph) => paragraph.length > 0)
    .map((paragraph) => `<p>${paragraph.split('\n').map(escapeHtml).join('<br>\n')}</p>`)
    .join('\n');
}

/** Renders a letter text for one recipient: the plain text and its HTML form. */
export function renderLetter(source: string, fields: LetterMergeFields): RenderedLetter {
  const text = compile(source)(fields, {
    allowProtoPropertiesByDefault: false,
    allowProtoMethodsByDefault: false,
  })
    .replace(/\n{3,}/g, '\n\n')
    .trim();
  return { text, html: textToHtml(text) };
}
