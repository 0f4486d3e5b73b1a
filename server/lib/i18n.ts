import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LanguageDetector } from 'i18next-http-middleware';
import { localesDir } from './paths.js';

export type { i18n, TFunction };

/** Interface languages with a complete translation. Korean and Ukrainian join when their texts are complete. */
export const INTERFACE_LANGUAGES = ['en'] as const;
export const DEFAULT_LANGUAGE = 'en';

type Messages = { [key: string]: string | Messages };

/**
 * Every JSON file in locales/<language>/, merged into one tree: each module keeps its interface text in a
 * file of its own (translation.json, admin.json, …) and views use one key space. A key defined twice
 * is a mistake that would silently shadow a text, so it stops the start.
 */
export function readLanguage(language: string): Messages {
  const dir = path.join(localesDir, language);
  const merged: Messages = {};
  const merge = (target: Messages, source: Messages, file: string, prefix: string) => {
    for (const [key, value] of Object.entries(source)) {
      const existing = target[key];
      if (typeof value === 'object' && (existing === undefined || typeof existing === 'object')) {
        target[key] = existing ?? {};
        merge(target[key] as Messages, value, file, `${prefix}${key}.`);
      } else if (existing !== undefined) {
        throw new Error(
          `locales/${language}/${file}: the key ${prefix}${key} is already defined in another file`,
        );
      } else {
        target[key] = value;
      }
    }
  };
  for (const file of readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort()) {
    merge(merged, JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Messages, file, '');
  }
  return merged;
}

/**
 * One i18next instance for the process, loaded synchronously at start so no request waits on files.
 * Values are not escaped by i18next: Handlebars escapes the whole translated string once when it is shown.
 */
export function createI18n(): i18n {
  // The interface language of a request: ?lang=xx, then the us_lang cookie, then Accept-Language. The
  // language of a letter's text is chosen apart, with ?text= (letters/text-language.ts).
  const detector = new LanguageDetector(null, {
    order: ['querystring', 'cookie', 'header'],
    lookupQuerystring: 'lang',
    lookupCookie: 'us_lang',
    caches: false,
  });
  const instance = i18next.createInstance().use(detector);
  const resources = Object.fromEntries(
    INTERFACE_LANGUAGES.map((language) => [language, { translation: readLanguage(language) }]),
  );
  void instance.init({
    resources,
    lng: DEFAULT_LANGUAGE,
    fallbackLng: DEFAULT_LANGUAGE,
    supportedLngs: [...INTERFACE_LANGUAGES],
    nonExplicitSupportedLngs: true,
    initAsync: false,
    interpolation: { escapeValue: false },
    returnNull: false,
  });
  return instance;
}
