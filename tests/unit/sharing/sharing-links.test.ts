import { describe, expect, it } from 'vitest';
import { homePageMeta, letterPageMeta, shortDescription } from '../../../server/sharing/page-meta.js';
import { shareHref, shareLinks, sharePanel, sharedLetterUrl } from '../../../server/sharing/share-links.js';

const URL_EN = 'https://letters.example.org/letters/a%20b?lang=en';

describe('share links', () => {
  it('name the interface language, and the text only when it is another', () => {
    expect(sharedLetterUrl('https://x.example', 'free-them', 'ko', 'ko')).toBe(
      'https://x.example/letters/free-them?lang=ko',
    );
    expect(sharedLetterUrl('https://x.example', 'free-them', 'en', 'ko')).toBe(
      'https://x.example/letters/free-them?lang=en&text=ko',
    );
    expect(sharedLetterUrl('https://x.example', 'a/b?c', 'en', 'en')).toBe(
      'https://x.example/letters/a%2Fb%3Fc?lang=en',
    );
  });

  it('encode the title and the link so that neither can add a parameter', () => {
    const title = 'A & B #1 ?x=1 "quoted" 포로';
    for (const service of ['line', 'telegram', 'x'] as const) {
      const href = new URL(shareHref(service, URL_EN, title));
      expect(href.searchParams.get('url')).toBe(URL_EN);
      expect(href.searchParams.get('text')).toBe(title);
      expect([...href.searchParams.keys()].sort()).toEqual(['text', 'url']);
    }
    expect(new URL(shareHref('facebook', URL_EN, title)).searchParams.get('u')).toBe(URL_EN);
    expect(new URL(shareHref('whatsapp', URL_EN, title)).searchParams.get('text')).toBe(`${title} ${URL_EN}`);
    const mail = shareHref('email', URL_EN, title);
    expect(mail).toBe(
      `mailto:?subject=${encodeURIComponent(title)}&body=${encodeURIComponent(`${title}\r\n\r\n${URL_EN}`)}`,
    );
  });

  it('put the messengers a language’s readers use first', () => {
    const order = (language: string) => shareLinks(URL_EN, 'T', language).map((l) => l.service);
    expect(order('ko').slice(0, 2)).toEqual(['kakaotalk', 'line']);
    expect(order('uk').slice(0, 2)).toEqual(['telegram', 'viber']);
    expect(order('en')).not.toContain('viber');
    expect(order('fr')).toEqual(order('en'));
  });

  it('open other sites in a new tab without telling them where the reader came from', () => {
    for (const link of shareLinks(URL_EN, 'T', 'uk'))
      expect(link.external).toBe(link.service !== 'email' && link.service !== 'kakaotalk');
  });

  it('give the QR code of the same link', () => {
    expect(
      sharePanel({
        publicUrl: 'https://x.example',
        slug: 's',
        title: 'T',
        interfaceLanguage: 'en',
        textLanguage: 'ko',
      }).qrHref,
    ).toBe('/letters/s/qr.svg?lang=en&text=ko');
  });
});

describe('page meta tags', () => {
  it('describe a letter with absolute addresses and its text’s locale', () => {
    const meta = letterPageMeta({
      publicUrl: 'https://x.example',
      siteName: 'Undersigned',
      slug: 's',
      title: 'T',
      summary: 'S',
      interfaceLanguage: 'uk',
      textLanguage: 'uk',
      imageAlt: 'A',
    });
    expect(meta).toMatchObject({
      url: 'https://x.example/letters/s?lang=uk',
      locale: 'uk_UA',
      image: { url: 'https://x.example/letters/s/card.png?lang=uk', width: 1200, height: 630 },
      twitterCard: 'summary_large_image',
    });
    expect(
      homePageMeta({
        publicUrl: 'https://x.example',
        siteName: 'U',
        description: 'D',
        interfaceLanguage: 'ko',
        imageAlt: 'A',
      }),
    ).toMatchObject({
      url: 'https://x.example/?lang=ko',
      locale: 'ko_KR',
      image: { url: 'https://x.example/card.png?lang=ko', width: 1200, height: 630, alt: 'A' },
      twitterCard: 'summary_large_image',
    });
  });

  it('name the same page in each interface language, so search engines send each reader to their own', () => {
    const meta = letterPageMeta({
      publicUrl: 'https://x.example',
      siteName: 'Undersigned',
      slug: 's',
      title: 'T',
      summary: 'S',
      interfaceLanguage: 'en',
      textLanguage: 'en',
      imageAlt: 'A',
    });
    expect(meta.alternates).toEqual([
      { hreflang: 'en', href: 'https://x.example/letters/s?lang=en' },
      { hreflang: 'ko', href: 'https://x.example/letters/s?lang=ko' },
      { hreflang: 'uk', href: 'https://x.example/letters/s?lang=uk' },
      { hreflang: 'x-default', href: 'https://x.example/letters/s' },
    ]);
    const home = homePageMeta({
      publicUrl: 'https://x.example',
      siteName: 'U',
      description: 'D',
      interfaceLanguage: 'ko',
      imageAlt: 'A',
    });
    expect(home.alternates.map((a) => a.href)).toEqual([
      'https://x.example/?lang=en',
      'https://x.example/?lang=ko',
      'https://x.example/?lang=uk',
      'https://x.example/',
    ]);
  });

  it('cut a long summary at a word, on one line', () => {
    const long = `${'word '.repeat(60)}end`;
    const cut = shortDescription(long, 50);
    expect(Array.from(cut).length).toBeLessThanOrEqual(50);
    expect(cut).toMatch(/^word( word)*…$/);
    expect(shortDescription('two\nlines')).toBe('two lines');
  });
});
