import { rmSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Platform } from '../../server/wiring.js';
import { signedIn } from '../support/accounts.js';
import { mainOf, textOf } from '../support/html.js';
import { csrfTokenIn, Visitor } from '../support/http.js';
import { createLetter } from '../support/factories.js';
import { fieldsOf, postForm } from '../support/admin-forms.js';
import { linksIn } from '../support/smtp-sink.js';
import { ERROR_TITLES, expectErrorPage, pathOf } from '../support/signing.js';
import { createTestPlatform, platformBeside, type TestPlatform } from '../support/test-platform.js';

/** The login form's limit per connection: 20 posts in 15 minutes (server/app.ts). */
const LOGIN_LIMIT = 20;
const LOGIN_WINDOW_S = 15 * 60;

/**
 * Posts the login form without a valid CSRF token: the limit counts it before the token is checked
 * (403), so these tests reach the request limit and not the account throttles.
 */
const postLogin = (app: TestPlatform['app']) =>
  new Visitor(app).agent
    .post('/login')
    .type('form')
    .set('Accept', 'text/html')
    .send({ email: 'someone@example.org', password: 'wrong', _csrf: 'forged' });

describe('request limits answer 429 with Retry-After and a readable page, and are kept in the database', () => {
  let t: TestPlatform;
  const others: Platform[] = [];
  let shutDown = false;

  beforeEach(async () => {
    shutDown = false;
    t = await createTestPlatform();
  });
  afterEach(async () => {
    for (const platform of others.splice(0)) await platform.shutdown();
    if (!shutDown) await t.close();
  });

  /** Another process on the same database file. */
  async function anotherInstance() {
    const other = await platformBeside(t);
    others.push(other.platform);
    return other.app;
  }

  it('answers the login form past its limit with 429, Retry-After and a page saying how long to wait', async () => {
    for (let n = 1; n <= LOGIN_LIMIT; n++) expect((await postLogin(t.app)).status).toBe(403);
    const refused = await postLogin(t.app);
    expectErrorPage(refused, 429, ERROR_TITLES[429]);
    expect(refused.headers['retry-after']).toBe(String(LOGIN_WINDOW_S));
    expect(textOf(mainOf(refused.text))).toContain('Please wait 15 minutes and try again.');
  });

  it('says the time left, not the whole window, and lets the connection in again once it is over', async () => {
    for (let n = 1; n <= LOGIN_LIMIT; n++) await postLogin(t.app);
    t.clock.advance((LOGIN_WINDOW_S - 45) * 1000);
    const refused = await postLogin(t.app);
    expect(refused.status).toBe(429);
    expect(refused.headers['retry-after']).toBe('45');
    expect(textOf(mainOf(refused.text))).toContain('Please wait 45 seconds and try again.');
    t.clock.advance(45_000);
    expect((await postLogin(t.app)).status).toBe(403);
  });

  it('holds across two app instances on one database', async () => {
    const second = await anotherInstance();
    for (let n = 1; n <= LOGIN_LIMIT; n++) await postLogin(n % 2 === 0 ? t.app : second);
    expect((await postLogin(second)).status).toBe(429);
    expect((await postLogin(t.app)).status).toBe(429);
  });

  it('survives a restart (a new app on the same database file)', async () => {
    for (let n = 1; n <= LOGIN_LIMIT; n++) await postLogin(t.app);
    await t.platform.shutdown();
    const restarted = await anotherInstance();
    expect((await postLogin(restarted)).status).toBe(429);
    shutDown = true;
    for (const platform of others.splice(0)) await platform.shutdown();
    await t.sink.stop();
    rmSync(t.dataDir, { recursive: true, force: true });
  });

  it('answers exports past their limit with 429 and Retry-After; a refused form does not count', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const form = await visitor.get('/admin/exports');
    const exportOnce = (fields: Record<string, string>) =>
      visitor.agent
        .post('/admin/exports')
        .type('form')
        .set('Accept', 'text/html')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ _csrf: csrfTokenIn(form.text), ...fields });
    // Forms refused (no letter chosen, a forged token) read nothing: they lock nobody out.
    for (let n = 1; n <= 25; n++) expect((await exportOnce({ letter: '' })).status).toBe(400);
    for (let n = 1; n <= 5; n++) expect((await exportOnce({ _csrf: 'forged' })).status).toBe(403);
    const real = { letter: slug, format: 'jsonl', status: 'confirmed', columns: 'public_name' };
    for (let n = 1; n <= 20; n++) expect((await exportOnce(real)).status).toBe(200);
    const refused = await exportOnce(real);
    expectErrorPage(refused, 429, ERROR_TITLES[429]);
    expect(refused.headers['retry-after']).toBe(String(15 * 60));
  });

  it('answers signature links past their limit (120 in 15 minutes) with 429 and Retry-After', async () => {
    const visitor = new Visitor(t.app);
    for (let n = 1; n <= 120; n++)
      expect((await visitor.get(`/signatures/confirm/guess-${n}`)).status).toBe(404);
    const refused = await visitor.get('/signatures/confirm/guess-121');
    expectErrorPage(refused, 429, ERROR_TITLES[429]);
    expect(refused.headers['retry-after']).toBe(String(15 * 60));
  });

  it('does not lock an invitee out for failed logins from the same connection, nor for passwords refused as too weak', async () => {
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const email = 'shared.office@example.org';
    const invited = await postForm(
      admin,
      '/admin/users',
      '/admin/users/invite',
      fieldsOf({ email, role: 'organizer' }),
    );
    expect(invited.status).toBe(303);
    await t.drainOutbox();
    const link = pathOf(linksIn(t.sink.to(email).at(-1)!).find((l) => l.includes('/account/invite/'))!);
    // Colleagues behind the same address mistype until the login form refuses the address itself.
    for (let n = 1; n <= LOGIN_LIMIT; n++) await postLogin(t.app);
    expect((await postLogin(t.app)).status).toBe(429);
    const visitor = new Visitor(t.app);
    for (let n = 1; n <= LOGIN_LIMIT + 2; n++)
      expect((await visitor.submit(link, link, { password: 'short', confirm: 'short' })).status).toBe(422);
    const password = 'a long enough new password';
    expect((await visitor.submit(link, link, { password, confirm: password })).status).toBe(303);
    expect((await t.platform.repositories.users.findByEmail(email))!.mustChangePassword).toBe(false);
  });

  it('keeps each limit apart: links are not refused because the login form was', async () => {
    for (let n = 1; n <= LOGIN_LIMIT + 1; n++) await postLogin(t.app);
    const link = await new Visitor(t.app).get('/signatures/confirm/not-a-real-token');
    expect(link.status).toBe(404);
  });

  it('keeps no client address in the database, only keyed hashes', async () => {
    await postLogin(t.app);
    const keys = await t.platform.db.selectFrom('limit_counters').select('key_hash').execute();
    expect(keys.length).toBeGreaterThan(0);
    for (const { key_hash } of keys) expect(key_hash).not.toMatch(/127\.0\.0\.1|::1|ffff/);
  });
});
