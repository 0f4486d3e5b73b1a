import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import i18next, { type i18n, type PostProcessorModule, type TFunction } from 'i18next';
import { localesDir } from './paths.js';
import { fitKoreanParticles } from './korean-particles.js';

export type { i18n, TFunction };

/** Interface languages: every one has a complete catalog in locales/ (tests/unit/i18n/catalogs.test.ts). */
export const INTERFACE_LANGUAGES = ['en', 'ko', 'uk'] as const;
export type InterfaceLanguage = (typeof INTERFACE_LANGUAGES)[number];
export const DEFAULT_LANGUAGE: InterfaceLanguage = 'en';

/** Each interface language's name in itself, as the language switcher shows it. */
export const INTERFACE_LANGUAGE_NAMES: Readonly<Record<InterfaceLanguage, string>> = Object.freeze({
  en: 'English',
  ko: '한국어',
  uk: 'Українська',
});

/**
 * The interface language a language tag asks for, by its primary subtag ("ko-KR" → "ko", "UK" → "uk");
 * undefined when it is not one of INTERFACE_LANGUAGES.
 */
export function interfaceLanguage(tag: unknown): InterfaceLanguage | undefined {
  if (typeof tag !== 'string') return undefined;
  const primary = tag.trim().split(/[-_]/)[0]!.toLowerCase();
  return (INTERFACE_LANGUAGES as readonly string[]).includes(primary)
    ? (primary as InterfaceLanguage)
    : undefined;
}

type Messages = { [key: string]: string | Messages };

/**
 * Every JSON file in locales/<language>/, merged into one tree: each module keeps its interface text in a
 * file of its own (translation.json, admin.json, …) and views use one key space. A key defined twice
 * is a mistake that would silently shadow a text, so it stops the start.
 */
export function readLanguage(language: string): Messages {
  const dir = path.join(localesDir, language);
  const merged: Messages = {};
  // A language whose folder is not there yet falls back to English key by key (the catalog test fails).
  if (!existsSync(dir)) return merged;
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

export interface I18nOptions {
  /**
   * Hears every key a language lacks: a key missing everywhere, and a Korean or Ukrainian key that falls
   * back to English (tests use it to prove a page has every text in every language).
   */
  onMissingKey?: (language: string, key: string) => void;
}

/**
 * One i18next instance for the process, loaded synchronously at start so no request waits on files.
 * Requests take a fixed `t` per language from it (http/language.ts); it is never cloned per request.
 * Values are not escaped by i18next: Handlebars escapes the whole translated string once when it is shown.
 */
export function createI18n(options: I18nOptions = {}): i18n {
  const { onMissingKey } = options;
  const instance = i18next.createInstance();
  // i18next reports a key it finds in no language, not one it finds only in the fallback: a post-processor
  // sees which language answered (postProcessPassResolved) and reports the fallback too.
  const reportFallback: PostProcessorModule = {
    type: 'postProcessor',
    name: 'report-fallback',
    process(value, key, details: { lng?: string; i18nResolved?: { usedLng?: string } }) {
      const asked = details.lng;
      const answered = details.i18nResolved?.usedLng;
      if (onMissingKey && asked && answered && asked !== answered && asked !== 'cimode')
        onMissingKey(asked, Array.isArray(key) ? String(key[0]) : String(key));
      return value;
    },
  };
  if (onMissingKey) instance.use(reportFallback);
  // Sentences fitted to the values put in them. Korean ones write both particles ("{{name}}은(는)"): the
  // one the value takes is kept. A Ukrainian date ends in "р." (2026 р.), and a sentence that ends with
  // one got a second full stop ("до 7 грудня 2026 р.."): one is kept.
  const fittedToValues: PostProcessorModule = {
    type: 'postProcessor',
    name: 'fitted-to-values',
    process: (value: string, _key, details: { lng?: string }) => {
      if (details.lng === 'ko') return fitKoreanParticles(value);
      if (details.lng === 'uk' && value.includes('р..')) return value.replace(/(\d\s?р)\.\.(?!\.)/g, '$1.');
      return value;
    },
  };
  instance.use(fittedToValues);
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
    postProcess: ['fitted-to-values'],
    ...(onMissingKey
      ? {
          saveMissing: true,
          saveMissingTo: 'current' as const,
          // A key asked with a defaultValue (the error page's title per status) may be absent on purpose.
          missingKeyHandler: (
            languages: readonly string[],
            _namespace: string,
            key: string,
            _fallback: string,
            _update: boolean,
            asked?: { defaultValue?: unknown },
          ) => {
            if (asked?.defaultValue === undefined) onMissingKey(languages[0] ?? DEFAULT_LANGUAGE, key);
          },
          postProcess: ['fitted-to-values', 'report-fallback'],
          postProcessPassResolved: true,
        }
      : {}),
  });
  return instance;
}

const translators = new WeakMap<i18n, Map<string, TFunction>>();

/**
 * The `t` of `instance` fixed to `language`, made once and kept: getFixedT makes a new function on each
 * call, and e-mails and letters ask for one on every {{t}} they render.
 */
export function fixedT(instance: i18n, language: string): TFunction {
  let byLanguage = translators.get(instance);
  if (!byLanguage) {
    byLanguage = new Map();
    translators.set(instance, byLanguage);
  }
  let t = byLanguage.get(language);
  if (!t) {
    t = instance.getFixedT(language);
    // Languages come from the interface and from letters' texts, a short list: a flood of odd values
    // (a hostile input reaching here) is answered but not kept.
    if (byLanguage.size < 64) byLanguage.set(language, t);
  }
  return t;
}
