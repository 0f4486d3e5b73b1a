import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, TEST_PASSWORD } from '../support/accounts.js';
import { byClass, byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { csrfTokenIn } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const WRONG = 'wrong password, again';
const waitMessage = (wait: string) =>
  `There have been too many failed attempts with this address. Wait ${wait} before trying again.`;

/**
 * A browser at one client address. The platform trusts one proxy (TRUST_PROXY), which tells it the
 * client's address in X-Forwarded-For, as the README's reverse proxy does.
 */
class ClientAt {
  private readonly agent: ReturnType<typeof request.agent>;

  constructor(
    app: TestPlatform['app'],
    readonly ip: string,
  ) {
    this.agent = request.agent(app);
  }

  get(path: string) {
    return this.agent.get(path).set('Accept', 'text/html').set('X-Forwarded-For', this.ip);
  }

  /** Opens the login form, then sends it. */
  async login(email: string, password: string) {
    const form = await this.get('/login');
    return this.agent
      .post('/login')
      .type('form')
      .set('Accept', 'text/html')
      .set('X-Forwarded-For', this.ip)
      .send({ email, password, next: '/admin', _csrf: csrfTokenIn(form.text) });
  }
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

let t: TestPlatform;
let owner: User;
let next = 0;
/** A client address nobody has used yet in this test (documentation ranges, RFC 5737). */
const freshIp = () => `198.51.100.${(next += 1)}`;

beforeEach(async () => {
  t = await createTestPlatform({ env: { TRUST_PROXY: 'true' } });
  owner = await createAccount(t.platform, 'admin');
  next = 0;
});
afterEach(async () => {
  await t.close();
});

/** Fails `count` logins from `client`, waiting out each wait it is given, as a patient attacker would. */
async function failFrom(client: ClientAt, email: string, count: number): Promise<string[]> {
  const waits: string[] = [];
  for (let failure = 1; failure <= count; failure += 1) {
    const response = await client.login(email, WRONG);
    expect([401, 429], `failure ${failure}`).toContain(response.status);
    const retryAfter = response.headers['retry-after'] as string | undefined;
    waits.push(retryAfter ?? '-');
    if (failure < count && retryAfter) t.clock.advance(Number(retryAfter) * 1_000);
  }
  return waits;
}

describe('an attacker guessing a password from one address', () => {
  it('locks that address for 15 minutes while the owner logs in from another address at once', async () => {
    const attacker = new ClientAt(t.app, '203.0.113.66');
    const waits = await failFrom(attacker, owner.email, 10);
    expect(waits.at(-1)).toBe('900');

    // The attacker's address is refused even the right password, with a page that says how long.
    const locked = await attacker.login(owner.email, TEST_PASSWORD);
    expect(locked.status).toBe(429);
    expect(locked.headers['retry-after']).toBe('900');
    expect(loginError(locked.text)).toBe(waitMessage('15 minutes'));
    expect(byId(locked.text, 'field-email')!.attrs.value).toBe(owner.email);

    // The owner, elsewhere, is not slowed at all.
    const home = new ClientAt(t.app, '192.0.2.10');
    const login = await home.login(owner.email, TEST_PASSWORD);
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/admin');
    expect((await home.get('/admin')).status).toBe(200);

    // The owner's login does not free the attacker's address.
    expect((await attacker.login(owner.email, TEST_PASSWORD)).status).toBe(429);
  });

  it('keeps the owner free to log in elsewhere however long the attack lasts', async () => {
    const attacker = new ClientAt(t.app, '203.0.113.66');
    await failFrom(attacker, owner.email, 10);
    // A day of attempts, one each time the lock ends: each one locks the address again.
    for (let round = 0; round < 8; round += 1) {
      t.clock.advance(15 * 60_000);
      const response = await attacker.login(owner.email, WRONG);
      expect(response.status).toBe(429);
      expect(response.headers['retry-after']).toBe('900');
    }
    const login = await new ClientAt(t.app, '192.0.2.10').login(owner.email, TEST_PASSWORD);
    expect(login.status).toBe(303);
  });

  it('counts an IPv6 client by its network: rotating addresses inside it does not escape the lock', async () => {
    for (let n = 1; n <= 10; n += 1) {
      // Each guess from another address of one /64, as any IPv6 host can do; each wait is waited out.
      const response = await new ClientAt(t.app, `2001:db8:1:2::${n.toString(16)}`).login(owner.email, WRONG);
      const retryAfter = response.headers['retry-after'] as string | undefined;
      if (n < 10 && retryAfter) t.clock.advance(Number(retryAfter) * 1_000);
    }
    const sameNetwork = await new ClientAt(t.app, '2001:db8:1:2::beef').login(owner.email, TEST_PASSWORD);
    expect(sameNetwork.status).toBe(429);
    expect(sameNetwork.headers['retry-after']).toBe('900');
    const elsewhere = await new ClientAt(t.app, '2001:db8:9:9::1').login(owner.email, TEST_PASSWORD);
    expect(elsewhere.status).toBe(303);
  });

  it('stores only keyed hashes: neither the address tried nor the client address is in the table', async () => {
    await failFrom(new ClientAt(t.app, '203.0.113.66'), owner.email, 3);
    const rows = await t.platform.db.selectFrom('login_throttles').selectAll().execute();
    expect(rows.length).toBe(3);
    const stored = JSON.stringify(rows);
    expect(stored).not.toContain(owner.email);
    expect(stored).not.toContain('203.0.113.66');
  });
});

describe('guesses spread over many addresses', () => {
  it('slow the account down, by a minute at most, and never lock its owner out', async () => {
    const statuses: number[] = [];
    for (let n = 1; n <= 30; n += 1) {
      statuses.push((await new ClientAt(t.app, freshIp()).login(owner.email, WRONG)).status);
    }
    // Thirty addresses, one guess each: the first 29 are only refused; the 30th slows the account.
    expect(statuses.slice(0, 29).every((s) => s === 401)).toBe(true);
    expect(statuses[29]).toBe(429);

    // More guesses, each after the wait: the wait grows to a minute and stops there.
    const waits: number[] = [];
    for (let n = 1; n <= 10; n += 1) {
      const response = await new ClientAt(t.app, freshIp()).login(owner.email, WRONG);
      expect(response.status).toBe(429);
      const wait = Number(response.headers['retry-after']);
      waits.push(wait);
      t.clock.advance(wait * 1_000);
    }
    expect(Math.max(...waits)).toBe(60);
    expect(waits.slice(-3)).toEqual([60, 60, 60]);

    // Right after one more guess, the owner waits a minute at most, and is then let in.
    await new ClientAt(t.app, freshIp()).login(owner.email, WRONG);
    const home = new ClientAt(t.app, '192.0.2.10');
    const slowed = await home.login(owner.email, TEST_PASSWORD);
    expect(slowed.status).toBe(429);
    expect(Number(slowed.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(loginError(slowed.text)).toBe(waitMessage(`${slowed.headers['retry-after'] as string} seconds`));
    t.clock.advance(Number(slowed.headers['retry-after']) * 1_000);
    const login = await home.login(owner.email, TEST_PASSWORD);
    expect(login.status).toBe(303);
  });
});

describe('one address trying many accounts', () => {
  it('is slowed after 20 failures across accounts, and only that address is', async () => {
    const sprayer = new ClientAt(t.app, '203.0.113.99');
    const colleague = await createAccount(t.platform, 'organizer');
    const statuses: number[] = [];
    for (let n = 1; n <= 20; n += 1) {
      // One guess per address tried: no (address, client) pair or address ever reaches its own limit.
      const response = await sprayer.login(`someone-${n}@example.org`, WRONG);
      statuses.push(response.status);
      if (n === 20) expect(loginError(response.text)).toBe(waitMessage('5 seconds'));
    }
    expect(statuses.slice(0, 19).every((s) => s === 401)).toBe(true);
    expect(statuses[19]).toBe(429);

    const elsewhere = await new ClientAt(t.app, '192.0.2.20').login(colleague.email, TEST_PASSWORD);
    expect(elsewhere.status).toBe(303);
  });
});

describe('an address without an account', () => {
  it('is slowed and locked exactly as an account’s address, so a lock tells nothing', async () => {
    const known = await failFrom(new ClientAt(t.app, '203.0.113.66'), owner.email, 10);
    const unknown = await failFrom(new ClientAt(t.app, '203.0.113.67'), 'nobody-here@example.org', 10);
    expect(unknown).toEqual(known);
  });
});
