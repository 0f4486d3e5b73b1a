/**
 * Small, dependency-free readers for the HTML the views render, so tests can ask about elements and
 * attributes instead of matching raw strings. They read well-formed server output, not arbitrary HTML.
 */

export interface StartTag {
  /** Lower-cased element name. */
  name: string;
  /** Attribute values with entities decoded; a bare attribute (`checked`) has the value "". */
  attrs: Record<string, string>;
  /** The start tag as written. */
  raw: string;
  /** Offset of the tag in the document. */
  index: number;
  /** Offset just after the start tag. */
  end: number;
}

const START_TAG =
  /<([a-zA-Z][a-zA-Z0-9-]*)((?:\s+[^\s"'>/=]+(?:\s*=\s*(?:"[^"]*"|'[^']*'|[^\s"'=<>`]+))?)*)\s*\/?>/g;
const ATTRIBUTE = /([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g;
const NAMED_ENTITIES: Record<string, string> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: '\u00a0',
};

/** Decodes the character references Handlebars and the letter renderer produce (named and numeric). */
export function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-zA-Z]+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x') || ref.startsWith('#X')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    return NAMED_ENTITIES[ref] ?? whole;
  });
}

/** Every start tag in the document, optionally only those of one element name. */
export function startTags(html: string, name?: string): StartTag[] {
  const tags: StartTag[] = [];
  for (const match of html.matchAll(START_TAG)) {
    const tagName = match[1]!.toLowerCase();
    if (name && tagName !== name.toLowerCase()) continue;
    const attrs: Record<string, string> = {};
    for (const a of (match[2] ?? '').matchAll(ATTRIBUTE)) {
      attrs[a[1]!.toLowerCase()] = decodeEntities(a[2] ?? a[3] ?? a[4] ?? '');
    }
    tags.push({
      name: tagName,
      attrs,
      raw: match[0],
      index: match.index,
      end: match.index + match[0].length,
    });
  }
  return tags;
}

/** The start tag of the element with this id, or undefined. */
export function byId(html: string, id: string): StartTag | undefined {
  return startTags(html).find((tag) => tag.attrs.id === id);
}

/** The start tags whose class list contains `className`. */
export function byClass(html: string, className: string): StartTag[] {
  return startTags(html).filter((tag) => (tag.attrs.class ?? '').split(/\s+/).includes(className));
}

const VOID_ELEMENTS = new Set([
  'area',
  'base',
  'br',
  'col',
  'embed',
  'hr',
  'img',
  'input',
  'link',
  'meta',
  'source',
  'track',
  'wbr',
]);

/** The markup inside an element, from its start tag to its matching end tag (nesting counted). */
export function innerHtml(html: string, tag: StartTag): string {
  if (VOID_ELEMENTS.has(tag.name)) return '';
  const pattern = new RegExp(`<(/?)${tag.name}\\b[^>]*>`, 'gi');
  pattern.lastIndex = tag.end;
  let depth = 1;
  for (let m = pattern.exec(html); m; m = pattern.exec(html)) {
    depth += m[1] ? -1 : 1;
    if (depth === 0) return html.slice(tag.end, m.index);
  }
  throw new Error(`no end tag for <${tag.name}> at ${tag.index}`);
}

const BLOCK_TAG =
  /<\/?(?:address|article|aside|blockquote|br|dd|div|dl|dt|fieldset|footer|form|h[1-6]|header|hr|li|main|nav|ol|option|p|pre|section|table|td|th|tr|ul)\b[^>]*>/gi;

/** The text a reader sees in a piece of markup: tags removed (blocks separate words), entities decoded, white space collapsed. */
export function textOf(markup: string): string {
  return decodeEntities(markup.replace(BLOCK_TAG, ' ').replace(/<[^>]*>/g, ''))
    .replace(/\s+/g, ' ')
    .trim();
}

/** The visible text of the element with this id ("" when there is no such element). */
export function textById(html: string, id: string): string {
  const tag = byId(html, id);
  return tag ? textOf(innerHtml(html, tag)) : '';
}

/** The visible text of every element with this class. */
export function textsByClass(html: string, className: string): string[] {
  return byClass(html, className).map((tag) => textOf(innerHtml(html, tag)));
}

/** The content of the page's <main> element. */
export function mainOf(html: string): string {
  const main = startTags(html, 'main')[0];
  if (!main) throw new Error('the page has no <main>');
  return innerHtml(html, main);
}

/** Every href in the document, decoded. */
export function hrefsIn(html: string): string[] {
  return startTags(html, 'a')
    .map((a) => a.attrs.href)
    .filter((href): href is string => href !== undefined);
}

/** The document a frame shows from its `srcdoc` (the editor's preview of an e-mail); "" when it has none. */
export function frameDocument(html: string, id: string): string {
  return byId(html, id)?.attrs.srcdoc ?? '';
}

/** The visible text of the body of a frame's `srcdoc` document; "" when it has none. */
export function frameText(html: string, id: string): string {
  const doc = frameDocument(html, id);
  const body = startTags(doc, 'body')[0];
  return body ? textOf(innerHtml(doc, body)) : '';
}
