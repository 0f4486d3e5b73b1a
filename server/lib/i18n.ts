import { readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type TFunction } from 'i18next';
import { LanguageDetector } from 'i18next-http-middleware';
import { localesDir } from './paths.js';

export type { i18n, TFunction };

/** Interface languages with a complete translation. Korean and Ukrainian join when their texts are complete. */
export const INTERFACE_LANGUAGES = ['en'] as const;
export const DEFAULT_LANGUAGE = 'en';

/**
 * One i18next instance for the process, loaded synchronously at start so no request waits on files.
 * Values are not escaped by i18next: Handlebars escapes the whole translated string once when it is shown.
 */
export function createI18n(): i18n {
  // Language of a request: ?lang=xx, then the us_lang cookie, then Accept-Language.
  const detector = new LanguageDetector(null, {
    order: ['querystring', 'cookie', 'header'],
    lookupQuerystring: 'lang',
    lookupCookie: 'us_lang',
    caches: false,
  });
  const instance = i18next.createInstance().use(detector);
  const resources = Object.fromEntries(
    INTERFACE_LANGUAGES.map((language) => [
      language,
      { translation: JSON.parse(readFileSync(path.join(localesDir, language, 'translation.json'), 'utf8')) as object },
    ]),
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
