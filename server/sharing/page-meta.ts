/**
 * What a page says about itself to the sites and apps a link to it is pasted into: the description,
 * Open Graph and Twitter card tags the layout writes in <head> (views/layouts/main.hbs, `meta`). Pure.
 */

import { INTERFACE_LANGUAGES } from '../lib/i18n.js';
import { sharedLetterPath, sharedLetterUrl } from './share-links.js';

/** The size of a share card (card.png): what Open Graph and X draw large. */
export const CARD_WIDTH = 1200;
export const CARD_HEIGHT = 630;

/** The meta tags of one page; every address absolute (PUBLIC_URL). */
export interface PageMeta {
  siteName: string;
  title: string;
  description: string;
  url: string;
  /** og:locale (language_TERRITORY); absent for a language without a usual territory here. */
  locale?: string;
  image?: { url: string; width: number; height: number; alt: string };
  twitterCard: 'summary' | 'summary_large_image';
  /**
   * The same page in each interface language (`<link rel="alternate" hreflang>`), and `x-default`
   * without a language: search engines then send a Korean or Ukrainian reader to their own.
   */
  alternates: { hreflang: string; href: string }[];
}

/** The page at `path` in each interface language, by `?lang=`, and as x-default without it. */
function alternatesOf(publicUrl: string, path: string): PageMeta['alternates'] {
  return [
    ...INTERFACE_LANGUAGES.map((language) => ({
      hreflang: language,
      href: `${publicUrl}${path}?lang=${language}`,
    })),
    { hreflang: 'x-default', href: `${publicUrl}${path}` },
  ];
}

/** The locale Open Graph names a language by; the platform's languages and common letter languages. */
const OG_LOCALES: Readonly<Record<string, string>> = {
  en: 'en_US',
  ko: 'ko_KR',
  uk: 'uk_UA',
  de: 'de_DE',
  es: 'es_ES',
  fr: 'fr_FR',
  it: 'it_IT',
  ja: 'ja_JP',
  pl: 'pl_PL',
  pt: 'pt_PT',
  ru: 'ru_RU',
  zh: 'zh_CN',
};

/** og:locale of a language code, if it has one here. */
export function ogLocale(language: string): string | undefined {
  return OG_LOCALES[language];
}

/** How long a description may be: previews cut around 150-200 characters anyway. */
const DESCRIPTION_MAX = 200;

/** `text` on one line and at most `max` characters, cut at a word where there is one, with an ellipsis. */
export function shortDescription(text: string, max = DESCRIPTION_MAX): string {
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(line);
  if (chars.length <= max) return line;
  const cut = chars.slice(0, max - 1).join('');
  const space = cut.lastIndexOf(' ');
  return `${(space > max / 2 ? cut.slice(0, space) : cut).trimEnd()}…`;
}

/** The meta tags of a letter's page read in `textLanguage` on a page in `interfaceLanguage`. */
export function letterPageMeta(input: {
  publicUrl: string;
  siteName: string;
  slug: string;
  title: string;
  summary: string;
  interfaceLanguage: string;
  textLanguage: string;
  /** The card's alternative text (its title and count, said in words). */
  imageAlt: string;
}): PageMeta {
  const { publicUrl, slug, interfaceLanguage, textLanguage } = input;
  const locale = ogLocale(textLanguage);
  return {
    siteName: input.siteName,
    title: input.title,
    description: shortDescription(input.summary),
    url: sharedLetterUrl(publicUrl, slug, interfaceLanguage, textLanguage),
    ...(locale ? { locale } : {}),
    image: {
      url: `${publicUrl}${sharedLetterPath(slug, interfaceLanguage, textLanguage, '/card.png')}`,
      width: CARD_WIDTH,
      height: CARD_HEIGHT,
      alt: input.imageAlt,
    },
    twitterCard: 'summary_large_image',
    alternates: alternatesOf(publicUrl, `/letters/${encodeURIComponent(slug)}`),
  };
}

/** The home page's meta tags: the site itself, in the interface language. */
export function homePageMeta(input: {
  publicUrl: string;
  siteName: string;
  description: string;
  interfaceLanguage: string;
  /** The site card's alternative text. */
  imageAlt: string;
}): PageMeta {
  const locale = ogLocale(input.interfaceLanguage);
  const lang = `?lang=${encodeURIComponent(input.interfaceLanguage)}`;
  return {
    siteName: input.siteName,
    title: input.siteName,
    description: shortDescription(input.description),
    url: `${input.publicUrl}/${lang}`,
    ...(locale ? { locale } : {}),
    image: {
      url: `${input.publicUrl}/card.png${lang}`,
      width: CARD_WIDTH,
      height: CARD_HEIGHT,
      alt: input.imageAlt,
    },
    twitterCard: 'summary_large_image',
    alternates: alternatesOf(input.publicUrl, '/'),
  };
}
