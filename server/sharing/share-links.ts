/**
 * Share links for a letter: plain links to each messenger's public share address (no third-party
 * script, nothing loaded from another site until the reader follows one), ordered by what the page's
 * readers use. Pure: the addresses are built from the letter's shared link and title.
 * docs/decisions/2026-12-05-sharing.md says which address each service gets, KakaoTalk's in particular.
 */

/** The services a letter can be shared to, as the share panel names them (share.service.<name>). */
export const SHARE_SERVICES = [
  'email',
  'kakaotalk',
  'line',
  'telegram',
  'viber',
  'whatsapp',
  'x',
  'facebook',
] as const;
export type ShareService = (typeof SHARE_SERVICES)[number];

/**
 * The order of the links by the page's interface language: the messengers its readers use first
 * (KakaoTalk and LINE in Korea; Telegram and Viber in Ukraine). Viber is offered to Ukrainian pages only:
 * its link opens the app or nothing, which elsewhere is more often nothing.
 */
const ORDER: Readonly<Record<string, readonly ShareService[]>> = {
  ko: ['kakaotalk', 'line', 'x', 'facebook', 'telegram', 'whatsapp', 'email'],
  uk: ['telegram', 'viber', 'whatsapp', 'facebook', 'x', 'email', 'line', 'kakaotalk'],
  en: ['email', 'whatsapp', 'facebook', 'x', 'telegram', 'line', 'kakaotalk'],
};

/** One link of the share panel. */
export interface ShareLink {
  service: ShareService;
  /** The i18n key of its label. */
  labelKey: string;
  href: string;
  /** Whether it leaves the site (opened in a new tab, with rel="noopener noreferrer"). */
  external: boolean;
  /**
   * Whether the page's script may answer it with the device's own share sheet (Web Share API) instead:
   * KakaoTalk has no share address that works without its SDK, and the share sheet offers it.
   */
  native: boolean;
  /** The i18n key of a note said after the link (how to share where no address exists), if any. */
  noteKey?: string;
}

/** What the share panel shows: the link to copy, the links, and the QR code's address. */
export interface SharePanel {
  url: string;
  title: string;
  links: ShareLink[];
  qrHref: string;
}

/**
 * The address a letter is shared under: its page in the interface language the sharer reads
 * (`?lang=`), and its text when that is another language (`&text=`), so whoever opens it sees the page
 * as the sharer saw it. Both values are plain language codes.
 */
export function sharedLetterUrl(
  publicUrl: string,
  slug: string,
  interfaceLanguage: string,
  textLanguage: string,
): string {
  return `${publicUrl}${sharedLetterPath(slug, interfaceLanguage, textLanguage)}`;
}

/** The path and query of sharedLetterUrl, for addresses on this site (the card, the QR code). */
export function sharedLetterPath(
  slug: string,
  interfaceLanguage: string,
  textLanguage: string,
  suffix = '',
): string {
  const query = new URLSearchParams({ lang: interfaceLanguage });
  if (textLanguage !== interfaceLanguage) query.set('text', textLanguage);
  return `/letters/${encodeURIComponent(slug)}${suffix}?${query.toString()}`;
}

const enc = encodeURIComponent;

/** The share address of one service for a link and its title. */
export function shareHref(service: ShareService, url: string, title: string): string {
  switch (service) {
    case 'email':
      // RFC 6068: line breaks in a mailto body are written CRLF.
      return `mailto:?subject=${enc(title)}&body=${enc(`${title}\r\n\r\n${url}`)}`;
    case 'kakaotalk':
      // No script-free share address exists (docs/decisions/2026-12-05-sharing.md): the link to copy.
      return '#share-url';
    case 'line':
      return `https://social-plugins.line.me/lineit/share?url=${enc(url)}&text=${enc(title)}`;
    case 'telegram':
      return `https://t.me/share/url?url=${enc(url)}&text=${enc(title)}`;
    case 'viber':
      return `viber://forward?text=${enc(`${title} ${url}`)}`;
    case 'whatsapp':
      return `https://wa.me/?text=${enc(`${title} ${url}`)}`;
    case 'x':
      return `https://x.com/intent/tweet?text=${enc(title)}&url=${enc(url)}`;
    case 'facebook':
      return `https://www.facebook.com/sharer/sharer.php?u=${enc(url)}`;
  }
}

/** The share links of a letter's page, ordered for its interface language. */
export function shareLinks(url: string, title: string, interfaceLanguage: string): ShareLink[] {
  const order = ORDER[interfaceLanguage] ?? ORDER.en!;
  return order.map((service) => ({
    service,
    labelKey: `share.service.${service}`,
    href: shareHref(service, url, title),
    external: service !== 'email' && service !== 'kakaotalk',
    native: service === 'kakaotalk',
    ...(service === 'kakaotalk' ? { noteKey: 'share.kakaotalkNote' } : {}),
  }));
}

/** The share panel of a letter read in `textLanguage` on a page in `interfaceLanguage`. */
export function sharePanel(input: {
  publicUrl: string;
  slug: string;
  title: string;
  interfaceLanguage: string;
  textLanguage: string;
}): SharePanel {
  const { publicUrl, slug, title, interfaceLanguage, textLanguage } = input;
  const url = sharedLetterUrl(publicUrl, slug, interfaceLanguage, textLanguage);
  return {
    url,
    title,
    links: shareLinks(url, title, interfaceLanguage),
    qrHref: sharedLetterPath(slug, interfaceLanguage, textLanguage, '/qr.svg'),
  };
}
