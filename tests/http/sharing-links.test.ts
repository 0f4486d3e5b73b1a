import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { mainOf, startTags, type StartTag } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const SUPPORTER = 'share-supporter@example.org';
const PAGES = ['', '/check-your-inbox', '/thank-you'] as const;

/** The share panel's links, in the order shown, by the service each names. */
function shareLinks(html: string): { service: string; tag: StartTag }[] {
  return startTags(mainOf(html), 'a')
    .filter((a) => (a.attrs.class ?? '').split(' ').includes('share__link'))
    .map((tag) => ({ service: /share__link--(\w+)/.exec(tag.attrs.class!)![1]!, tag }));
}

describe('sharing a letter from its page, "check your inbox" and "thank you"', () => {
  let t: TestPlatform;
  let slug: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { language: 'en', title: 'Protect them', summary: 'A letter.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '그들을 보호하십시오', summary: '편지입니다.', body: SIMPLE_LETTER_BODY },
        { language: 'uk', title: 'Захистіть їх', summary: 'Лист.', body: SIMPLE_LETTER_BODY },
      ],
    }));
    // A supporter who chose to be listed by full name: their name is public, their address never.
    await signAndConfirm(t, new Visitor(t.app), slug, { email: SUPPORTER, display: 'full' });
  });
  afterAll(async () => {
    await t.close();
  });

  describe.each(PAGES)('the page /letters/:slug%s', (suffix) => {
    it.each(['en', 'ko', 'uk'])(
      'offers the link in its language (%s) to copy and every service',
      async (language) => {
        const page = await new Visitor(t.app).get(`/letters/${slug}${suffix}?lang=${language}`);
        expect(page.status).toBe(200);
        const url = `${TEST_PUBLIC_URL}/letters/${slug}?lang=${language}`;
        const field = startTags(mainOf(page.text), 'input').find((i) => i.attrs.id === 'share-url')!;
        expect(field.attrs).toMatchObject({ type: 'text', value: url });
        expect(field.attrs.readonly).toBe('');

        const links = shareLinks(page.text);
        const services = links.map((l) => l.service);
        expect(new Set(services)).toEqual(
          new Set([
            'email',
            'kakaotalk',
            'line',
            'telegram',
            'whatsapp',
            'x',
            'facebook',
            ...(language === 'uk' ? ['viber'] : []),
          ]),
        );
        // The messengers the page's readers use come first.
        if (language === 'ko') expect(services.slice(0, 2)).toEqual(['kakaotalk', 'line']);
        if (language === 'uk') expect(services.slice(0, 2)).toEqual(['telegram', 'viber']);

        for (const { service, tag } of links) {
          const href = tag.attrs.href!;
          if (service === 'kakaotalk') {
            // No share address works without Kakao's script: the link to copy (and the share sheet with ours).
            expect(href).toBe('#share-url');
            continue;
          }
          expect(decodeURIComponent(href), service).toContain(url);
          if (service === 'email') expect(href).toMatch(/^mailto:\?/);
          else {
            expect(href, service).toMatch(service === 'viber' ? /^viber:\/\/forward\?/ : /^https:\/\//);
            expect(tag.attrs).toMatchObject({ target: '_blank', rel: 'noopener noreferrer' });
          }
        }
        expect(
          startTags(mainOf(page.text), 'a').find((a) => a.attrs.href?.includes('/qr.svg'))!.attrs.href,
        ).toBe(`/letters/${slug}/qr.svg?lang=${language}`);
      },
    );

    it('keeps the text read when it is not the interface language', async () => {
      const page = await new Visitor(t.app).get(`/letters/${slug}${suffix}?lang=en&text=ko`);
      const field = startTags(mainOf(page.text), 'input').find((i) => i.attrs.id === 'share-url')!;
      expect(field.attrs.value).toBe(`${TEST_PUBLIC_URL}/letters/${slug}?lang=en&text=ko`);
      const x = shareLinks(page.text).find((l) => l.service === 'x')!;
      expect(new URL(x.tag.attrs.href!).searchParams.get('text')).toBe('그들을 보호하십시오');
    });

    it('loads no script from another site and shows no supporter’s address', async () => {
      const page = await new Visitor(t.app).get(`/letters/${slug}${suffix}`);
      const scripts = startTags(page.text, 'script').map((s) => s.attrs.src);
      expect(scripts).toContain('/assets/share.js');
      for (const src of scripts) if (src !== undefined) expect(src).toMatch(/^\/(?!\/)/);
      expect(page.text).not.toContain(SUPPORTER);
      expect(page.text).not.toContain('share-supporter');
    });
  });

  it('serves the copy script from our own origin, as the strict CSP allows', async () => {
    const script = await new Visitor(t.app).get('/assets/share.js');
    expect(script.status).toBe(200);
    expect(script.headers['content-type']).toMatch(/javascript/);
    expect(script.text).toContain('navigator.clipboard');
  });
});
