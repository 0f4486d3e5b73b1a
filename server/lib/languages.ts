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
