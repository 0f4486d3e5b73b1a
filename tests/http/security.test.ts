import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccount, signedIn } from '../support/accounts.js';
import { fieldsOf, postForm } from '../support/admin-forms.js';
import { createLetter, signingForm } from '../support/factories.js';
import { byClass, byId, innerHtml, startTags, textOf, textsByClass } from '../support/html.js';
import { csrfTokenIn, expectNoCsrfToken, Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import {
  ERROR_TITLES,
  expectErrorPage,
  lastMailTo,
  pathOf,
  rowCounts,
  sign,
  signAndConfirm,
  signAndGetLinks,
  signatureRows,
  storedCount,
} from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The Content-Security-Policy as a map of directive → sources. */
function cspOf(header: string | undefined): Map<string, string[]> {
  expect(header, 'a Content-Security-Policy header').toBeDefined();
  return new Map(
    header!
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((parts) => parts[0])
      .map(([name, ...sources]) => [name!, sources]),
  );
}

/** Cookie attributes by cookie name, from the Set-Cookie headers of a response. */
function cookiesOf(setCookie: string[] | string | undefined): Map<string, string[]> {
  const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return new Map(
    list.map((c) => [
      c.split('=')[0]!,
      c
        .split(';')
        .slice(1)
        .map((a) => a.trim().toLowerCase()),
    ]),
  );
}

/** No script or style written into the page itself: everything comes from /assets under the CSP. */
function expectNoInlineScriptOrStyle(html: string, label: string): void {
  const tags = startTags(html);
  expect(tags.length, label).toBeGreaterThan(10);
  for (const script of tags.filter((tag) => tag.name === 'script')) {
    expect(script.attrs.src, `${label}: <script> without src`).toBeDefined();
    expect(
      html.slice(script.end, html.indexOf('</script>', script.end)).trim(),
      `${label}: inline script`,
    ).toBe('');
  }
  expect(
    tags.filter((tag) => tag.name === 'style'),
    `${label}: <style> element`,
  ).toEqual([]);
  expect(
    tags.filter((tag) => 'style' in tag.attrs).map((tag) => tag.raw),
    `${label}: style attribute`,
  ).toEqual([]);
  const handlers = tags.filter((tag) => Object.keys(tag.attrs).some((a) => a.startsWith('on')));
  expect(
    handlers.map((tag) => tag.raw),
    `${label}: inline event handler`,
  ).toEqual([]);
  expect(html, `${label}: javascript: URL`).not.toMatch(/javascript:/i);
}

describe('security headers, cookies and inline code', () => {
  let t: TestPlatform;
  let slug: string;
  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  it('sends a strict Content-Security-Policy: scripts and styles only from the site, never inline', async () => {
    const response = await new Visitor(t.app).get(`/letters/${slug}`);
    const csp = cspOf(response.headers['content-security-policy']);
    expect(csp.get('script-src')).toEqual(["'self'"]);
    expect(csp.get('style-src')).toEqual(["'self'"]);
    expect(csp.get('default-src')).toEqual(["'self'"]);
    expect(csp.get('object-src')).toEqual(["'none'"]);
    expect(csp.get('base-uri')).toEqual(["'none'"]);
    expect(csp.get('form-action')).toEqual(["'self'"]);
    expect(csp.get('frame-ancestors')).toEqual(["'self'"]);
    expect(response.headers['content-security-policy']).not.toContain("'unsafe-inline'");
    expect(response.headers['content-security-policy']).not.toContain("'unsafe-eval'");
  });

  it('sends nosniff, a same-origin referrer policy, and no X-Powered-By on pages, errors and assets', async () => {
    const visitor = new Visitor(t.app);
    for (const path of ['/', `/letters/${slug}`, '/no-such-page', '/assets/styles.css', '/healthz']) {
      const response = await visitor.get(path);
      expect(response.headers['x-content-type-options'], path).toBe('nosniff');
      expect(response.headers['referrer-policy'], path).toBe('same-origin');
      expect(response.headers['x-powered-by'], path).toBeUndefined();
      expect(response.headers['content-security-policy'], path).toContain("script-src 'self'");
    }
  });

  it('has no inline script, no inline style and no event handler attributes on any page of the journey', async () => {
    const visitor = new Visitor(t.app);
    const closed = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const pages: [string, string][] = [];
    const add = async (label: string, path: string) => pages.push([label, (await visitor.get(path)).text]);

    await add('home', '/');
    await add('letter', `/letters/${slug}`);
    await add('closed letter', `/letters/${closed.slug}`);
    await add('privacy', '/privacy');
    await add('not found', '/no-such-page');
    // The captured mailbox is an admin's page.
    pages.push([
      'mailbox',
      (await (await signedIn(t.app, t.platform, 'admin')).visitor.get('/admin/mailbox')).text,
    ]);
    pages.push([
      'form with errors',
      (
        await visitor.submit(
          `/letters/${slug}`,
          `/letters/${slug}/sign`,
          signingForm({ name: '', email: 'x' }),
        )
      ).text,
    ]);
    pages.push([
      'csrf refused',
      (
        await visitor.agent
          .post(`/letters/${slug}/sign`)
          .type('form')
          .set('Accept', 'text/html')
          .set('Sec-Fetch-Site', 'cross-site')
          .send(signingForm())
      ).text,
    ]);
    const links = await signAndGetLinks(t, visitor, slug, { display: 'full', organisation: 'Forum' });
    await add('check inbox', `/letters/${slug}/check-your-inbox`);
    await add('confirm', links.confirm);
    await visitor.submit(links.confirm, links.confirm, {});
    await add('thank you', `/letters/${slug}/thank-you`);
    await add('letter with signatories', `/letters/${slug}`);
    await add('withdraw', links.withdraw);
    await visitor.submit(links.withdraw, links.withdraw, {});
    await add('withdrawn', `/letters/${slug}/withdrawn`);

    for (const [label, html] of pages) expectNoInlineScriptOrStyle(html, label);
  });

  it('sets no cookie on public pages, nor when a visitor signs', async () => {
    const visitor = new Visitor(t.app);
    for (const path of ['/', `/letters/${slug}`, '/privacy', '/privacy/access']) {
      const page = await visitor.get(path);
      expect(page.status, path).toBe(200);
      expect(page.headers['set-cookie'], path).toBeUndefined();
      expect(page.text, path).not.toContain('name="_csrf"');
    }
    const posted = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(posted.status).toBe(303);
    expect(posted.headers['set-cookie']).toBeUndefined();
  });

  it('sets only HttpOnly, SameSite, browser-session cookies scoped to the site under the account paths', async () => {
    const page = await new Visitor(t.app).get('/login');
    const cookies = cookiesOf(page.headers['set-cookie']);
    expect([...cookies.keys()].sort()).toEqual(['us_csrf', 'us_visitor']);
    for (const [name, attributes] of cookies) {
      expect(attributes, name).toContain('httponly');
      expect(attributes, name).toContain('samesite=lax');
      expect(attributes, name).toContain('path=/');
      // A browser-session cookie: the privacy notice says it is forgotten when the browser closes.
      expect(
        attributes.some((a) => a.startsWith('expires=') || a.startsWith('max-age=')),
        name,
      ).toBe(false);
    }
  });

  it('marks cookies Secure with a __Host- CSRF cookie, and sends HSTS, when the site is served over https', async () => {
    const secure = await createTestPlatform({ env: { PUBLIC_URL: 'https://letters.example.org' } });
    try {
      const { slug: secureSlug } = await createLetter(secure.platform.db, secure.clock.now());
      const login = await new Visitor(secure.app).get('/login');
      const cookies = cookiesOf(login.headers['set-cookie']);
      expect([...cookies.keys()].sort()).toEqual(['__Host-us_csrf', 'us_visitor']);
      for (const [name, attributes] of cookies) {
        expect(attributes, name).toEqual(expect.arrayContaining(['httponly', 'secure', 'samesite=lax']));
      }
      const page = await new Visitor(secure.app).get(`/letters/${secureSlug}`);
      expect(page.headers['strict-transport-security']).toMatch(/max-age=\d+/);
      expect(cspOf(page.headers['content-security-policy']).has('upgrade-insecure-requests')).toBe(true);
    } finally {
      await secure.close();
    }
  });
});

/** How a browser marks a form post from another site, one way for each header it may send. */
const CROSS_SITE: readonly (readonly [string, Record<string, string>])[] = [
  ['Sec-Fetch-Site: cross-site', { 'Sec-Fetch-Site': 'cross-site' }],
  ['Sec-Fetch-Site: same-site (a sibling subdomain)', { 'Sec-Fetch-Site': 'same-site' }],
  ['another Origin, without Fetch Metadata', { Origin: 'https://evil.example' }],
  ['a look-alike Origin, without Fetch Metadata', { Origin: 'http://localhost:3000.evil.example' }],
  ['Origin: null (a sandboxed frame), without Fetch Metadata', { Origin: 'null' }],
];

describe('CSRF protection of anonymous forms by Fetch Metadata and Origin', () => {
  let t: TestPlatform;
  let slug: string;
  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  /**
   * Posts `body` to `path` with `headers`, as a browser's form would, from a browser that opened the
   * letter page first (which carries no token): only the headers tell the posts apart.
   */
  const post = async (path: string, headers: Record<string, string>, body: Record<string, string> = {}) => {
    const visitor = new Visitor(t.app);
    expectNoCsrfToken((await visitor.get(`/letters/${slug}`)).text);
    return visitor.agent.post(path).type('form').set('Accept', 'text/html').set(headers).send(body);
  };

  for (const [label, headers] of CROSS_SITE) {
    it(`refuses a signature posted with ${label}: 403 and the error page, storing nothing`, async () => {
      const response = await post(`/letters/${slug}/sign`, headers, signingForm());
      expectErrorPage(response, 403, ERROR_TITLES[403]);
      expect(textOf(response.text)).toContain('This form has expired or was sent from another site.');
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    });
  }

  it('refuses to confirm from another site, and confirms from the site itself', async () => {
    const { confirm } = await signAndGetLinks(t, new Visitor(t.app), slug);
    expectErrorPage(await post(confirm, { 'Sec-Fetch-Site': 'cross-site' }), 403, ERROR_TITLES[403]);
    expectErrorPage(await post(confirm, { Origin: 'https://evil.example' }), 403, ERROR_TITLES[403]);
    expect((await signatureRows(t.platform.db))[0]!.status).toBe('pending');
    expect((await post(confirm, { 'Sec-Fetch-Site': 'same-origin' })).status).toBe(303);
    expect(await storedCount(t, slug)).toBe(1);
  });

  it('refuses to withdraw from another site, and withdraws from the site itself', async () => {
    const { withdraw } = await signAndConfirm(t, new Visitor(t.app), slug);
    expectErrorPage(await post(withdraw, { 'Sec-Fetch-Site': 'cross-site' }), 403, ERROR_TITLES[403]);
    expectErrorPage(await post(withdraw, { Origin: 'https://evil.example' }), 403, ERROR_TITLES[403]);
    expect((await signatureRows(t.platform.db))[0]!.status).toBe('confirmed');
    expect((await post(withdraw, { Origin: 'http://localhost:3000' })).status).toBe(303);
    expect(await storedCount(t, slug)).toBe(0);
  });

  it('refuses the data-access, erasure and unsubscribe forms posted from another site', async () => {
    const { withdraw } = await signAndGetLinks(t, new Visitor(t.app), slug);
    const token = withdraw.split('/').pop()!.split('?')[0]!;
    for (const path of ['/privacy/access', `/privacy/erase/${token}`, `/signatures/unsubscribe/${token}`]) {
      for (const [label, headers] of CROSS_SITE) {
        const response = await post(path, headers, { email: 'someone@example.org' });
        expect(response.status, `${path}, ${label}`).toBe(403);
      }
    }
    // Nothing was erased: the signature is still there with its address.
    expect((await signatureRows(t.platform.db))[0]!.status).toBe('pending');
  });

  it("accepts a signature from the site's own pages: same-origin, a typed address, or its own Origin", async () => {
    const sameSite: Record<string, string>[] = [
      { 'Sec-Fetch-Site': 'same-origin' },
      { 'Sec-Fetch-Site': 'none' },
      { Origin: 'http://localhost:3000' },
      // Fetch Metadata decides when present: a same-origin request's Origin is not read again.
      { 'Sec-Fetch-Site': 'same-origin', Origin: 'http://localhost:3000' },
    ];
    for (const [n, headers] of sameSite.entries()) {
      const response = await post(
        `/letters/${slug}/sign`,
        headers,
        signingForm({ email: `same-${n}@example.org` }),
      );
      expect(response.status, JSON.stringify(headers)).toBe(303);
    }
    expect((await rowCounts(t.platform.db)).signatures).toBe(sameSite.length);
  });

  it('accepts an Origin that is the request’s own host when PUBLIC_URL names another (a second name)', async () => {
    const response = await new Visitor(t.app).agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Host', 'letters.example.net')
      .set('Origin', 'http://letters.example.net')
      .send(signingForm());
    expect(response.status).toBe(303);
  });

  it('accepts a post with neither header: not a browser, so no visitor’s cookies ride on it', async () => {
    expect((await post(`/letters/${slug}/sign`, {}, signingForm())).status).toBe(303);
  });
});

describe('CSRF tokens on forms under the account paths, in addition', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('puts a CSRF token in every form it renders under the account paths', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const invited = 'invited-for-the-token-test@example.org';
    const invite = await postForm(
      admin,
      '/admin/users',
      '/admin/users/invite',
      fieldsOf({ email: invited, role: 'organizer' }),
    );
    expect(invite.status).toBe(303);
    const owner = await createAccount(t.platform, 'organizer');
    expect(
      (await new Visitor(t.app).submit('/account/reset', '/account/reset', { email: owner.email })).status,
    ).toBe(200);
    await t.drainOutbox();
    const linkTo = (address: string, path: string) =>
      pathOf(linksIn(t.sink.to(address).at(-1)!).find((l) => l.includes(path))!);

    const anonymous = [
      '/login',
      '/account/reset',
      linkTo(invited, '/account/invite/'),
      linkTo(owner.email, '/account/reset/'),
    ];
    // A logged-in user's pages: each also has the layout's logout form.
    const loggedIn = [
      '/account/password',
      '/admin',
      '/admin/settings',
      '/admin/users',
      '/admin/recipients/new',
      '/admin/queue',
    ];
    for (const [visitor, paths] of [
      [new Visitor(t.app), anonymous],
      [admin, loggedIn],
    ] as const) {
      for (const path of paths) {
        const page = await visitor.get(path);
        expect(page.status, path).toBe(200);
        const forms = startTags(page.text, 'form').filter((form) => form.attrs.method === 'post');
        expect(forms.length, path).toBeGreaterThan(0);
        if (paths === loggedIn)
          expect(
            forms.some((form) => form.attrs.action === '/logout'),
            `${path}: the logout form`,
          ).toBe(true);
        for (const form of forms) {
          const inside = page.text.slice(form.end, page.text.indexOf('</form>', form.end));
          const token = startTags(inside, 'input').find((input) => input.attrs.name === '_csrf');
          expect(token?.attrs.value, `${path}: ${form.attrs.action}`).toMatch(/.{20,}/);
        }
      }
    }
  });

  it('refuses a same-origin login without its token, with a made-up one, or with another browser’s', async () => {
    const other = csrfTokenIn((await new Visitor(t.app).get('/login')).text);
    const visitor = new Visitor(t.app);
    const real = csrfTokenIn((await visitor.get('/login')).text);
    expect(real).toMatch(/.{20,}/);
    for (const forged of [undefined, '', 'x', `${real}x`, other]) {
      const response = await visitor.agent
        .post('/login')
        .type('form')
        .set('Accept', 'text/html')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({
          email: 'admin@example.org',
          password: 'wrong',
          ...(forged === undefined ? {} : { _csrf: forged }),
        });
      expectErrorPage(response, 403, ERROR_TITLES[403]);
    }
  });

  it('refuses a logged-in form from another site even with a valid token', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const page = await admin.get('/admin/settings');
    const response = await admin.agent
      .post('/admin/settings')
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({ _csrf: csrfTokenIn(page.text) });
    expectErrorPage(response, 403, ERROR_TITLES[403]);
  });

  it('refuses a logged-in form without its token', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    await admin.get('/admin/settings');
    const response = await admin.agent
      .post('/admin/settings')
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({});
    expectErrorPage(response, 403, ERROR_TITLES[403]);
  });
});

const HOSTILE_NAMES = ['<script>alert(1)</script>', '"><img src=x onerror=alert(1)>'];

/** No element the hostile names would create exists in the markup. */
function expectNoInjectedElements(html: string): void {
  const names = startTags(html).map((tag) => tag.name);
  // The page's own scripts (the proof-of-work widget) come from our origin's /assets/; an injected
  // <script> has no such src.
  expect(startTags(html, 'script').filter((tag) => !tag.attrs.src?.startsWith('/assets/'))).toEqual([]);
  expect(names).not.toContain('img');
  expect(startTags(html).filter((tag) => 'onerror' in tag.attrs)).toEqual([]);
}

for (const [index, hostile] of HOSTILE_NAMES.entries()) {
  describe(`supporter text is escaped everywhere: the name ${hostile}`, () => {
    let t: TestPlatform;
    let slug: string;
    const email = `hostile-${index}@example.org`;
    beforeEach(async () => {
      t = await createTestPlatform();
      ({ slug } = await createLetter(t.platform.db, t.clock.now()));
    });
    afterEach(async () => {
      await t.close();
    });

    it('shows it as text in the re-rendered form', async () => {
      const visitor = new Visitor(t.app);
      const response = await visitor.submit(
        `/letters/${slug}`,
        `/letters/${slug}/sign`,
        signingForm({
          name: hostile,
          email: 'not an address',
          city: hostile,
          organisation: hostile,
          title: hostile,
        }),
      );
      expect(response.status).toBe(422);
      expectNoInjectedElements(response.text);
      for (const field of ['name', 'city', 'organisation', 'title'])
        expect(byId(response.text, `field-${field}`)!.attrs.value).toBe(hostile);
    });

    it('shows it as text in the recent signatories after confirmation', async () => {
      const visitor = new Visitor(t.app);
      await signAndConfirm(t, visitor, slug, {
        name: hostile,
        email,
        organisation: hostile,
        display: 'full',
      });
      const html = (await new Visitor(t.app).get(`/letters/${slug}`)).text;
      expectNoInjectedElements(html);
      const list = byClass(html, 'signatories')[0];
      expect(list, 'the signatory is listed').toBeDefined();
      const items = innerHtml(html, list!);
      expect(startTags(items, 'li').map((li) => textOf(innerHtml(items, li)))).toEqual([
        `${hostile}, ${hostile} (South Korea)`,
      ]);
      expect(textsByClass(html, 'signatory__name')).toEqual([hostile]);
      // The letter as it will be sent lists the name too, as text.
      expect(textOf(html)).toContain(`${hostile}, South Korea`);
    });

    it("shows it as text in the confirmation e-mail's HTML", async () => {
      await sign(new Visitor(t.app), slug, { name: hostile, email });
      await t.drainOutbox();
      const mail = lastMailTo(t, email);
      const html = mail.parsed.html as string;
      expectNoInjectedElements(html);
      expect(textOf(html)).toContain(`Hello ${hostile},`);
      expect(mail.parsed.text).toContain(`Hello ${hostile},`);
    });
  });
}

describe('rate limiting', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    // A fresh platform: the limiter counts per app, in memory.
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers the 31st signing attempt from one address within 15 minutes with 429, keeping what was typed', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    const post = (n: number, fields: Record<string, string> = {}) =>
      visitor.agent
        .post(`/letters/${slug}/sign`)
        .type('form')
        .set('Accept', 'text/html')
        .send(signingForm({ email: `supporter-${n}@example.org`, ...fields }));
    for (let n = 1; n <= 30; n += 1) expect((await post(n)).status, `attempt ${n}`).toBe(303);
    // A shared connection (an event's Wi-Fi): the next supporter's form comes back as typed, saying why.
    const refused = await post(31, { name: 'Olena Shevchenko', organisation: 'Kyiv Students' });
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toMatch(/^\d+$/);
    const summary = textOf(innerHtml(refused.text, byClass(refused.text, 'error-summary')[0]!));
    // Nothing to correct: the summary says to wait, not "Please correct the following".
    expect(summary).toMatch(/^Please wait before signing/);
    expect(summary).toContain('There have been too many requests from your connection.');
    // It says how long to wait, in words, as Retry-After does for programs.
    expect(summary).toMatch(/Please wait \d+ (minutes|seconds) and try again\./);
    expect(byId(refused.text, 'field-name')?.attrs.value).toBe('Olena Shevchenko');
    expect(byId(refused.text, 'field-email')?.attrs.value).toBe('supporter-31@example.org');
    expect(byId(refused.text, 'field-organisation')?.attrs.value).toBe('Kyiv Students');
    // The embed's form comes back in the embed, as its other answers do.
    const embedded = await post(32, { embed: '1', name: 'Park Seo-yeon' });
    expect(embedded.status).toBe(429);
    expect(embedded.text).toContain('<input type="hidden" name="embed" value="1">');
    expect(byId(embedded.text, 'field-name')?.attrs.value).toBe('Park Seo-yeon');
    expect((await rowCounts(t.platform.db)).signatures).toBe(30);
    // Reading stays possible.
    expect((await visitor.get(`/letters/${slug}`)).status).toBe(200);
  });

  it('limits how often the links in e-mails can be opened from one address', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    const { confirm } = await signAndGetLinks(t, visitor, slug);
    let status = 200;
    for (let n = 0; n < 121 && status === 200; n += 1) status = (await visitor.agent.get(confirm)).status;
    expect(status).toBe(429);
  });
});
