/**
 * The language of a letter's text is chosen apart from the interface language (docs/decisions/
 * 2026-12-05-interface-and-letter-language.md): `?lang=` (with the us_lang cookie and Accept-Language)
 * sets the interface, `?text=` the letter's text.
 */

const LANGUAGE_CODE = /^[a-z]{2,3}$/;

function code(value: unknown): string | undefined {
  return typeof value === 'string' && LANGUAGE_CODE.test(value) ? value : undefined;
}

/** A letter's texts are in plain languages ("en"); an interface language may carry a region ("en-US"). */
function plain(interfaceLanguage: string): string {
  return interfaceLanguage.split('-')[0]!.toLowerCase();
}

/**
 * The language a reader asked to read a letter in: `?text=`; else `?lang=`, so links from before the
 * two were apart (`/letters/x?lang=ko`) still open the Korean text, whatever interface languages exist;
 * else the interface language. The letter shows it when it has a complete translation (textIn).
 */
export function requestedTextLanguage(query: Record<string, unknown>, interfaceLanguage: string): string {
  return code(query.text) ?? code(query.lang) ?? plain(interfaceLanguage);
}

/**
 * The address of a letter's page with its text in a language. An interface language chosen in the
 * address (`?lang=`) is kept, so switching the text never switches the interface.
 */
export function letterTextPath(
  slug: string,
  textLanguage: string,
  query: Record<string, unknown>,
  interfaceLanguage: string,
): string {
  const params = new URLSearchParams({ text: textLanguage });
  const chosen = code(query.lang);
  if (chosen !== undefined && chosen === plain(interfaceLanguage)) params.set('lang', chosen);
  return `/letters/${encodeURIComponent(slug)}?${params.toString()}`;
}

/**
 * A page about a letter (its page, or a page after signing) with its text in the language the reader
 * is reading: `?text=` only when that is not the interface language, which is the default anyway.
 */
export function letterPath(
  slug: string,
  suffix: string,
  textLanguage: string,
  interfaceLanguage: string,
): string {
  const path = `/letters/${encodeURIComponent(slug)}${suffix}`;
  return textLanguage === plain(interfaceLanguage)
    ? path
    : `${path}?text=${encodeURIComponent(textLanguage)}`;
}
