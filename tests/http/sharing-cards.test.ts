import { Resvg } from '@resvg/resvg-js';
import QRCode from 'qrcode';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatsFor } from '../../server/lib/format.js';
import { fixedT } from '../../server/lib/i18n.js';
import { homeCardSvg } from '../../server/sharing/card.js';
import { QR_OPTIONS } from '../../server/sharing/qr.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { startTags } from '../support/html.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

/** The three interface languages, each with the letter's title and summary in it and its og:locale. */
const TEXTS = [
  {
    language: 'en',
    title: 'Do not send the captured soldiers back',
    summary: 'They must be free to choose asylum.',
    locale: 'en_US',
  },
  {
    language: 'ko',
    title: '포로가 된 북한군 병사들을 강제로 북송하지 마십시오',
    summary: '그들이 망명을 선택할 수 있어야 합니다.',
    locale: 'ko_KR',
  },
  {
    language: 'uk',
    title: 'Не повертайте полонених солдатів силоміць',
    summary: 'Вони мають право обрати притулок.',
    locale: 'uk_UA',
  },
] as const;

/** A title that tries to end the SVG text and the attribute it sits in, with a control character. */
const HOSTILE_TITLE = `</text><script>alert(1)</script> & "quotes" 'too' <b>\u0001`;

/** The content of every <meta> in the page's head, by its property or name. */
function metaTags(html: string): Map<string, string> {
  const head = html.slice(0, html.indexOf('</head>'));
  const tags = new Map<string, string>();
  for (const meta of startTags(head, 'meta')) {
    const key = meta.attrs.property ?? meta.attrs.name;
    if (key !== undefined) tags.set(key, meta.attrs.content ?? '');
  }
  return tags;
}

/** Width and height from a PNG's header (its IHDR chunk), after checking it is a PNG at all. */
function pngSize(body: Buffer): { width: number; height: number } {
  expect(body.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
  expect(body.subarray(12, 16).toString('ascii')).toBe('IHDR');
  return { width: body.readUInt32BE(16), height: body.readUInt32BE(20) };
}

/** supertest's parser for a binary body. */
function binary(res: request.Response, done: (error: Error | null, body: Buffer) => void): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => done(null, Buffer.concat(chunks)));
}

/** An SVG answer with its body as text (supertest buffers only text/* and JSON by itself). */
async function getSvg(app: TestPlatform['app'], path: string) {
  const response = await request(app).get(path).buffer(true).parse(binary);
  return {
    ...response,
    headers: response.headers as Record<string, string>,
    svg: (response.body as Buffer).toString('utf8'),
  };
}

describe('share cards, QR codes and badges of a letter', () => {
  let t: TestPlatform;
  let slug: string;
  let hostile: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), {
      goal: 5000,
      texts: TEXTS.map(({ language, title, summary }) => ({
        language,
        title,
        summary,
        body: SIMPLE_LETTER_BODY,
      })),
    }));
    ({ slug: hostile } = await createLetter(t.platform.db, t.clock.now(), { title: HOSTILE_TITLE }));
  });
  afterAll(async () => {
    await t.close();
  });

  const setCount = (letterSlug: string, count: number) =>
    t.platform.db
      .updateTable('letters')
      .set({ signature_count: count })
      .where('slug', '=', letterSlug)
      .execute();

  describe.each(TEXTS)('the letter page in $language', ({ language, title, summary, locale }) => {
    it('describes itself with absolute addresses in its language, and its card is a real 1200×630 PNG', async () => {
      const page = await request(t.app).get(`/letters/${slug}?lang=${language}`).set('Accept', 'text/html');
      expect(page.status).toBe(200);
      const meta = metaTags(page.text);
      const url = `${TEST_PUBLIC_URL}/letters/${slug}?lang=${language}`;
      expect(Object.fromEntries(meta)).toMatchObject({
        description: summary,
        'og:type': 'website',
        'og:site_name': 'Undersigned',
        'og:title': title,
        'og:description': summary,
        'og:url': url,
        'og:locale': locale,
        'og:image': `${TEST_PUBLIC_URL}/letters/${slug}/card.png?lang=${language}`,
        'og:image:width': '1200',
        'og:image:height': '630',
        'twitter:card': 'summary_large_image',
      });
      expect(meta.get('og:image:alt')).toContain(title);
      // The page in the other languages, for search engines.
      const head = page.text.slice(0, page.text.indexOf('</head>'));
      const alternates = startTags(head, 'link').filter((l) => l.attrs.rel === 'alternate');
      expect(alternates.map((l) => [l.attrs.hreflang, l.attrs.href])).toEqual([
        ['en', `${TEST_PUBLIC_URL}/letters/${slug}?lang=en`],
        ['ko', `${TEST_PUBLIC_URL}/letters/${slug}?lang=ko`],
        ['uk', `${TEST_PUBLIC_URL}/letters/${slug}?lang=uk`],
        ['x-default', `${TEST_PUBLIC_URL}/letters/${slug}`],
      ]);

      const image = new URL(meta.get('og:image')!);
      expect(image.origin).toBe(new URL(TEST_PUBLIC_URL).origin);
      const card = await request(t.app).get(`${image.pathname}${image.search}`).buffer(true).parse(binary);
      expect(card.status).toBe(200);
      expect(card.headers['content-type']).toBe('image/png');
      expect(card.headers['cache-control']).toMatch(/^public, max-age=\d+/);
      expect(card.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(pngSize(card.body as Buffer)).toEqual({ width: 1200, height: 630 });
    });
  });

  it('gives the pages a supporter reaches after signing the letter’s card, pointing at the letter', async () => {
    // Shared from the address bar after signing, they unfolded into nothing.
    const letterMeta = metaTags((await request(t.app).get(`/letters/${slug}?lang=ko`)).text);
    for (const after of ['check-your-inbox', 'thank-you']) {
      const page = await request(t.app).get(`/letters/${slug}/${after}?lang=ko`).set('Accept', 'text/html');
      expect(page.status, after).toBe(200);
      const meta = metaTags(page.text);
      expect(meta.get('og:url'), after).toBe(`${TEST_PUBLIC_URL}/letters/${slug}?lang=ko`);
      expect(Object.fromEntries(meta), after).toEqual(Object.fromEntries(letterMeta));
    }
  });

  it('names the text in the card and page addresses when it is not the interface language', async () => {
    const page = await request(t.app).get(`/letters/${slug}?lang=en&text=ko`).set('Accept', 'text/html');
    const meta = metaTags(page.text);
    expect(meta.get('og:title')).toBe(TEXTS[1].title);
    expect(meta.get('og:locale')).toBe('ko_KR');
    expect(meta.get('og:url')).toBe(`${TEST_PUBLIC_URL}/letters/${slug}?lang=en&text=ko`);
    expect(meta.get('og:image')).toBe(`${TEST_PUBLIC_URL}/letters/${slug}/card.png?lang=en&text=ko`);
  });

  it.each(TEXTS)(
    'describes the home page as the site in $language, with the site’s own card in that language',
    async ({ language, locale }) => {
      const home = await request(t.app).get(`/?lang=${language}`).set('Accept', 'text/html');
      const meta = metaTags(home.text);
      expect(meta.get('og:url')).toBe(`${TEST_PUBLIC_URL}/?lang=${language}`);
      expect(meta.get('og:locale')).toBe(locale);
      expect(meta.get('twitter:card')).toBe('summary_large_image');
      expect(meta.get('description')!.length).toBeGreaterThan(40);
      expect(meta.get('og:description')).toBe(meta.get('description'));
      expect(meta.get('og:image')).toBe(`${TEST_PUBLIC_URL}/card.png?lang=${language}`);
      expect(meta.get('og:image:alt')).toContain(fixedT(t.platform.i18n, language)('site.tagline'));

      const card = await request(t.app).get(`/card.png?lang=${language}`).buffer(true).parse(binary);
      expect(card.status).toBe(200);
      expect(card.headers['content-type']).toBe('image/png');
      expect(card.headers['cross-origin-resource-policy']).toBe('cross-origin');
      expect(pngSize(card.body as Buffer)).toEqual({ width: 1200, height: 630 });
      const again = await request(t.app)
        .get(`/card.png?lang=${language}`)
        .set('If-None-Match', card.headers.etag as string);
      expect(again.status).toBe(304);
    },
  );

  it('draws the site’s card once per language, with its tagline and address', async () => {
    const svgOf = (language: string) =>
      homeCardSvg({
        siteName: 'Undersigned',
        tagline: fixedT(t.platform.i18n, language)('site.tagline'),
        description: fixedT(t.platform.i18n, language)('share.meta.homeDescription'),
        language,
        host: new URL(TEST_PUBLIC_URL).host,
      });
    const korean = svgOf('ko');
    expect(korean).toContain('lang="ko"');
    expect(korean).toContain(new URL(TEST_PUBLIC_URL).host);
    // Each language's tagline starts the title (as many words as fit on the first line).
    expect(korean).toContain(fixedT(t.platform.i18n, 'ko')('site.tagline').split(' ')[0]);
    const pngs = await Promise.all(
      ['en', 'ko', 'uk', 'en'].map((language) =>
        request(t.app).get(`/card.png?lang=${language}`).buffer(true).parse(binary),
      ),
    );
    const bodies = pngs.map((p) => (p.body as Buffer).toString('base64'));
    expect(new Set(bodies).size).toBe(3);
    expect(bodies[3]).toBe(bodies[0]);
  });

  it('answers a card again from its copy (same ETag, 304), and redraws it once the count has moved and the pause has passed', async () => {
    const path = `/letters/${slug}/card.png?lang=en`;
    const first = await request(t.app).get(path).buffer(true).parse(binary);
    const etag = first.headers.etag!;
    expect(etag).toMatch(/^"/);
    const again = await request(t.app).get(path).set('If-None-Match', etag);
    expect(again.status).toBe(304);

    await setCount(slug, 1234);
    // Within the pause the card stays as it was drawn: a surge does not redraw it on every request.
    t.clock.advance(1_000);
    expect((await request(t.app).get(path).set('If-None-Match', etag)).status).toBe(304);
    t.clock.advance(10_000);
    const redrawn = await request(t.app).get(path).set('If-None-Match', etag).buffer(true).parse(binary);
    expect(redrawn.status).toBe(200);
    expect(redrawn.headers.etag).not.toBe(etag);
    expect(pngSize(redrawn.body as Buffer)).toEqual({ width: 1200, height: 630 });
  });

  it('draws a card, a badge and a QR code for a hostile title without breaking out of the SVG', async () => {
    const card = await request(t.app).get(`/letters/${hostile}/card.png`).buffer(true).parse(binary);
    expect(card.status).toBe(200);
    expect(pngSize(card.body as Buffer)).toEqual({ width: 1200, height: 630 });

    const badge = await getSvg(t.app, `/letters/${hostile}/badge.svg`);
    expect(badge.status).toBe(200);
    const svg = badge.svg;
    expect(svg).not.toMatch(/<script|<b>/i);
    expect(svg).not.toContain('\u0001');
    expect(svg).toContain(
      '&lt;/text&gt;&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot; &apos;too&apos;',
    );
    // A renderer reads it as one well-formed document (it throws on anything else).
    expect(new Resvg(svg).width).toBeGreaterThan(0);
  });

  it('serves the badge as an SVG that may run nothing, with the count and goal in the reader’s number format', async () => {
    await setCount(slug, 12345);
    for (const language of ['en', 'ko', 'uk']) {
      const badge = await getSvg(t.app, `/letters/${slug}/badge.svg?lang=${language}`);
      expect(badge.status).toBe(200);
      expect(badge.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
      const csp = badge.headers['content-security-policy']!;
      expect(csp).toContain("default-src 'none'");
      expect(csp).toContain('sandbox');
      expect(csp).not.toMatch(/script-src|unsafe/);
      expect(badge.headers['cache-control']).toMatch(/^public, max-age=5\b/);
      expect(badge.headers['cross-origin-resource-policy']).toBe('cross-origin');
      const number = formatsFor(language).number;
      expect(badge.svg).toContain(`${number(12345)} / ${number(5000)}`);
    }
    const uk = await getSvg(t.app, `/letters/${slug}/badge.svg?lang=uk`);
    // 12 345 in Ukrainian: a space groups the thousands, and "підписів" is the plural for 12,345.
    expect(uk.svg).toContain('12\u00a0345');
    expect(uk.svg).toContain('>підписів<');
  });

  it.each(['en', 'ko', 'uk'])(
    'serves a QR code of the letter’s link in %s, the code qrcode makes for it',
    async (language) => {
      const qr = await getSvg(t.app, `/letters/${slug}/qr.svg?lang=${language}`);
      expect(qr.status).toBe(200);
      expect(qr.headers['content-type']).toBe('image/svg+xml; charset=utf-8');
      expect(qr.headers['cache-control']).toMatch(/^public, max-age=\d+/);
      const expected = await QRCode.toString(
        `${TEST_PUBLIC_URL}/letters/${slug}?lang=${language}`,
        QR_OPTIONS,
      );
      expect(qr.svg).toBe(expected);
      const drawn = new Resvg(qr.svg);
      expect([drawn.width, drawn.height]).toEqual([512, 512]);
    },
  );

  it('answers hostile or made-up languages and broken addresses with the default or a 4xx, never a 500', async () => {
    for (const query of [
      `?lang=%3Cscript%3E&text=${'x'.repeat(5_000)}`,
      '?lang[]=ko&text[x]=uk',
      '?text=zz',
    ]) {
      const qr = await getSvg(t.app, `/letters/${slug}/qr.svg${query}`);
      expect(qr.status, query).toBe(200);
      // Whatever was asked, the code is of a real address of the letter, never of the input.
      expect(qr.svg).toBe(await QRCode.toString(`${TEST_PUBLIC_URL}/letters/${slug}?lang=en`, QR_OPTIONS));
      expect((await getSvg(t.app, `/letters/${slug}/badge.svg${query}`)).status, query).toBe(200);
    }
    for (const image of ['card.png', 'badge.svg', 'qr.svg']) {
      const broken = await request(t.app).get(`/letters/%E0%A4%A/${image}`);
      expect(broken.status, image).toBeGreaterThanOrEqual(400);
      expect(broken.status, image).toBeLessThan(500);
    }
  });

  it('has no card, badge or QR code for a draft or an unknown letter', async () => {
    const { slug: draft } = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    for (const letter of [draft, 'no-such-letter'])
      for (const image of ['card.png', 'badge.svg', 'qr.svg'])
        expect((await request(t.app).get(`/letters/${letter}/${image}`)).status, `${letter}/${image}`).toBe(
          404,
        );
  });
});
