import type { TFunction } from '../lib/i18n.js';
import { homePageMeta, letterPageMeta, type PageMeta } from './page-meta.js';
import { sharePanel, type SharePanel } from './share-links.js';

/** A letter as a page about it shows it: what its share panel and meta tags need. */
export interface SharedLetter {
  slug: string;
  title: string;
  summary: string;
  /** The language of the text shown. */
  textLanguage: string;
}

/**
 * What pages show for sharing, bound to the platform's public address: the share panel
 * (views/partials/share.hbs) and the meta tags (views/layouts/main.hbs). The letter pages (pages/) use it
 * directly; the pages around signing (letters/) receive it from app.ts, as letters/ imports no later slice.
 */
export interface SharingViews {
  panel(letter: SharedLetter, interfaceLanguage: string): SharePanel;
  letterMeta(letter: SharedLetter, interfaceLanguage: string, t: TFunction): PageMeta;
  homeMeta(interfaceLanguage: string, t: TFunction): PageMeta;
}

/** SharingViews for a platform at `publicUrl` (PUBLIC_URL, without a trailing slash). */
export function sharingViews(publicUrl: string): SharingViews {
  return {
    panel: (letter, interfaceLanguage) =>
      sharePanel({
        publicUrl,
        slug: letter.slug,
        title: letter.title,
        interfaceLanguage,
        textLanguage: letter.textLanguage,
      }),
    letterMeta: (letter, interfaceLanguage, t) =>
      letterPageMeta({
        publicUrl,
        siteName: t('site.name'),
        slug: letter.slug,
        title: letter.title,
        summary: letter.summary,
        interfaceLanguage,
        textLanguage: letter.textLanguage,
        imageAlt: t('share.card.alt', { title: letter.title }),
      }),
    homeMeta: (interfaceLanguage, t) =>
      homePageMeta({
        publicUrl,
        siteName: t('site.name'),
        description: t('share.meta.homeDescription'),
        interfaceLanguage,
        imageAlt: t('share.card.homeAlt', { site: t('site.name'), tagline: t('site.tagline') }),
      }),
  };
}
