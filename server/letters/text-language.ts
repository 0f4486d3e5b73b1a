/**
 * The language of a letter's text is chosen apart from the interface language (docs/decisions/
 * 2026-12-05-interface-and-letter-language.md): `?lang=` (with the us_lang cookie and Accept-Language)
 * sets the interface, `?text=` the letter's text.
 */

import { isLetterLanguage, languageCode } from '../lib/languages.js';

/** The letter text an address names (`?text=`), if any. */
export function addressText(query: Record<string, unknown>): string | undefined {
  return languageCode(query.text);
}

/**
 * The language a reader asked to read a letter in: `?text=`; else `?lang=`, so links from before the
 * two were apart (`/letters/x?lang=ko`) still open the Korean text, whatever interface languages exist;
 * else the interface language. The letter shows it when it has a complete translation (textIn).
 */
export function requestedTextLanguage(query: Record<string, unknown>, interfaceLanguage: string): string {
  // A code no letter is written in (`?lang=zz`) asks for nothing: the reader's language stands, where
  // it gave the letter's primary text instead of the Korean reader's Korean one.
  const asked = [addressText(query), languageCode(query.lang)].find(
    (code) => code !== undefined && isLetterLanguage(code),
  );
  return asked ?? interfaceLanguage;
}

/**
 * The address of a letter's page with its text in a language, always named: a link between its
 * translations. The languages of the page it is on are added by withLanguages (http/language.ts).
 */
export function letterTextPath(slug: string, textLanguage: string): string {
  return `/letters/${encodeURIComponent(slug)}?text=${encodeURIComponent(textLanguage)}`;
}

/**
 * A page about a letter (its page, or a page after signing, `suffix` "/thank-you"); withLanguages
 * (http/language.ts) adds the text read and the interface language the address chose.
 */
export function letterPath(slug: string, suffix = ''): string {
  return `/letters/${encodeURIComponent(slug)}${suffix}`;
}
