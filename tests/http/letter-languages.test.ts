import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, signingForm, SIMPLE_LETTER_BODY } from '../support/factories.js';
import {
  byClass,
  byId,
  hrefsIn,
  innerHtml,
  mainOf,
  startTags,
  textOf,
  textsByClass,
} from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm, signatureRows } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';
import { createI18n } from '../../server/lib/i18n.js';

const KOREAN_TITLE = '포로가 된 병사들을 보호해 주십시오';

describe('the interface language and the language of the letter are chosen apart', () => {
  let t: TestPlatform;
  let slug: string;
  let visitor: Visitor;
  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        {
          language: 'en',
          title: 'Protect the captured soldiers',
          summary: 'A test letter.',
          body: SIMPLE_LETTER_BODY,
        },
        { language: 'ko', title: KOREAN_TITLE, summary: '시험 편지입니다.', body: SIMPLE_LETTER_BODY },
      ],
    }));
    visitor = new Visitor(t.app);
  });
  afterEach(async () => {
    await t.close();
  });

  const heading = (html: string) => textOf(innerHtml(html, startTags(html, 'h1')[0]!));
  const interfaceLanguage = (html: string) => startTags(html, 'html')[0]!.attrs.lang;
  const languageField = (html: string) =>
    startTags(html, 'input').find((tag) => tag.attrs.name === 'language')?.attrs.value;
  const formHeading = (html: string) => textOf(innerHtml(html, byId(html, 'sign-heading')!));

  it('shows the Korean text with ?text=ko and keeps the English interface around it', async () => {
    const page = await visitor.get(`/letters/${slug}?text=ko`);
    expect(page.status).toBe(200);
    expect(heading(page.text)).toBe(KOREAN_TITLE);
    expect(startTags(page.text, 'h1')[0]!.attrs.lang).toBe('ko');
    expect(interfaceLanguage(page.text)).toBe('en');
    expect(formHeading(page.text)).toBe('Sign this letter');
    expect(languageField(page.text)).toBe('ko');
  });

  it('links between the translations with ?text=, so choosing a text never changes the interface', async () => {
    const english = await visitor.get(`/letters/${slug}`);
    expect(heading(english.text)).toBe('Protect the captured soldiers');
    const links = hrefsIn(mainOf(english.text)).filter((href) => href.startsWith(`/letters/${slug}?`));
    expect(links).toEqual([`/letters/${slug}?text=ko`]);

    const korean = await visitor.get(links[0]!);
    expect(heading(korean.text)).toBe(KOREAN_TITLE);
    expect(interfaceLanguage(korean.text)).toBe('en');
    expect(hrefsIn(mainOf(korean.text)).filter((href) => href.startsWith(`/letters/${slug}?`))).toEqual([
      `/letters/${slug}?text=en`,
    ]);
  });

  it('lists the letters on the home page in the text asked for, each linking to that text', async () => {
    const korean = await visitor.get('/?text=ko');
    expect(textOf(mainOf(korean.text))).toContain(KOREAN_TITLE);
    expect(interfaceLanguage(korean.text)).toBe('en');
    expect(hrefsIn(mainOf(korean.text))).toContain(`/letters/${slug}?text=ko`);

    const english = await visitor.get('/');
    expect(hrefsIn(mainOf(english.text))).toContain(`/letters/${slug}`);
    expect(hrefsIn(mainOf(english.text))).not.toContain(`/letters/${slug}?text=ko`);
  });

  it('links plainly to the text in the interface language when the browser asks for a regional English', async () => {
    const home = await visitor.get('/').set('Accept-Language', 'en-US,en;q=0.9');
    expect(hrefsIn(mainOf(home.text))).toContain(`/letters/${slug}`);
    expect(hrefsIn(mainOf(home.text)).some((href) => href.includes('?text='))).toBe(false);
  });

  it("names the signatories' countries in the interface language, and the letter's merge fields in the text's", async () => {
    await signAndConfirm(t, visitor, slug, { country: 'KR', display: 'full' });
    const page = await visitor.get(`/letters/${slug}?text=ko`);
    expect(textsByClass(page.text, 'signatory__country')).toEqual(['(South Korea)']);
    expect(textOf(innerHtml(page.text, byClass(page.text, 'letter__text')[0]!))).toContain(
      'Kim Ji-hoon, 대한민국',
    );
  });

  it('keeps an interface language chosen in the address on the links between translations', async () => {
    const page = await visitor.get(`/letters/${slug}?lang=en`);
    expect(hrefsIn(mainOf(page.text))).toContain(`/letters/${slug}?text=ko&lang=en`);
  });

  it('opens the Korean text from an old ?lang=ko link, in the Korean interface its sender meant', async () => {
    const page = await visitor.get(`/letters/${slug}?lang=ko`);
    expect(page.status).toBe(200);
    expect(heading(page.text)).toBe(KOREAN_TITLE);
    expect(interfaceLanguage(page.text)).toBe('ko');
    expect(formHeading(page.text)).toBe(createI18n().getFixedT('ko')('form.heading'));
  });

  it('lets ?text= choose the text whatever ?lang= asks of the interface', async () => {
    const page = await visitor.get(`/letters/${slug}?lang=ko&text=en`);
    expect(heading(page.text)).toBe('Protect the captured soldiers');
    expect(interfaceLanguage(page.text)).toBe('ko');
  });

  it('answers every public page normally when the interface is asked for in a language it does not have', async () => {
    for (const path of ['/', `/letters/${slug}`, `/letters/${slug}/check-your-inbox`, '/privacy']) {
      const page = await visitor.get(`${path}?lang=fr`);
      expect(page.status, path).toBe(200);
      expect(interfaceLanguage(page.text), path).toBe('en');
    }
    const withHeader = await visitor.get(`/letters/${slug}`).set('Accept-Language', 'fr');
    expect(withHeader.status).toBe(200);
    expect(interfaceLanguage(withHeader.text)).toBe('en');
  });

  it("falls back to the letter's main text for a language the letter does not have", async () => {
    const page = await visitor.get(`/letters/${slug}?text=uk`);
    expect(page.status).toBe(200);
    expect(heading(page.text)).toBe('Protect the captured soldiers');
    expect(languageField(page.text)).toBe('en');
  });

  it('records the language of the text the supporter read, from the form, and brings a refused form back in it', async () => {
    const refused = await visitor.submit(`/letters/${slug}?text=ko`, `/letters/${slug}/sign`, {
      ...signingForm({ email: 'nope' }),
      language: 'ko',
    });
    expect(refused.status).toBe(422);
    expect(heading(refused.text)).toBe(KOREAN_TITLE);
    expect(interfaceLanguage(refused.text)).toBe('en');

    const signed = await visitor.submit(`/letters/${slug}?text=ko`, `/letters/${slug}/sign`, {
      ...signingForm(),
      language: languageField(refused.text)!,
    });
    expect(signed.status).toBe(303);
    expect(signed.headers.location).toBe(`/letters/${slug}/check-your-inbox?text=ko`);
    expect((await signatureRows(t.platform.db)).map((row) => row.language)).toEqual(['ko']);
    const next = await visitor.get(signed.headers.location!);
    expect(textOf(mainOf(next.text))).toContain(KOREAN_TITLE);
    expect(hrefsIn(mainOf(next.text))).toContain(`/letters/${slug}?text=ko`);
    expect(interfaceLanguage(next.text)).toBe('en');
  });

  it('records the main language when the form claims a language the letter does not have', async () => {
    const signed = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, {
      ...signingForm(),
      language: 'xx',
    });
    expect(signed.status).toBe(303);
    expect((await signatureRows(t.platform.db)).map((row) => row.language)).toEqual(['en']);
  });
});
