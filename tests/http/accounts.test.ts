import { createHmac } from 'node:crypto';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { verifyPassword } from '../../server/accounts/passwords.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import { createAccount, loginAs, signedIn, TEST_PASSWORD } from '../support/accounts.js';
import { createLetter, signingForm } from '../support/factories.js';
import { byClass, byId, hrefsIn, innerHtml, mainOf, startTags, textById, textOf } from '../support/html.js';
import { csrfFieldFor, csrfTokenIn, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, signatureLinks, lastMailTo } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SESSION_COOKIE = 'us_session';
const NEW_PASSWORD = 'another long password for the test';

const MESSAGES = {
  invalid: 'The e-mail address or the password is not right. Check both and try again.',
  missing: 'Enter your e-mail address and your password.',
  wait: (wait: string) =>
    `There have been too many failed attempts with this address. Wait ${wait} before trying again.`,
  passwordsDiffer: 'The two new passwords are not the same. Type the same password twice.',
  wrongCurrent: 'This is not your current password.',
  tooShort: 'Use at least 12 characters.',
  isEmail: 'Do not use your e-mail address as your password.',
  unchanged: 'Choose a password different from the current one.',
};

type Response = Awaited<ReturnType<Visitor['submit']>>;

/** Submits the login form as a person would (the page first, for its CSRF token). */
function tryLogin(visitor: Visitor, email: string, password: string, next = '/admin'): Promise<Response> {
  return visitor.submit('/login', '/login', { email, password, next });
}

/** The message in the error summary at the top of the login form ("" when there is none). */
function loginError(html: string): string {
  const [summary] = byClass(mainOf(html), 'error-summary');
  if (!summary) return '';
  const inner = innerHtml(mainOf(html), summary);
  return startTags(inner, 'li')
    .map((item) => textOf(innerHtml(inner, item)))
    .join(' ');
}

/** Cookies a response sets: name → value and lower-cased attributes. */
function setCookies(response: { headers: Record<string, unknown> }) {
  const header = response.headers['set-cookie'];
  const list = Array.isArray(header) ? (header as string[]) : typeof header === 'string' ? [header] : [];
  return new Map(
    list.map((cookie) => {
      const [pair, ...attributes] = cookie.split(';');
      const at = pair!.indexOf('=');
      return [
        pair!.slice(0, at).trim(),
        { value: pair!.slice(at + 1), attributes: attributes.map((a) => a.trim().toLowerCase()) },
      ];
    }),
  );
}

/** The session id inside a session cookie's value (`s:<sid>.<signature>`, URL-encoded). */
function sidOf(cookieValue: string): string {
  const value = decodeURIComponent(cookieValue);
  expect(value.startsWith('s:'), 'a signed session cookie').toBe(true);
  return value.slice(2, value.lastIndexOf('.'));
}

/** A session cookie value for `sid`, signed with the platform secret as express-session signs it. */
function signedCookieValue(sid: string, secret: string): string {
  const signature = createHmac('sha256', secret).update(sid).digest('base64').replace(/=+$/, '');
  return encodeURIComponent(`s:${sid}.${signature}`);
}

/**
 * A browser whose cookies the test can set by hand (to plant a session id, or to replay an old one).
 * It keeps cookies by name only: enough for one site.
 */
class CookieBrowser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly app: TestPlatform['app']) {}

  private header(): string {
    return [...this.cookies].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private keep(response: { headers: Record<string, unknown> }) {
    for (const [name, { value, attributes }] of setCookies(response)) {
      if (attributes.some((a) => a.startsWith('expires=thu, 01 jan 1970'))) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  async get(path: string) {
    const response = await request(this.app)
      .get(path)
      .set('Accept', 'text/html')
      .set('Cookie', this.header());
    this.keep(response);
    return response;
  }

  async submit(formPage: string, action: string, fields: Record<string, string>) {
    const page = await this.get(formPage);
    const response = await request(this.app)
      .post(action)
      .type('form')
      .set('Accept', 'text/html')
      .set('Cookie', this.header())
      .send({ ...fields, ...csrfFieldFor(action, page.text) });
    this.keep(response);
    return response;
  }
}

/** Where an admin page sends this visitor: undefined when it opens (200). */
async function adminPageAnswer(visitor: Visitor | CookieBrowser): Promise<string | undefined> {
  const response = await visitor.get('/admin');
  if (response.status === 200) return undefined;
  expect(response.status).toBe(303);
  return response.headers.location;
}

/** The page's main heading. */
function headingOf(html: string): string {
  const main = mainOf(html);
  return textOf(innerHtml(main, startTags(main, 'h1')[0]!));
}

async function sessionRows(t: TestPlatform) {
  return t.platform.db.selectFrom('sessions').selectAll().execute();
}

// Every test gets a fresh platform with one organizer account (past its one-time password).
let t: TestPlatform;
let user: User;

beforeEach(async () => {
  t = await createTestPlatform();
  user = await createAccount(t.platform, 'organizer');
});
afterEach(async () => {
  await t.close();
});

describe('logging in and out', () => {
  it('logs an organizer in with the right password and opens the dashboard', async () => {
    const visitor = new Visitor(t.app);
    const response = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin');
    const dashboard = await visitor.get('/admin');
    expect(dashboard.status).toBe(200);
    expect(headingOf(dashboard.text)).toBe('Dashboard');
    expect(textById(dashboard.text, 'mine-heading')).toBe('My letters');
    expect((await t.platform.repositories.users.findById(user.id))!.lastLoginAt).toEqual(t.clock.now());
    // The menu names the letters list as the dashboard does: an organizer's own, an admin's all.
    const menuLink = (html: string) => {
      const link = startTags(html, 'a').find((a) => a.attrs.href === '/admin/letters')!;
      return textOf(innerHtml(html, link));
    };
    expect(menuLink(dashboard.text)).toBe('My letters');
    const { visitor: asAdmin } = await signedIn(t.app, t.platform, 'admin');
    const adminDashboard = (await asAdmin.get('/admin')).text;
    expect(menuLink(adminDashboard)).toBe('All letters');
    expect(textById(adminDashboard, 'mine-heading')).toBe('All letters');
  });

  it('accepts the address in any case and with spaces around it', async () => {
    const response = await tryLogin(new Visitor(t.app), `  ${user.email.toUpperCase()} `, TEST_PASSWORD);
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/admin');
  });

  it('refuses a wrong password with 401 and a message, keeps the address typed, never echoes the password', async () => {
    const visitor = new Visitor(t.app);
    const wrong = 'not the password, clearly';
    const response = await tryLogin(visitor, user.email, wrong);
    expect(response.status).toBe(401);
    expect(loginError(response.text)).toBe(MESSAGES.invalid);
    expect(byId(response.text, 'field-email')!.attrs.value).toBe(user.email);
    expect(byId(response.text, 'field-password')!.attrs.value).toBeUndefined();
    expect(response.text).not.toContain(wrong);
    expect(setCookies(response).has(SESSION_COOKIE)).toBe(false);
    expect(await adminPageAnswer(visitor)).toBe('/login?next=%2Fadmin');
  });

  it('says a refusal in the same error summary as every form: a heading, announced and focused on load', async () => {
    const response = await tryLogin(new Visitor(t.app), user.email, 'not the password, clearly');
    const [summary] = byClass(mainOf(response.text), 'error-summary');
    expect(summary!.attrs).toMatchObject({ role: 'alert', tabindex: '-1', autofocus: '' });
    const heading = byId(response.text, summary!.attrs['aria-labelledby']!);
    expect(heading?.name).toBe('h2');
    expect(textOf(innerHtml(response.text, heading!))).toBe('Please correct the following:');
  });

  it('gives an unknown address exactly the answer a wrong password gets', async () => {
    const wrongPassword = await tryLogin(new Visitor(t.app), user.email, 'not the password, clearly');
    const unknown = await tryLogin(new Visitor(t.app), 'nobody@example.org', 'not the password, clearly');
    expect(unknown.status).toBe(wrongPassword.status);
    expect(loginError(unknown.text)).toBe(loginError(wrongPassword.text));
    // The whole form is the same but for the address typed and the CSRF token.
    const neutral = (html: string, email: string) =>
      mainOf(html)
        .replaceAll(email, 'EMAIL')
        .replace(/name="_csrf" value="[^"]+"/, '');
    expect(neutral(unknown.text, 'nobody@example.org')).toBe(neutral(wrongPassword.text, user.email));
    expect(await sessionRows(t)).toEqual([]);
  });

  it('asks for both fields when one is empty, with 422', async () => {
    const response = await tryLogin(new Visitor(t.app), user.email, '');
    expect(response.status).toBe(422);
    expect(loginError(response.text)).toBe(MESSAGES.missing);
    expect(byId(response.text, 'field-email')!.attrs.value).toBe(user.email);
  });

  it('refuses a disabled account as if the password were wrong, and ends the session it had', async () => {
    const before = await loginAs(t.app, user);
    await t.platform.db
      .updateTable('users')
      .set({ disabled_at: t.clock.now().toISOString() })
      .where('id', '=', user.id)
      .execute();

    const response = await tryLogin(new Visitor(t.app), user.email, TEST_PASSWORD);
    expect(response.status).toBe(401);
    expect(loginError(response.text)).toBe(MESSAGES.invalid);
    expect(await adminPageAnswer(before)).toBe('/login?next=%2Fadmin');
    expect(await sessionRows(t)).toEqual([]);
  });

  it('shows no notice on the login form for a notice name it does not know', async () => {
    const page = await new Visitor(t.app).get('/login?done=passwordChanged');
    expect(page.status).toBe(200);
    expect(byClass(page.text, 'notice')).toEqual([]);
  });

  it('logs out: the old session cookie no longer opens an admin page', async () => {
    const browser = new CookieBrowser(t.app);
    await browser.submit('/login', '/login', { email: user.email, password: TEST_PASSWORD, next: '/admin' });
    const oldCookie = browser.cookies.get(SESSION_COOKIE)!;
    expect(oldCookie).toBeDefined();
    expect(await adminPageAnswer(browser)).toBeUndefined();

    const response = await browser.submit('/admin', '/logout', {});
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/login?done=loggedOut');
    expect(browser.cookies.has(SESSION_COOKIE)).toBe(false);
    const loggedOut = await browser.get('/login?done=loggedOut');
    expect(textOf(innerHtml(loggedOut.text, byClass(loggedOut.text, 'notice')[0]!))).toBe(
      'You are logged out.',
    );

    // Replaying the cookie from before the logout, as someone who had copied it would.
    browser.cookies.set(SESSION_COOKIE, oldCookie);
    expect(await adminPageAnswer(browser)).toBe('/login?next=%2Fadmin');
    expect(await sessionRows(t)).toEqual([]);
  });

  it('refuses a logout without the CSRF token, and the session goes on', async () => {
    const visitor = await loginAs(t.app, user);
    const response = await visitor.agent.post('/logout').type('form').set('Accept', 'text/html').send({});
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect(await adminPageAnswer(visitor)).toBeUndefined();
    expect(await sessionRows(t)).toHaveLength(1);
  });

  describe('where the login goes next', () => {
    it.each([
      ['a protocol-relative URL', '//evil.example'],
      ['a full URL', 'https://evil.example'],
      ['a backslash path', '/\\evil'],
      ['a backslash path to a host', '/\\evil.example/admin'],
      ['a javascript: URL', 'javascript:alert(1)'],
    ])('goes to /admin, not to %s', async (_label, next) => {
      const visitor = new Visitor(t.app);
      const form = await visitor.get(`/login?next=${encodeURIComponent(next)}`);
      expect(startTags(form.text, 'input').find((i) => i.attrs.name === 'next')!.attrs.value).toBe('/admin');
      const response = await tryLogin(visitor, user.email, TEST_PASSWORD, next);
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin');
    });

    it('goes back to the admin page that asked for the login', async () => {
      const visitor = new Visitor(t.app);
      const asked = await visitor.get('/admin/letters?page=2');
      expect(asked.status).toBe(303);
      expect(asked.headers.location).toBe('/login?next=%2Fadmin%2Fletters%3Fpage%3D2');
      const form = await visitor.get(asked.headers.location!);
      const next = startTags(form.text, 'input').find((i) => i.attrs.name === 'next')!.attrs.value!;
      expect(next).toBe('/admin/letters?page=2');
      const response = await tryLogin(visitor, user.email, TEST_PASSWORD, next);
      expect(response.headers.location).toBe('/admin/letters?page=2');
    });

    it('after a form sent once the session ended, says so and goes back to the page it came from on this site only', async () => {
      const visitor = new Visitor(t.app);
      // Sent to the site's own name, as a browser does; the Referer counts only when it names that host.
      const post = (referer: string) =>
        visitor.agent
          .post('/admin/letters/3')
          .set('Host', 'letters.example.org')
          .set('Referer', referer)
          .type('form')
          .send({ title_en: 'x' });
      const fromHere = await post('https://letters.example.org/admin/letters/3');
      expect(fromHere.status).toBe(303);
      expect(fromHere.headers.location).toBe(
        `/login?next=${encodeURIComponent('/admin/letters/3')}&done=sessionEnded`,
      );
      // From a page that said its last step succeeded: back to it without saying so again.
      expect(
        (await post('https://letters.example.org/admin/letters/3?done=saved&tab=2')).headers.location,
      ).toBe(`/login?next=${encodeURIComponent('/admin/letters/3?tab=2')}&done=sessionEnded`);
      for (const elsewhere of [
        'https://evil.example/admin/letters/3',
        'https://letters.example.org.evil.example/x',
        'https://letters.example.org/.//evil.example/x',
        'not a url',
      ])
        expect((await post(elsewhere)).headers.location, elsewhere).toBe(
          '/login?next=%2Fadmin&done=sessionEnded',
        );
      const form = await visitor.get(fromHere.headers.location!);
      expect(textOf(mainOf(form.text))).toContain('Your session had ended, so what you sent was not saved.');
      expect(startTags(form.text, 'input').find((i) => i.attrs.name === 'next')!.attrs.value).toBe(
        '/admin/letters/3',
      );
    });

    it("answers a page's script (the editor's live preview) with a 401 it can show, not the login form", async () => {
      const visitor = new Visitor(t.app);
      const response = await visitor.agent
        .post('/admin/letters/3/preview.json?lang=uk')
        .set('Accept', 'application/json')
        .type('form')
        .send({ title_en: 'x' });
      expect(response.status).toBe(401);
      expect(response.body).toEqual({
        error: {
          status: 401,
          code: 'session_ended',
          message:
            'Ваш сеанс завершився, тож попередній перегляд більше не стежить за введеним. Введене досі тут: натисніть «Зберегти», увійдіть знову, і редактор запропонує його повернути.',
        },
      });
    });
  });
});

describe('the one-time password', () => {
  let oneTimePassword: string;

  beforeEach(async () => {
    // An account an admin has just created: it has only its one-time password.
    ({ user, oneTimePassword } = await t.platform.accounts.createUser('new-admin@example.org', 'admin'));
  });

  it('must be changed before any admin page opens', async () => {
    const visitor = new Visitor(t.app);
    const login = await tryLogin(visitor, user.email, oneTimePassword, '/admin/settings');
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/account/password');

    for (const path of [
      '/admin',
      '/admin/letters',
      '/admin/letters/new',
      '/admin/recipients',
      '/admin/settings',
    ]) {
      const response = await visitor.get(path);
      expect(response.status, path).toBe(303);
      expect(response.headers.location, path).toBe('/account/password');
    }
    const post = await visitor.submit('/account/password', '/admin/settings', { require_review: 'yes' });
    expect(post.status).toBe(303);
    expect(post.headers.location).toBe('/account/password');
    expect((await t.platform.appDeps.settings.read()).requireReview).toBe(false);

    const form = await visitor.get('/account/password');
    expect(form.status).toBe(200);
    expect(textOf(innerHtml(form.text, byClass(form.text, 'notice')[0]!))).toBe(
      'You logged in with a one-time password. Choose your own password to continue.',
    );
  });

  it('is replaced by the new password: the old one is then refused and the new one works', async () => {
    const visitor = new Visitor(t.app);
    await tryLogin(visitor, user.email, oneTimePassword);
    const change = await visitor.submit('/account/password', '/account/password', {
      current: oneTimePassword,
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    expect(change.status).toBe(303);
    expect(change.headers.location).toBe('/admin?done=passwordChanged');
    const dashboard = await visitor.get('/admin?done=passwordChanged');
    expect(dashboard.status).toBe(200);
    expect(textOf(innerHtml(dashboard.text, byClass(dashboard.text, 'notice')[0]!))).toContain(
      'Your password was changed.',
    );
    expect((await t.platform.repositories.users.findById(user.id))!.mustChangePassword).toBe(false);
    // The audit log records it, on the account, by its owner (it recorded only the login before).
    const changed = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'password-changed')
      .execute();
    expect(changed.map((e) => [e.actor_user_id, e.target_type, e.target_id])).toEqual([
      [user.id, 'user', String(user.id)],
    ]);

    const old = await tryLogin(new Visitor(t.app), user.email, oneTimePassword);
    expect(old.status).toBe(401);
    const fresh = await tryLogin(new Visitor(t.app), user.email, NEW_PASSWORD);
    expect(fresh.status).toBe(303);
    expect(fresh.headers.location).toBe('/admin');
  });
});

describe('changing a password', () => {
  let visitor: Visitor;

  beforeEach(async () => {
    visitor = await loginAs(t.app, user);
  });

  async function change(fields: { current: string; password: string; confirm: string }) {
    return visitor.submit('/account/password', '/account/password', fields);
  }

  /** The message sits beside the field, the field points at it, and the summary links to it. */
  function expectMessageBeside(html: string, field: 'current' | 'password' | 'confirm', message: string) {
    expect(textById(html, `field-${field}-error`)).toBe(`Error: ${message}`);
    const control = byId(html, `field-${field}`)!;
    expect(control.attrs['aria-invalid']).toBe('true');
    expect(control.attrs['aria-describedby']!.split(' ')).toContain(`field-${field}-error`);
    const summary = innerHtml(html, byClass(html, 'error-summary')[0]!);
    const link = startTags(summary, 'a').find((a) => a.attrs.href === `#field-${field}`);
    expect(link, `the summary links to #field-${field}`).toBeDefined();
    expect(textOf(innerHtml(summary, link!))).toBe(message);
  }

  async function passwordStillWorks(password: string) {
    const hashed = await t.platform.repositories.users.passwordHashOf(user.id);
    return verifyPassword(hashed!, password);
  }

  it('says both what is wrong with a new password too short and typed differently, at once', async () => {
    const response = await change({ current: TEST_PASSWORD, password: 'short', confirm: 'shorter' });
    expect(response.status).toBe(422);
    expectMessageBeside(response.text, 'password', MESSAGES.tooShort);
    expectMessageBeside(response.text, 'confirm', MESSAGES.passwordsDiffer);
    // The summary lists them in the form's order.
    const main = mainOf(response.text);
    const summary = innerHtml(main, byClass(main, 'error-summary')[0]!);
    expect(hrefsIn(summary)).toEqual(['#field-password', '#field-confirm']);
    expect(await passwordStillWorks(TEST_PASSWORD)).toBe(true);
  });

  it.each([
    ['too short', { password: 'short pass1', confirm: 'short pass1' }, 'password', MESSAGES.tooShort],
    ['the e-mail address', { password: 'EMAIL', confirm: 'EMAIL' }, 'password', MESSAGES.isEmail],
    ['the current one', { password: TEST_PASSWORD, confirm: TEST_PASSWORD }, 'password', MESSAGES.unchanged],
    [
      'typed differently twice',
      { password: NEW_PASSWORD, confirm: `${NEW_PASSWORD}!` },
      'confirm',
      MESSAGES.passwordsDiffer,
    ],
  ] as const)(
    'refuses a new password that is %s with 422, beside the field',
    async (_label, fields, field, message) => {
      const password = fields.password === 'EMAIL' ? user.email : fields.password;
      const confirm = fields.confirm === 'EMAIL' ? user.email : fields.confirm;
      const response = await change({ current: TEST_PASSWORD, password, confirm });
      expect(response.status).toBe(422);
      expectMessageBeside(response.text, field, message);
      expect(response.text).not.toContain(TEST_PASSWORD);
      expect(await passwordStillWorks(TEST_PASSWORD)).toBe(true);
    },
  );

  it('refuses a wrong current password with 422, beside the field, and changes nothing', async () => {
    const response = await change({
      current: 'not my password at all',
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    expect(response.status).toBe(422);
    expectMessageBeside(response.text, 'current', MESSAGES.wrongCurrent);
    expect(await passwordStillWorks(TEST_PASSWORD)).toBe(true);
    expect(await passwordStillWorks(NEW_PASSWORD)).toBe(false);
  });

  it('does not let a session guess the current password without limit', async () => {
    const statuses: number[] = [];
    for (let guess = 1; guess <= 25 && !statuses.includes(429); guess += 1) {
      const response = await change({
        current: `guess number ${guess}`,
        password: NEW_PASSWORD,
        confirm: NEW_PASSWORD,
      });
      statuses.push(response.status);
    }
    expect(statuses).toContain(429);
    expect(statuses.length).toBeLessThanOrEqual(20);
    const right = await change({ current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expectErrorPage(right, 429, ERROR_TITLES[429]);
    expect(await passwordStillWorks(TEST_PASSWORD)).toBe(true);
  });

  it('refuses a change without the CSRF token', async () => {
    const response = await visitor.agent
      .post('/account/password')
      .type('form')
      .set('Accept', 'text/html')
      .send({ current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect(await passwordStillWorks(TEST_PASSWORD)).toBe(true);
  });

  it('sends anonymous visitors to the login form instead of the password form', async () => {
    const response = await new Visitor(t.app).get('/account/password');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe('/login?next=%2Faccount%2Fpassword');
  });

  it('logs out the other sessions of the account, and keeps this one and other accounts’ sessions', async () => {
    const otherDevice = await loginAs(t.app, user);
    const colleague = await loginAs(t.app, await createAccount(t.platform, 'organizer'));
    expect(await adminPageAnswer(otherDevice)).toBeUndefined();

    const response = await change({ current: TEST_PASSWORD, password: NEW_PASSWORD, confirm: NEW_PASSWORD });
    expect(response.status).toBe(303);

    expect(await adminPageAnswer(visitor)).toBeUndefined();
    expect(await adminPageAnswer(otherDevice)).toBe('/login?next=%2Fadmin');
    expect(await adminPageAnswer(colleague)).toBeUndefined();
  });
});

describe('slowing down and locking repeated failed logins', () => {
  it('answers 429 with Retry-After after the free failures, even to the right password, until the wait is over', async () => {
    const visitor = new Visitor(t.app);
    for (const attempt of [1, 2]) {
      const response = await tryLogin(visitor, user.email, 'wrong password, again');
      expect(response.status, `attempt ${attempt}`).toBe(401);
    }
    const third = await tryLogin(visitor, user.email, 'wrong password, again');
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('5');
    expect(loginError(third.text)).toBe(MESSAGES.wait('5 seconds'));
    expect(byId(third.text, 'field-email')!.attrs.value).toBe(user.email);

    t.clock.advance(2_000);
    const right = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBe('3');
    expect(loginError(right.text)).toBe(MESSAGES.wait('3 seconds'));
    expect(setCookies(right).has(SESSION_COOKIE)).toBe(false);
    expect(await adminPageAnswer(visitor)).toBe('/login?next=%2Fadmin');

    t.clock.advance(3_000);
    const after = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(after.status).toBe(303);
    expect(after.headers.location).toBe('/admin');
  });

  it('forgets the failures after a successful login', async () => {
    const visitor = new Visitor(t.app);
    await tryLogin(visitor, user.email, 'wrong password, again');
    await tryLogin(visitor, user.email, 'wrong password, again');
    expect((await tryLogin(new Visitor(t.app), user.email, TEST_PASSWORD)).status).toBe(303);
    for (const attempt of [1, 2]) {
      const response = await tryLogin(visitor, user.email, 'wrong password, again');
      expect(response.status, `attempt ${attempt} after the login`).toBe(401);
    }
  });

  it('doubles the wait with each failure and locks the address for 15 minutes after ten', async () => {
    const visitor = new Visitor(t.app);
    const waits: string[] = [];
    for (let failure = 1; failure <= 10; failure += 1) {
      const response = await tryLogin(visitor, user.email, 'wrong password, again');
      expect(response.status, `failure ${failure}`).toBe(failure < 3 ? 401 : 429);
      const retryAfter = response.headers['retry-after'];
      waits.push(retryAfter ?? '-');
      if (failure < 10 && retryAfter) t.clock.advance(Number(retryAfter) * 1_000);
      if (failure === 10) expect(loginError(response.text)).toBe(MESSAGES.wait('15 minutes'));
    }
    expect(waits).toEqual(['-', '-', '5', '10', '20', '40', '80', '160', '300', '900']);

    const right = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(right.status).toBe(429);
    expect(right.headers['retry-after']).toBe('900');

    t.clock.advance(14 * 60_000);
    const stillLocked = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(stillLocked.status).toBe(429);
    expect(stillLocked.headers['retry-after']).toBe('60');
    expect(loginError(stillLocked.text)).toBe(MESSAGES.wait('60 seconds'));

    t.clock.advance(60_000);
    const unlocked = await tryLogin(visitor, user.email, TEST_PASSWORD);
    expect(unlocked.status).toBe(303);
    expect(unlocked.headers.location).toBe('/admin');
  });

  it('throttles an unknown address just like an account’s, and only that address', async () => {
    const known: (string | number)[] = [];
    const unknown: (string | number)[] = [];
    for (let failure = 1; failure <= 4; failure += 1) {
      const a = await tryLogin(new Visitor(t.app), user.email, 'wrong password, again');
      const b = await tryLogin(new Visitor(t.app), 'nobody@example.org', 'wrong password, again');
      known.push(a.status, a.headers['retry-after'] ?? '-', loginError(a.text));
      unknown.push(b.status, b.headers['retry-after'] ?? '-', loginError(b.text));
    }
    expect(unknown).toEqual(known);
    expect(unknown).toContain(429);

    // Another address from the same connection is not slowed down by those failures.
    const colleague = await createAccount(t.platform, 'organizer');
    const response = await tryLogin(new Visitor(t.app), colleague.email, TEST_PASSWORD);
    expect(response.status).toBe(303);
  });

  it('counts failures per address whatever its case or surrounding spaces', async () => {
    await tryLogin(new Visitor(t.app), user.email, 'wrong password, again');
    await tryLogin(new Visitor(t.app), user.email.toUpperCase(), 'wrong password, again');
    const third = await tryLogin(new Visitor(t.app), ` ${user.email} `, 'wrong password, again');
    expect(third.status).toBe(429);
  });
});

describe('sessions', () => {
  it('sets the session cookie HttpOnly and SameSite=Lax, for the whole site, only at login', async () => {
    const visitor = new Visitor(t.app);
    const form = await visitor.get('/login');
    expect(setCookies(form).has(SESSION_COOKIE)).toBe(false);
    const response = await tryLogin(visitor, user.email, TEST_PASSWORD);
    const cookie = setCookies(response).get(SESSION_COOKIE);
    expect(cookie, 'a session cookie at login').toBeDefined();
    expect(cookie!.attributes).toContain('httponly');
    expect(cookie!.attributes).toContain('samesite=lax');
    expect(cookie!.attributes).toContain('path=/');
  });

  it('behind an HTTPS proxy, sets a Secure __Host- cookie, and clears it at logout in a way browsers accept', async () => {
    const secure = await createTestPlatform({
      env: { PUBLIC_URL: 'https://letters.example.org', TRUST_PROXY: 'true' },
    });
    try {
      const account = await createAccount(secure.platform, 'organizer');
      const https = (req: request.Test) => req.set('X-Forwarded-Proto', 'https').set('Accept', 'text/html');
      const cookies = new Map<string, string>();
      const header = () => [...cookies].map(([name, value]) => `${name}=${value}`).join('; ');
      const keep = (response: { headers: Record<string, unknown> }) => {
        for (const [name, { value }] of setCookies(response)) cookies.set(name, value);
      };

      const form = await https(request(secure.app).get('/login'));
      keep(form);
      const login = await https(request(secure.app).post('/login'))
        .type('form')
        .set('Cookie', header())
        .send({
          email: account.email,
          password: TEST_PASSWORD,
          next: '/admin',
          _csrf: csrfTokenIn(form.text),
        });
      expect(login.status).toBe(303);
      const set = setCookies(login).get('__Host-us_session');
      expect(set, 'a __Host- session cookie').toBeDefined();
      expect(set!.attributes).toEqual(
        expect.arrayContaining(['secure', 'httponly', 'samesite=lax', 'path=/']),
      );
      expect(set!.attributes.some((a) => a.startsWith('domain='))).toBe(false);
      keep(login);

      const dashboard = await https(request(secure.app).get('/admin')).set('Cookie', header());
      expect(dashboard.status).toBe(200);
      const logout = await https(request(secure.app).post('/logout'))
        .type('form')
        .set('Cookie', header())
        .send({ _csrf: csrfTokenIn(dashboard.text) });
      expect(logout.status).toBe(303);
      // A __Host- cookie is only replaced (here: expired) by a Set-Cookie that is Secure with Path=/.
      const cleared = setCookies(logout).get('__Host-us_session');
      expect(cleared, 'the logout clears the session cookie').toBeDefined();
      expect(cleared!.value).toBe('');
      expect(cleared!.attributes).toEqual(expect.arrayContaining(['secure', 'path=/']));
      expect(cleared!.attributes.some((a) => a.startsWith('expires=thu, 01 jan 1970'))).toBe(true);
    } finally {
      await secure.close();
    }
  });

  it('gives a new session id at login: an id planted before the login is never logged in', async () => {
    const secret = t.platform.appDeps.secret;
    const planted = 'planted-by-someone-else-0123456789';
    // The planted id even has a stored (anonymous) session, as a session begun before login would.
    await t.platform.db
      .insertInto('sessions')
      .values({
        sid_hash: keyedHash(secret, 'session', planted),
        user_id: null,
        data: JSON.stringify({ cookie: { originalMaxAge: 3_600_000, httpOnly: true, path: '/' } }),
        expires_at: new Date(t.clock.now().getTime() + 3_600_000).toISOString(),
      })
      .execute();
    const plantedCookie = signedCookieValue(planted, secret);

    const victim = new CookieBrowser(t.app);
    victim.cookies.set(SESSION_COOKIE, plantedCookie);
    const login = await victim.submit('/login', '/login', {
      email: user.email,
      password: TEST_PASSWORD,
      next: '/admin',
    });
    expect(login.status).toBe(303);
    const after = victim.cookies.get(SESSION_COOKIE)!;
    expect(after).not.toBe(plantedCookie);
    expect(sidOf(after)).not.toBe(planted);
    expect(await adminPageAnswer(victim)).toBeUndefined();

    const attacker = new CookieBrowser(t.app);
    attacker.cookies.set(SESSION_COOKIE, plantedCookie);
    expect(await adminPageAnswer(attacker)).toBe('/login?next=%2Fadmin');
    const stored = await sessionRows(t);
    expect(stored.map((row) => row.sid_hash)).not.toContain(keyedHash(secret, 'session', planted));
  });

  it('does not log in a made-up session id sent with the login', async () => {
    const secret = t.platform.appDeps.secret;
    const plantedCookie = signedCookieValue('made-up-session-id-0123456789abcdef', secret);
    const victim = new CookieBrowser(t.app);
    victim.cookies.set(SESSION_COOKIE, plantedCookie);
    const login = await victim.submit('/login', '/login', {
      email: user.email,
      password: TEST_PASSWORD,
      next: '/admin',
    });
    expect(login.status).toBe(303);
    expect(victim.cookies.get(SESSION_COOKIE)).not.toBe(plantedCookie);
    // The login itself worked: only the made-up id was left out of it.
    expect(await adminPageAnswer(victim)).toBeUndefined();

    const attacker = new CookieBrowser(t.app);
    attacker.cookies.set(SESSION_COOKIE, plantedCookie);
    expect(await adminPageAnswer(attacker)).toBe('/login?next=%2Fadmin');
  });

  it('ends the session a browser had when another account logs in from it', async () => {
    const colleague = await createAccount(t.platform, 'organizer');
    const browser = new CookieBrowser(t.app);
    await browser.submit('/login', '/login', { email: user.email, password: TEST_PASSWORD, next: '/admin' });
    const first = browser.cookies.get(SESSION_COOKIE);
    expect(first, 'a session cookie from the first login').toBeDefined();
    expect(await adminPageAnswer(browser), 'the first login opens the admin pages').toBeUndefined();
    // Already logged in, the login form forwards to the dashboard; its logout form carries a token too.
    const second = await browser.submit('/admin', '/login', {
      email: colleague.email,
      password: TEST_PASSWORD,
      next: '/admin',
    });
    expect(second.status).toBe(303);
    expect(browser.cookies.get(SESSION_COOKIE)).not.toBe(first);
    expect(await adminPageAnswer(browser), 'the colleague is logged in').toBeUndefined();

    // The first account's session is over: its cookie, replayed, opens no admin page.
    const replay = new CookieBrowser(t.app);
    replay.cookies.set(SESSION_COOKIE, first!);
    expect(await adminPageAnswer(replay)).toBe('/login?next=%2Fadmin');
  });

  it('ends a session after eight hours without a request, and each request starts the eight hours again', async () => {
    const visitor = await loginAs(t.app, user);
    t.clock.advance(7 * 3_600_000);
    expect(await adminPageAnswer(visitor)).toBeUndefined();
    t.clock.advance(7 * 3_600_000);
    expect(await adminPageAnswer(visitor), 'seven idle hours after the last request').toBeUndefined();
    t.clock.advance(8 * 3_600_000 + 1_000);
    expect(await adminPageAnswer(visitor), 'eight idle hours after the last request').toBe(
      '/login?next=%2Fadmin',
    );
  });

  it('stores only a keyed hash of the session id, never the id itself', async () => {
    const visitor = new Visitor(t.app);
    const response = await tryLogin(visitor, user.email, TEST_PASSWORD);
    const sid = sidOf(setCookies(response).get(SESSION_COOKIE)!.value);
    expect(sid.length).toBeGreaterThan(20);

    const rows = await sessionRows(t);
    expect(rows).toHaveLength(1);
    expect(rows[0]!.user_id).toBe(user.id);
    expect(rows[0]!.sid_hash).toBe(keyedHash(t.platform.appDeps.secret, 'session', sid));
    expect(JSON.stringify(rows)).not.toContain(sid);
    const raw = t.platform.db.selectFrom('sessions').select('sid_hash').where('sid_hash', '=', sid);
    expect(await raw.execute()).toEqual([]);
  });

  it('never gives supporters a session: reading, signing, confirming and withdrawing set no session cookie', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const supporter = new Visitor(t.app);
    const responses: { path: string; response: { headers: Record<string, unknown> } }[] = [];
    const visit = async (path: string) => responses.push({ path, response: await supporter.get(path) });

    await visit('/');
    await visit(`/letters/${slug}`);
    responses.push({
      path: 'sign',
      response: await supporter.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm()),
    });
    await visit(`/letters/${slug}/check-your-inbox`);
    await t.drainOutbox();
    const links = signatureLinks(lastMailTo(t, signingForm().email!));
    await visit(links.confirm);
    responses.push({ path: 'confirm', response: await supporter.submit(links.confirm, links.confirm, {}) });
    await visit(`/letters/${slug}/thank-you`);
    await visit(links.withdraw);
    await visit('/login');

    expect(responses.find((r) => r.path === 'sign')!.response).toMatchObject({ status: 303 });
    for (const { path, response } of responses) {
      const names = [...setCookies(response).keys()];
      expect(
        names.filter((n) => n.includes('session')),
        path,
      ).toEqual([]);
    }
    expect(await sessionRows(t)).toEqual([]);
  });
});
