import { displayNamesIn } from './format.js';

/** A language's name in the reader's language ("ko" → "Korean" / "한국어"); the code when Intl has no name. */
export function languageName(code: string, inLanguage: string): string {
  try {
    return displayNamesIn(inLanguage, 'language').of(code) ?? code;
  } catch {
    return code;
  }
}

/** Languages a letter can be written in and a recipient can prefer (names come from Intl). */
export const LETTER_LANGUAGES = [
  'en',
  'ko',
  'uk',
  'ru',
  'ja',
  'zh',
  'de',
  'fr',
  'es',
  'it',
  'pl',
  'nl',
] as const;

/** Whether a code is one of LETTER_LANGUAGES. */
export function isLetterLanguage(code: string): boolean {
  return (LETTER_LANGUAGES as readonly string[]).includes(code);
}

/** A value with the form of a plain language code ("ko", "haw"), else undefined: what `?text=` may name. */
export function languageCode(value: unknown): string | undefined {
  return typeof value === 'string' && /^[a-z]{2,3}$/.test(value) ? value : undefined;
}

/** The translation to show: the requested language if the letter has it, else the letter's primary language. */
export function pickLanguage(
  available: readonly string[],
  requested: string | undefined,
  primary: string,
): string {
  if (requested && available.includes(requested)) return requested;
  if (available.includes(primary)) return primary;
  return available[0] ?? primary;
}

/**
 * A letter's current title as a list shows it to a reader: its title in the reader's language when that
 * text has one, else its primary language's (pickLanguage over the titled texts only: a text not
 * translated yet is stored with an empty title); with no title at all, the web address, which is in no
 * language (so said to be in the reader's). Lists read only these two titles, never every text.
 */
export function titleFor(
  letter: { slug: string; primaryLanguage: string },
  titles: { primary: string | null | undefined; reader: string | null | undefined },
  language: string,
): { title: string; titleLanguage: string } {
  const titled = new Map<string, string>();
  if (titles.primary?.trim()) titled.set(letter.primaryLanguage, titles.primary.trim());
  if (titles.reader?.trim()) titled.set(language, titles.reader.trim());
  const titleLanguage = pickLanguage([...titled.keys()], language, letter.primaryLanguage);
  const title = titled.get(titleLanguage);
  return title === undefined ? { title: letter.slug, titleLanguage: language } : { title, titleLanguage };
}

/**
 * The `lang` a piece of text in `language` needs on a page in `ui`: none when they are the same (the page
 * already says it), else its own, so a screen reader reads it out in its own language.
 */
export function langMark(language: string | undefined, ui: string): string | null {
  return language && language !== ui ? language : null;
}
