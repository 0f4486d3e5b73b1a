import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter, signingForm, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { createAccount, signedIn, TEST_PASSWORD } from '../support/accounts.js';
import { fieldsOf, postForm } from '../support/admin-forms.js';
import { linksIn } from '../support/smtp-sink.js';
import { lastMailTo, signatureLinks } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

/** The page's <html lang>. */
function htmlLang(html: string): string | undefined {
  return startTags(html, 'html')[0]?.attrs.lang;
}

/** The language switcher's links: the nav whose links carry hreflang. */
function switcher(html: string) {
  const nav = startTags(html, 'nav').find((n) =>
    startTags(innerHtml(html, n), 'a').some((a) => a.attrs.hreflang !== undefined),
  );
  if (!nav) return undefined;
  const inner = innerHtml(html, nav);
  return {
    label: nav.attrs['aria-label'],
    links: startTags(inner, 'a').map((a) => ({
      text: textOf(innerHtml(inner, a)),
      href: a.attrs.href,
      lang: a.attrs.lang,
      hreflang: a.attrs.hreflang,
      current: a.attrs['aria-current'],
    })),
  };
}

describe('the interface language', () => {
  let t: TestPlatform;
  let slug: string;
  beforeAll(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterAll(async () => {
    await t.close();
  });

  const get = (path: string) => request(t.app).get(path).set('Accept', 'text/html');

  it('is chosen by ?lang= first, then the us_lang cookie, then Accept-Language, then English', async () => {
    const all = await get('/?lang=uk').set('Cookie', 'us_lang=ko').set('Accept-Language', 'en');
    expect(htmlLang(all.text)).toBe('uk');
    const cookie = await get('/').set('Cookie', 'us_lang=ko').set('Accept-Language', 'uk');
    expect(htmlLang(cookie.text)).toBe('ko');
    const header = await get('/').set('Accept-Language', 'uk-UA,uk;q=0.9');
    expect(htmlLang(header.text)).toBe('uk');
    const none = await get('/');
    expect(htmlLang(none.text)).toBe('en');
  });

  it('skips what it does not offer at each step and reads Accept-Language by its q-values', async () => {
    const unknown = await get('/?lang=fr').set('Cookie', 'us_lang=xx').set('Accept-Language', 'ko');
    expect(htmlLang(unknown.text)).toBe('ko');
    const weighted = await get('/').set('Accept-Language', 'fr-FR, en;q=0.5, uk;q=0.8, ko;q=0');
    expect(htmlLang(weighted.text)).toBe('uk');
    const region = await get('/?lang=ko-KR');
    expect(htmlLang(region.text)).toBe('ko');
  });

  it('gives a Korean browser (ko-KR,ko;q=0.9) a page in <html lang="ko"> with Content-Language ko', async () => {
    const response = await get('/').set('Accept-Language', 'ko-KR,ko;q=0.9');
    expect(htmlLang(response.text)).toBe('ko');
    expect(response.headers['content-language']).toBe('ko');
    expect(response.headers.vary).toMatch(/Accept-Language/i);
    expect(response.headers.vary).toMatch(/Cookie/i);
  });

  it('says in Vary only what chose the language: nothing more for ?lang=, the cookie for the cookie', async () => {
    const query = await get('/?lang=ko').set('Accept-Language', 'uk');
    expect(query.headers.vary ?? '').not.toMatch(/Accept-Language|Cookie/i);
    const cookie = await get('/').set('Cookie', 'us_lang=uk');
    expect(cookie.headers.vary).toMatch(/Cookie/i);
    expect(cookie.headers.vary).not.toMatch(/Accept-Language/i);
  });

  it('keeps <html lang> on error pages', async () => {
    const missing = await get('/letters/no-such-letter').set('Accept-Language', 'uk');
    expect(missing.status).toBe(404);
    expect(htmlLang(missing.text)).toBe('uk');
  });

  it('offers the switcher, each language named in itself, on the home, letter, privacy, login and an admin page', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    const pages = [
      await get('/?lang=ko'),
      await get(`/letters/${slug}?lang=ko`),
      await get('/privacy?lang=ko'),
      await get('/login?lang=ko'),
      await visitor.get('/admin/recipients?lang=ko'),
    ];
    for (const [index, page] of pages.entries()) {
      expect(page.status).toBe(200);
      const nav = switcher(page.text);
      expect(nav, `page ${index}`).toBeDefined();
      expect(nav!.label).toBe('언어');
      expect(nav!.links.map((l) => [l.text, l.lang, l.hreflang])).toEqual([
        ['English', 'en', 'en'],
        ['한국어', 'ko', 'ko'],
        ['Українська', 'uk', 'uk'],
      ]);
      expect(nav!.links.map((l) => l.current)).toEqual([undefined, 'true', undefined]);
    }
    // Each link comes back to the page it is on, without the ?lang= the cookie replaces; on a letter that
    // ?lang= also chose the text (text-language.ts), which stays: switching the interface keeps the text.
    const letter = switcher(pages[1]!.text)!;
    expect(letter.links[2]!.href).toBe(`/language/uk?next=${encodeURIComponent(`/letters/${slug}?text=ko`)}`);
    const privacy = switcher(pages[2]!.text)!;
    expect(privacy.links[2]!.href).toBe(`/language/uk?next=${encodeURIComponent('/privacy')}`);
  });

  it("keeps the letter's text when switching the interface on a letter opened with only ?lang=", async () => {
    const switched = await request(t.app).get(
      `/language/uk?next=${encodeURIComponent(`/letters/${slug}/thank-you?lang=ko`)}`,
    );
    expect(switched.headers.location).toBe(`/letters/${slug}/thank-you?text=ko`);
  });

  it('remembers the choice for a year in us_lang and goes back to the page without its lang=', async () => {
    const next = `/letters/${slug}?text=ko&lang=en`;
    const response = await request(t.app).get(`/language/uk?next=${encodeURIComponent(next)}`);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/letters/${slug}?text=ko`);
    const cookie = String(response.headers['set-cookie']);
    expect(cookie).toMatch(/^us_lang=uk;/);
    expect(cookie).toMatch(/Max-Age=31536000/);
    expect(cookie).toMatch(/Path=\//);
    expect(cookie).toMatch(/SameSite=Lax/);

    const agent = request.agent(t.app);
    await agent.get('/language/uk?next=/');
    const home = await agent.get('/').set('Accept', 'text/html').set('Accept-Language', 'ko');
    expect(htmlLang(home.text)).toBe('uk');
  });

  it('goes back only to a path of this site: //evil.example, /\\evil.example and https: go home', async () => {
    for (const next of [
      '//evil.example',
      '//evil.example/steal',
      '/\\evil.example/steal',
      'https://evil.example/',
      '/\t/evil.example/steal',
      // Dot segments the URL parser resolves into a path that starts with two slashes.
      '/.//evil.example/x',
      '/%2e//evil.example',
      '/..//evil.example',
      '/./\\evil.example',
      '',
    ]) {
      const response = await request(t.app).get(`/language/ko?next=${encodeURIComponent(next)}`);
      expect(response.status, next).toBe(303);
      expect(response.headers.location, next).toBe('/');
    }
  });

  it('answers an unknown language with the 404 page and sets no cookie', async () => {
    const response = await get('/language/fr?next=/');
    expect(response.status).toBe(404);
    expect(response.headers['set-cookie']).toBeUndefined();
  });

  it("keeps an e-mail's ?lang= through the invitation and password-reset forms, whatever the browser says", async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const invited = 'invited-in-ukrainian@example.org';
    expect(
      (
        await postForm(
          admin,
          '/admin/users',
          '/admin/users/invite',
          fieldsOf({ email: invited, role: 'organizer' }),
        )
      ).status,
    ).toBe(303);
    const owner = await createAccount(t.platform, 'organizer');
    expect(
      (await new Visitor(t.app).submit('/account/reset', '/account/reset', { email: owner.email })).status,
    ).toBe(200);
    await t.drainOutbox();
    /** The path of an e-mail's link, opened with ?lang=uk. */
    const inUkrainian = (address: string, path: string) => {
      const link = linksIn(t.sink.to(address).at(-1)!).find((l) => l.includes(path))!;
      return `${new URL(link).pathname}?lang=uk`;
    };

    for (const [address, path, next] of [
      [invited, '/account/invite/', '/admin?lang=uk'],
      [owner.email, '/account/reset/', `/login?lang=uk&done=passwordReset`],
    ] as const) {
      const page = inUkrainian(address, path);
      const reader = new Visitor(t.app);
      const form = await reader.get(page).set('Accept-Language', 'en');
      expect(htmlLang(form.text), path).toBe('uk');
      const action = startTags(mainOf(form.text), 'form').find((f) => f.attrs.method === 'post')!.attrs
        .action;
      expect(action, path).toBe(page);
      // A refused password comes back in Ukrainian, and the page after it is Ukrainian too.
      const refused = await reader.submit(page, action!, { password: 'short', confirm: 'short' });
      expect(refused.status, path).toBe(422);
      expect(htmlLang(refused.text), path).toBe('uk');
      const done = await reader.submit(page, action!, { password: TEST_PASSWORD, confirm: TEST_PASSWORD });
      expect(done.headers.location, path).toBe(next);
    }
  });

  it("keeps a public page's ?lang= in the header's and footer's links and in the data-access form", async () => {
    const opened = await get('/privacy/access?lang=uk').set('Accept-Language', 'en');
    expect(htmlLang(opened.text)).toBe('uk');
    const links = hrefsIn(opened.text).filter(
      (href) => href === '/' || href.startsWith('/?') || href.startsWith('/privacy'),
    );
    expect(new Set(links)).toEqual(new Set(['/?lang=uk', '/privacy?lang=uk']));
    const action = startTags(mainOf(opened.text), 'form').find((f) => f.attrs.method === 'post')!.attrs
      .action;
    expect(action).toBe('/privacy/access?lang=uk');
    // Sent from that page by a browser that prefers English: the answer, and its mistakes, in Ukrainian.
    const refused = await new Visitor(t.app).submit('/privacy/access?lang=uk', action!, { email: 'no' });
    expect(refused.status).toBe(422);
    expect(htmlLang(refused.text)).toBe('uk');
    const sent = await new Visitor(t.app).submit('/privacy/access?lang=uk', action!, {
      email: 'a@example.org',
    });
    expect(sent.status).toBe(200);
    expect(htmlLang(sent.text)).toBe('uk');
    expect(hrefsIn(mainOf(sent.text))).toContain('/privacy?lang=uk');
    // The switcher on the answer to the form goes back to the form, not to the home page.
    expect(hrefsIn(refused.text)).toContain(`/language/en?next=${encodeURIComponent('/privacy/access')}`);
    // Without ?lang= the same links are plain: the cookie or the browser chose, and still will.
    const plain = await get('/privacy/access');
    expect(hrefsIn(plain.text)).toContain('/privacy');
    expect(hrefsIn(plain.text).filter((href) => href.includes('lang='))).toEqual([]);
  });

  it('does not remember ?lang= in a cookie on public pages', async () => {
    const response = await get('/?lang=ko');
    expect(String(response.headers['set-cookie'] ?? '')).not.toMatch(/us_lang/);
  });

  it("keeps a staff page's ?lang= through the forms and links after it, when no language was chosen", async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const opened = await admin.get('/admin/users?lang=uk').set('Accept-Language', 'en');
    expect(htmlLang(opened.text)).toBe('uk');
    const cookies = ([] as string[]).concat(opened.headers['set-cookie'] ?? []);
    expect(cookies.filter((c) => c.startsWith('us_lang='))).toEqual([
      expect.stringMatching(/^us_lang=uk; .*HttpOnly/),
    ]);
    // A form sent from it (its action has no ?lang=) answers in Ukrainian, and so does the next link.
    const refused = await postForm(
      admin,
      '/admin/users',
      '/admin/users/invite',
      fieldsOf({ email: 'not an address', role: 'organizer' }),
    );
    expect(refused.status).toBe(422);
    expect(htmlLang(refused.text)).toBe('uk');
    expect(htmlLang((await admin.get('/admin/audit').set('Accept-Language', 'en')).text)).toBe('uk');
    // A form post with ?lang= sets nothing: only a page read does, as a link opens it.
    const posted = await admin.agent
      .post('/admin/users/invite?lang=ko')
      .type('form')
      .send({ email: 'x', role: 'organizer' });
    expect(String(posted.headers['set-cookie'] ?? '')).not.toMatch(/us_lang/);
  });

  it("never replaces a language chosen with the switcher from a staff page's ?lang=", async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    expect((await admin.get('/language/ko?next=/admin')).status).toBe(303);
    // A staff e-mail in English (the account's e-mail language) opens its page in English…
    const opened = await admin.get('/admin/users?lang=en');
    expect(htmlLang(opened.text)).toBe('en');
    expect(String(opened.headers['set-cookie'] ?? '')).not.toMatch(/us_lang/);
    // …and the pages after it are in the language the person reads them in.
    expect(htmlLang((await admin.get('/admin/audit')).text)).toBe('ko');
  });
});

describe("the pages after signing keep the letter's language", () => {
  let t: TestPlatform;
  let slug: string;
  beforeAll(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        {
          language: 'en',
          title: 'Protect the captured soldiers',
          summary: 'A test letter.',
          body: SIMPLE_LETTER_BODY,
        },
        {
          language: 'ko',
          title: '포로가 된 병사들을 보호해 주십시오',
          summary: '시험 편지입니다.',
          body: SIMPLE_LETTER_BODY,
        },
      ],
    }));
  });
  afterAll(async () => {
    await t.close();
  });

  /** Signs the Korean text in an English interface; returns the e-mail's links without their query. */
  async function signKorean(email: string) {
    const visitor = new Visitor(t.app);
    const signed = await visitor.submit(`/letters/${slug}?text=ko`, `/letters/${slug}/sign`, {
      ...signingForm({ email }),
      language: 'ko',
    });
    expect(signed.headers.location).toBe(`/letters/${slug}/check-your-inbox?text=ko`);
    await t.drainOutbox();
    const links = signatureLinks(lastMailTo(t, email));
    // An e-mail written before links carried languages: the pages find the text in the signature.
    const bare = (link: string) => new URL(link, 'http://x').pathname;
    return { visitor, confirm: bare(links.confirm), withdraw: bare(links.withdraw) };
  }

  it("marks a letter's text in another language than the interface with its own lang, on the home page and the letter", async () => {
    const home = await request(t.app).get('/?text=ko').set('Accept', 'text/html');
    expect(startTags(home.text, 'html')[0]!.attrs.lang).toBe('en');
    const title = startTags(mainOf(home.text), 'h3').find((h) => h.attrs.id === `letter-${slug}`)!;
    expect(title.attrs.lang).toBe('ko');
    const letter = await request(t.app).get(`/letters/${slug}?text=ko`).set('Accept', 'text/html');
    expect(startTags(letter.text, 'div').find((d) => d.attrs.class === 'letter__text')!.attrs.lang).toBe(
      'ko',
    );
  });

  const formAction = (html: string) =>
    startTags(html, 'form').find((f) => f.attrs.method === 'post')!.attrs.action ?? 'no action';

  it('sends the language switcher on a signing form shown again back to the letter, in the text read', async () => {
    const refused = await new Visitor(t.app).submit(`/letters/${slug}?text=ko`, `/letters/${slug}/sign`, {
      ...signingForm({ email: 'not an address' }),
      language: 'ko',
    });
    expect(refused.status).toBe(422);
    const switcher = hrefsIn(refused.text).filter((href) => href.startsWith('/language/'));
    expect(switcher).toEqual(
      ['en', 'ko', 'uk'].map(
        (code) => `/language/${code}?next=${encodeURIComponent(`/letters/${slug}?text=ko`)}`,
      ),
    );
  });

  it('confirms into the thank-you page in the text the supporter read, and shares that text', async () => {
    const { visitor, confirm } = await signKorean('reader-1@example.org');
    const page = await visitor.get(confirm);
    expect(formAction(mainOf(page.text))).toBe(`${confirm}?text=ko`);

    const confirmed = await visitor.submit(confirm, `${confirm}?text=ko`, {});
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you?text=ko`);

    // Opened again once confirmed, the page links to the letter in that text.
    expect(hrefsIn(mainOf((await visitor.get(confirm)).text))).toContain(`/letters/${slug}?text=ko`);
    const thanks = mainOf((await visitor.get(confirmed.headers.location!)).text);
    expect(hrefsIn(thanks)).toContain(`/letters/${slug}?text=ko`);
    // The page is in English (the interface) with the Korean text: the shared link names both.
    const shareUrl = `${TEST_PUBLIC_URL}/letters/${slug}?lang=en&text=ko`;
    expect(startTags(thanks, 'input').find((i) => i.attrs.id === 'share-url')!.attrs.value).toBe(shareUrl);
    const shares = hrefsIn(thanks).filter((h) => /^(mailto:|https:)/.test(h));
    expect(shares.length).toBe(6);
    for (const share of shares) expect(decodeURIComponent(share)).toContain(shareUrl);
  });

  it('withdraws into the withdrawn page in the text the supporter read', async () => {
    const { visitor, withdraw } = await signKorean('reader-2@example.org');
    const page = await visitor.get(withdraw);
    expect(formAction(mainOf(page.text))).toBe(`${withdraw}?text=ko`);
    expect(hrefsIn(mainOf(page.text))).toContain(`/letters/${slug}?text=ko`);
    const withdrawn = await visitor.submit(withdraw, `${withdraw}?text=ko`, {});
    expect(withdrawn.headers.location).toBe(`/letters/${slug}/withdrawn?text=ko`);
    const after = mainOf((await visitor.get(withdrawn.headers.location!)).text);
    expect(hrefsIn(after)).toContain(`/letters/${slug}?text=ko`);
  });

  it("keeps an e-mail's ?lang= on the signing form and the page after it when the browser would choose another", async () => {
    const browser = request.agent(t.app);
    const page = await browser.get(`/letters/${slug}?lang=uk&text=ko`).set('Accept-Language', 'en');
    expect(startTags(page.text, 'html')[0]!.attrs.lang).toBe('uk');
    const action = formAction(mainOf(page.text));
    expect(action).toBe(`/letters/${slug}/sign?lang=uk`);
    const signed = await browser
      .post(action)
      .type('form')
      .set('Accept-Language', 'en')
      .send({ ...signingForm({ email: 'reader-4@example.org' }), language: 'ko' });
    expect(signed.status).toBe(303);
    expect(signed.headers.location).toBe(`/letters/${slug}/check-your-inbox?lang=uk&text=ko`);
    // The same whatever the browser says: a page opened with ?lang= depends on its address alone.
    const plain = await request(t.app).get(`/letters/${slug}?lang=uk`).set('Accept-Language', 'uk');
    expect(formAction(mainOf(plain.text))).toBe(`/letters/${slug}/sign?lang=uk`);
  });

  it("keeps an e-mail's ?lang= through the form when the reader's browser would choose another language", async () => {
    const { confirm } = await signKorean('reader-3@example.org');
    const browser = request.agent(t.app);
    const page = await browser.get(`${confirm}?lang=ko&text=ko`).set('Accept-Language', 'en');
    expect(startTags(page.text, 'html')[0]!.attrs.lang).toBe('ko');
    const action = formAction(mainOf(page.text));
    // The text is the interface language: ?lang= alone names both (text-language.ts).
    expect(action).toBe(`${confirm}?lang=ko`);
    const confirmed = await browser.post(action).type('form').set('Accept-Language', 'en').send({});
    // The text is the interface language's anyway: only ?lang= needs to travel.
    expect(confirmed.headers.location).toBe(`/letters/${slug}/thank-you?lang=ko`);
  });

  it('links back to the letter in both languages from the withdraw, confirm and refusal pages an e-mail opened in an English browser', async () => {
    const { confirm, withdraw } = await signKorean('reader-5@example.org');
    const browser = request.agent(t.app);
    const open = (path: string) => browser.get(`${path}?lang=ko&text=ko`).set('Accept-Language', 'en');
    // ?lang=ko names the Korean text too; a bare /letters/x would be English, page and text.
    const back = `/letters/${slug}?lang=ko`;

    const withdrawPage = await open(withdraw);
    expect(startTags(withdrawPage.text, 'html')[0]!.attrs.lang).toBe('ko');
    expect(hrefsIn(mainOf(withdrawPage.text))).toContain(back);
    const withdrawn = await browser
      .post(formAction(mainOf(withdrawPage.text)))
      .type('form')
      .set('Accept-Language', 'en')
      .send({});
    expect(withdrawn.status).toBe(303);

    // The confirm link of a withdrawn signature shows no button, only the way back to the letter.
    const confirmPage = await open(confirm);
    expect(startTags(confirmPage.text, 'html')[0]!.attrs.lang).toBe('ko');
    expect(hrefsIn(mainOf(confirmPage.text))).toContain(back);
    const refused = await browser
      .post(`${confirm}?lang=ko&text=ko`)
      .type('form')
      .set('Accept-Language', 'en')
      .send({});
    expect(refused.status).toBe(409);
    expect(hrefsIn(mainOf(refused.text))).toContain(back);
  });

  it('links the same from a page opened with ?lang=, whatever the cookie or browser say, so it varies by neither', async () => {
    const path = `/letters/${slug}/thank-you?lang=ko`;
    const byCookie = await request(t.app).get(path).set('Cookie', 'us_lang=ko').set('Accept', 'text/html');
    const byBrowser = await request(t.app).get(path).set('Accept-Language', 'en').set('Accept', 'text/html');
    for (const response of [byCookie, byBrowser]) {
      expect(hrefsIn(mainOf(response.text))).toContain(`/letters/${slug}?lang=ko`);
      expect(response.headers.vary ?? '').not.toMatch(/Accept-Language|Cookie/i);
    }
    expect(hrefsIn(mainOf(byCookie.text))).toEqual(hrefsIn(mainOf(byBrowser.text)));
  });
});
