/**
 * Text written into SVG that we draw ourselves (share cards, badges). The text comes from organizers
 * (titles, organisations) and must never change the document's structure: it is XML-escaped, and the
 * characters XML 1.0 cannot carry at all (control characters, lone surrogates, U+FFFE/U+FFFF) are
 * dropped, since a single one makes the whole document unreadable to a renderer or a browser.
 */

// Tab, line feed and carriage return are allowed; every other C0 control is not. DEL and the C1 controls
// are legal XML but never meant in a title, and are dropped too.
const NOT_XML =
  // eslint-disable-next-line no-control-regex
  /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F\uFFFE\uFFFF]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};

/** `text` without the characters XML cannot carry. */
export function xmlSafe(text: string): string {
  return text.replace(NOT_XML, '');
}

/** `text` escaped for an SVG element's content or a quoted attribute. */
export function escapeXml(text: string): string {
  return xmlSafe(text).replace(/[&<>"']/g, (c) => ENTITIES[c]!);
}
