import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { templatesDir, viewsDir } from '../../../server/lib/paths.js';

/** Every .hbs file under a folder. */
function hbsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return hbsFiles(file);
    return name.endsWith('.hbs') ? [file] : [];
  });
}

// What is shown and what is sent; not templates/letters, whose text is the letter itself (in its language).
const FILES = [
  ...hbsFiles(viewsDir),
  ...hbsFiles(path.join(templatesDir, 'emails')),
  ...hbsFiles(path.join(templatesDir, 'documents')),
];

const MUSTACHE = /\{\{\{[\s\S]*?\}\}\}|\{\{[\s\S]*?\}\}/g;
const CHECKED_ATTRIBUTES = /\s(title|placeholder|aria-label|alt)\s*=\s*("([^"]*)"|'([^']*)')/gi;

/** Words a reader would see: a letter, once entities and Handlebars expressions are gone. */
function words(text: string): string | undefined {
  const bare = text
    .replace(/&[a-zA-Z]+;|&#x?[0-9a-fA-F]+;/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  // An address shown as written ("/letters/{{slug}}", placeholder="example.org") is not a word to translate.
  if (/^(?:https?:\/\/)?[\w-]*(?:[./][\w-]*)+\/?$/.test(bare)) return undefined;
  return /\p{L}/u.test(bare) ? bare : undefined;
}

/**
 * The interface text written into a template instead of taken from the catalog: text between tags, and
 * the title, placeholder, aria-label and alt attributes, outside {{…}}. Comments, <script> and <style>
 * are not read; value= and class names are not text. A plain-text e-mail template is all text.
 */
export function literalTexts(source: string, plainText: boolean): string[] {
  const withoutComments = source
    .replace(/\{\{!--[\s\S]*?--\}\}/g, '')
    .replace(/\{\{![\s\S]*?\}\}/g, '')
    .replace(/<!--[\s\S]*?-->/g, '');
  const withoutCode = withoutComments
    .replace(/<script\b[\s\S]*?<\/script>/gi, '')
    .replace(/<style\b[\s\S]*?<\/style>/gi, '');
  // Each expression becomes one space: what is left outside them is what the template itself says.
  const bare = withoutCode.replace(MUSTACHE, ' ');
  if (plainText) return [words(bare)].filter((w): w is string => w !== undefined);
  const found: string[] = [];
  for (const tag of bare.matchAll(/<[^>]*>/g)) {
    for (const attribute of tag[0].matchAll(CHECKED_ATTRIBUTES)) {
      const text = words(attribute[3] ?? attribute[4] ?? '');
      if (text) found.push(`${attribute[1]}="${text}"`);
    }
  }
  for (const between of bare.split(/<[^>]*>/)) {
    const text = words(between);
    if (text) found.push(text);
  }
  return found;
}

describe('the views and templates', () => {
  it('finds what it looks for: text between tags and in the labelling attributes, not in expressions', () => {
    const found = literalTexts(
      `{{!-- A comment --}}<!-- another --><p>Hello {{name}}</p><p>{{t "x"}}</p>
       <input placeholder="Your name" value="Default" class="big words">
       <img alt="{{t "y"}}"><a title="Open">{{t "z"}}</a><style>p { color: red }</style>
       <script>const words = 'not text';</script><p>&nbsp;·&middot; {{count}}</p><p>/letters/{{slug}}</p>`,
      false,
    );
    expect(found).toEqual(['placeholder="Your name"', 'title="Open"', 'Hello']);
    expect(literalTexts('{{t "a"}}\n\n{{url}}\n', true)).toEqual([]);
    expect(literalTexts('{{t "a"}}\nSee you soon\n', true)).toEqual(['See you soon']);
  });

  it("holds no literal interface text: every word comes from the catalogs, in the reader's language", () => {
    expect(FILES.length).toBeGreaterThan(40);
    const literal = FILES.flatMap((file) =>
      literalTexts(readFileSync(file, 'utf8'), file.endsWith('.text.hbs')).map(
        (text) => `${path.relative(path.dirname(viewsDir), file)}: ${text}`,
      ),
    );
    expect(literal).toEqual([]);
  });
});
