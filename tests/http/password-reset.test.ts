import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { verifyPassword } from '../../server/accounts/passwords.js';
import { RESET_ANSWER_MS } from '../../server/accounts/password-reset-service.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import { createAccount, loginAs, TEST_PASSWORD } from '../support/accounts.js';
import { byClass, byId, innerHtml, mainOf, startTags, textById, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { linksIn, type SinkMessage } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage, pathOf, tokenOf } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const NEW_PASSWORD = 'a brand new password for the test';
const MESSAGES = {
  sent: 'If an account has this address, we have sent it a link to choose a new password. The link works for 30 minutes, once. If nothing arrives, check the address, or ask an admin of this platform.',
  used: 'This link has been used already: each link sets a password once. If you did not use it, ask for a new link.',
  expired: 'This link has expired: a link works for 30 minutes. Ask for a new one.',
  invalid:
    'This link is not valid. Check that you copied the whole link from the e-mail, or ask for a new one.',
  loginNotice:
    'Your password was changed, and you were logged out everywhere. Log in with your new password.',
  emailInvalid: 'Enter an e-mail address in the form name@example.org.',
  tooShort: 'Use at least 12 characters.',
  passwordsDiffer: 'The two new passwords are not the same. Type the same password twice.',
};

let t: TestPlatform;
let user: User;

beforeEach(async () => {
  t = await createTestPlatform();
  user = await createAccount(t.platform, 'organizer');
});
afterEach(async () => {
  await t.close();
});

/** Asks for a link from the "Forgot your password?" form, as a person would. */
function askForLink(email: string, visitor = new Visitor(t.app)) {
  return visitor.submit('/account/reset', '/account/reset', { email });
}

/** The reset messages the sink received for an address. */
function resetMailsTo(address: string): SinkMessage[] {
  return t.sink.to(address).filter((m) => m.parsed.subject === 'Choose a new password for Undersigned');
}

/** The path of the reset link in the newest reset e-mail to an address. */
async function resetLinkFor(address: string): Promise<string> {
  await t.drainOutbox();
  const message = resetMailsTo(address).at(-1);
  if (!message) throw new Error(`no reset e-mail to ${address}`);
  const link = linksIn(message).find((l) => l.startsWith(`${TEST_PUBLIC_URL}/account/reset/`));
  if (!link) throw new Error('the e-mail has no reset link');
  return pathOf(link);
}

function setPassword(link: string, password: string, confirm = password, visitor = new Visitor(t.app)) {
  return visitor.submit(link, link, { password, confirm });
}

async function passwordIs(password: string): Promise<boolean> {
  return verifyPassword((await t.platform.repositories.users.passwordHashOf(user.id))!, password);
}

function tryLogin(email: string, password: string, visitor = new Visitor(t.app)) {
  return visitor.submit('/login', '/login', { email, password, next: '/admin' });
}

/** Whether this visitor's session still opens an admin page. */
async function stillLoggedIn(visitor: Visitor): Promise<boolean> {
  return (await visitor.get('/admin')).status === 200;
}

describe('a forgotten password', () => {
  it('is replaced through a link e-mailed to the account: the whole journey', async () => {
    const visitor = new Visitor(t.app);
    const login = await visitor.get('/login');
    const forgot = startTags(mainOf(login.text), 'a').find((a) => a.attrs.href === '/account/reset');
    expect(forgot, 'the login page links to the reset form').toBeDefined();
    expect(textOf(innerHtml(mainOf(login.text), forgot!))).toBe('Forgot your password?');

    const form = await visitor.get('/account/reset');
    expect(form.status).toBe(200);
    expect(byId(form.text, 'field-email')).toBeDefined();

    const asked = await askForLink(user.email, visitor);
    expect(asked.status).toBe(200);
    expect(textById(asked.text, 'reset-sent')).toBe(MESSAGES.sent);

    await t.drainOutbox();
    const [mail] = resetMailsTo(user.email);
    expect(mail, 'a reset e-mail reached the account’s address').toBeDefined();
    expect(mail!.parsed.text).toContain('The link works for 30 minutes, once.');
    const link = await resetLinkFor(user.email);
    const token = tokenOf(link);
    // Only a keyed hash of the token is stored.
    const row = await t.platform.db
      .selectFrom('users')
      .select(['reset_token_hash'])
      .where('id', '=', user.id)
      .executeTakeFirstOrThrow();
    expect(row.reset_token_hash).toBe(keyedHash(t.platform.appDeps.secret, 'password-reset', token));
    expect(JSON.stringify(await t.platform.db.selectFrom('users').selectAll().execute())).not.toContain(
      token,
    );

    const page = await visitor.get(link);
    expect(page.status).toBe(200);
    expect(
      textOf(
        byClass(page.text, 'lede')
          .map((l) => innerHtml(page.text, l))
          .join(''),
      ),
    ).toContain(user.email);
    const reset = await setPassword(link, NEW_PASSWORD, NEW_PASSWORD, visitor);
    expect(reset.status).toBe(303);
    // The login page keeps the e-mail's language (its link's ?lang=, the account's).
    expect(reset.headers.location).toBe('/login?lang=en&done=passwordReset');
    const notice = await visitor.get('/login?done=passwordReset');
    expect(textOf(innerHtml(notice.text, byClass(notice.text, 'notice')[0]!))).toBe(MESSAGES.loginNotice);

    expect((await tryLogin(user.email, TEST_PASSWORD)).status).toBe(401);
    const fresh = await tryLogin(user.email, NEW_PASSWORD);
    expect(fresh.status).toBe(303);
    expect(fresh.headers.location).toBe('/admin');

    const audit = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'password-reset')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      actor_user_id: user.id,
      target_type: 'user',
      target_id: String(user.id),
    });
    expect(JSON.stringify(audit)).not.toContain(token);
  });

  it('works once: the used link says so, and sets nothing a second time', async () => {
    await askForLink(user.email);
    const link = await resetLinkFor(user.email);
    expect((await setPassword(link, NEW_PASSWORD)).status).toBe(303);

    const again = await new Visitor(t.app).get(link);
    expect(again.status).toBe(410);
    expect(textById(again.text, 'reset-link-state')).toBe(MESSAGES.used);
    expect(byId(again.text, 'field-password')).toBeUndefined();
    // Posting to it anyway (from a page opened before it was used) changes nothing.
    const replay = await new Visitor(t.app).submit('/account/reset', link, {
      password: 'the password of whoever replays it',
      confirm: 'the password of whoever replays it',
    });
    expect(replay.status).toBe(410);
    expect(await passwordIs(NEW_PASSWORD)).toBe(true);
  });

  it('is refused after 30 minutes: the expired link says so and the password stays', async () => {
    await askForLink(user.email);
    const link = await resetLinkFor(user.email);
    t.clock.advance(29 * 60_000);
    expect((await new Visitor(t.app).get(link)).status).toBe(200);
    t.clock.advance(60_000);
    const expired = await new Visitor(t.app).get(link);
    expect(expired.status).toBe(410);
    expect(textById(expired.text, 'reset-link-state')).toBe(MESSAGES.expired);
    const late = await new Visitor(t.app).submit('/account/reset', link, {
      password: NEW_PASSWORD,
      confirm: NEW_PASSWORD,
    });
    expect(late.status).toBe(410);
    expect(await passwordIs(TEST_PASSWORD)).toBe(true);
  });

  it('ends every session of the account, and only that account’s', async () => {
    const laptop = await loginAs(t.app, user);
    const phone = await loginAs(t.app, user);
    const colleague = await loginAs(t.app, await createAccount(t.platform, 'organizer'));
    expect(await stillLoggedIn(laptop)).toBe(true);

    await askForLink(user.email);
    expect((await setPassword(await resetLinkFor(user.email), NEW_PASSWORD)).status).toBe(303);

    expect(await stillLoggedIn(laptop)).toBe(false);
    expect(await stillLoggedIn(phone)).toBe(false);
    expect(await stillLoggedIn(colleague)).toBe(true);
  });

  it('clears the failed logins counted against the account, so the owner logs in at once', async () => {
    for (let n = 0; n < 3; n += 1) await tryLogin(user.email, 'somebody guessing');
    expect((await tryLogin(user.email, TEST_PASSWORD)).status).toBe(429);
    await askForLink(user.email);
    expect((await setPassword(await resetLinkFor(user.email), NEW_PASSWORD)).status).toBe(303);
    expect((await tryLogin(user.email, NEW_PASSWORD)).status).toBe(303);
  });

  it('keeps the link working after a refused password, and says why beside the field', async () => {
    await askForLink(user.email);
    const link = await resetLinkFor(user.email);
    const short = await setPassword(link, 'too short');
    expect(short.status).toBe(422);
    expect(textById(short.text, 'field-password-error')).toBe(`Error: ${MESSAGES.tooShort}`);
    const differ = await setPassword(link, NEW_PASSWORD, `${NEW_PASSWORD}!`);
    expect(differ.status).toBe(422);
    expect(textById(differ.text, 'field-confirm-error')).toBe(`Error: ${MESSAGES.passwordsDiffer}`);
    expect(differ.text).not.toContain(NEW_PASSWORD);
    expect(await passwordIs(TEST_PASSWORD)).toBe(true);
    expect((await setPassword(link, NEW_PASSWORD)).status).toBe(303);
  });

  it('answers a link that is not one of ours with 404 and a clear page', async () => {
    for (const token of ['not-a-real-token-but-long-enough', '%3Cscript%3E', 'x'.repeat(300)]) {
      const response = await new Visitor(t.app).get(`/account/reset/${token}`);
      expect(response.status, token).toBe(404);
      expect(textById(response.text, 'reset-link-state')).toBe(MESSAGES.invalid);
    }
  });
});

describe('asking for a link', () => {
  /** The page as everyone gets it, without the per-browser CSRF token. */
  const neutral = (html: string) => mainOf(html).replace(/name="_csrf" value="[^"]+"/g, '');

  it('answers an unknown address with the same page, and sends nothing', async () => {
    const known = await askForLink(user.email);
    const unknown = await askForLink('nobody-at-all@example.org');
    expect(unknown.status).toBe(known.status);
    expect(neutral(unknown.text)).toBe(neutral(known.text));
    await t.drainOutbox();
    expect(resetMailsTo(user.email)).toHaveLength(1);
    expect(t.sink.to('nobody-at-all@example.org')).toEqual([]);
  });

  it('takes as long for an unknown address as for an account’s', async () => {
    const timed = async (email: string) => {
      const started = performance.now();
      await t.platform.appDeps.passwordResets.request(email);
      return performance.now() - started;
    };
    // Both wait out the same floor, far above the work of queuing the e-mail.
    expect(await timed(user.email)).toBeGreaterThanOrEqual(RESET_ANSWER_MS - 5);
    expect(await timed('nobody-at-all@example.org')).toBeGreaterThanOrEqual(RESET_ANSWER_MS - 5);
  });

  it('sends nothing to a disabled account, with the same page', async () => {
    const disabled = await createAccount(t.platform, 'organizer');
    await t.platform.db
      .updateTable('users')
      .set({ disabled_at: t.clock.now().toISOString() })
      .where('id', '=', disabled.id)
      .execute();
    const known = await askForLink(user.email);
    const answer = await askForLink(disabled.email);
    expect(neutral(answer.text)).toBe(neutral(known.text));
    await t.drainOutbox();
    expect(t.sink.to(disabled.email)).toEqual([]);
  });

  it('sends one e-mail per account in five minutes, however often it is asked', async () => {
    await askForLink(user.email);
    const first = await resetLinkFor(user.email);
    await askForLink(user.email);
    await askForLink(user.email);
    await t.drainOutbox();
    expect(resetMailsTo(user.email)).toHaveLength(1);
    t.clock.advance(5 * 60_000 + 1_000);
    await askForLink(user.email);
    const second = await resetLinkFor(user.email);
    expect(resetMailsTo(user.email)).toHaveLength(2);
    // The newer link replaces the older one.
    expect(second).not.toBe(first);
    expect((await new Visitor(t.app).get(first)).status).toBe(404);
    expect((await new Visitor(t.app).get(second)).status).toBe(200);
  });

  it('refuses an address that is not one, with 422, the input kept and the field pointed at', async () => {
    const response = await askForLink('not an address');
    expect(response.status).toBe(422);
    expect(byId(response.text, 'field-email')!.attrs.value).toBe('not an address');
    expect(byId(response.text, 'field-email')!.attrs['aria-invalid']).toBe('true');
    expect(textById(response.text, 'field-email-error')).toBe(`Error: ${MESSAGES.emailInvalid}`);
  });

  it('is limited per client address: the sixth request in 15 minutes gets 429 with Retry-After', async () => {
    const visitor = new Visitor(t.app);
    for (let n = 1; n <= 5; n += 1) {
      expect((await askForLink(`someone-${n}@example.org`, visitor)).status).toBe(200);
    }
    const sixth = await askForLink('someone-6@example.org', visitor);
    expectErrorPage(sixth, 429, ERROR_TITLES[429]);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('refuses a request without the CSRF token', async () => {
    const response = await new Visitor(t.app).agent
      .post('/account/reset')
      .type('form')
      .set('Accept', 'text/html')
      .send({ email: user.email });
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    await t.drainOutbox();
    expect(resetMailsTo(user.email)).toEqual([]);
  });
});
