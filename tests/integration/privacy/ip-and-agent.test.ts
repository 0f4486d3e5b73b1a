import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { keyedHash } from '../../../server/lib/keyed-hash.js';
import { bytesAfterCheckpoint, bytesOnDisk, containsText } from '../../support/database-file.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { expectNoCsrfToken } from '../../support/http.js';
import { signatureLinks, signatureRows } from '../../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const USER_AGENT =
  'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) UndersignedProbe/7.3.1 Safari/537.36';
/** The supporter's address, as the proxy in front of the platform reports it. */
const SUPPORTER_IP = '203.0.113.77';
/** An address a client put in the header itself; a proxy adds the real one after it. */
const SPOOFED_IP = '192.0.2.201';

describe('what the platform keeps of a supporter’s connection', () => {
  let t: TestPlatform;

  afterEach(async () => {
    await t.close();
  });

  /** A browser behind the trusted proxy: every request carries its user agent and forwarded address. */
  function browser() {
    const agent = request.agent(t.app);
    const get = (path: string) =>
      agent
        .get(path)
        .set('Accept', 'text/html')
        .set('User-Agent', USER_AGENT)
        .set('X-Forwarded-For', `${SPOOFED_IP}, ${SUPPORTER_IP}`);
    const post = async (page: string, action: string, fields: Record<string, string>) => {
      expectNoCsrfToken((await get(page)).text);
      return agent
        .post(action)
        .type('form')
        .set('Accept', 'text/html')
        .set('User-Agent', USER_AGENT)
        .set('X-Forwarded-For', `${SPOOFED_IP}, ${SUPPORTER_IP}`)
        .send(fields);
    };
    return { get, post };
  }

  it('stores the address only as a keyed hash and the user agent not at all, anywhere in the database file', async () => {
    t = await createTestPlatform({ env: { TRUST_PROXY: '1' } });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const b = browser();
    const form = signingForm({ email: 'ji-hoon.kim@example.org', city: 'Seoul', organisation: 'NK Watch' });
    const signed = await b.post(`/letters/${slug}`, `/letters/${slug}/sign`, form);
    expect(signed.status).toBe(303);
    // Signing again re-sends the confirmation and writes the details again.
    expect((await b.post(`/letters/${slug}`, `/letters/${slug}/sign`, form)).status).toBe(303);
    await t.drainOutbox();
    const { confirm, withdraw } = signatureLinks(t.sink.to(form.email!).at(-1)!);
    const path = (link: string) => link.replace(/^https?:\/\/[^/]+/, '');
    expect((await b.post(path(confirm), path(confirm), {})).status).toBe(303);
    // Withdrawing and signing again starts the signature over with what is sent now.
    expect((await b.post(path(withdraw), path(withdraw), {})).status).toBe(303);
    expect((await b.post(`/letters/${slug}`, `/letters/${slug}/sign`, form)).status).toBe(303);
    await t.drainOutbox();

    const [row] = await signatureRows(t.platform.db);
    expect(row!.ip_hash).toBe(keyedHash(SECRET, 'ip', SUPPORTER_IP));
    expect(row!.ip_hash).not.toBe(keyedHash(SECRET, 'ip', SPOOFED_IP));
    expect(Object.keys(row!).some((column) => /agent|browser|device/i.test(column))).toBe(false);

    // The log before it is copied into the file, then the file and the log after.
    const beforeCheckpoint = await bytesOnDisk(t);
    const afterCheckpoint = await bytesAfterCheckpoint(t);
    for (const [when, bytes] of [
      ['before the checkpoint', beforeCheckpoint],
      ['after the checkpoint', afterCheckpoint],
    ] as const) {
      // The search works: what the supporter typed is in there.
      expect(containsText(bytes, 'ji-hoon.kim@example.org'), when).toBe(true);
      expect(containsText(bytes, row!.ip_hash!), when).toBe(true);
      for (const secret of [SUPPORTER_IP, SPOOFED_IP, USER_AGENT, 'UndersignedProbe', 'X11; Linux x86_64']) {
        expect(containsText(bytes, secret), `${secret} ${when}`).toBe(false);
      }
    }
  });

  it('ignores X-Forwarded-For when no proxy is trusted, hashing the connection’s own address', async () => {
    t = await createTestPlatform();
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const signed = await browser().post(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(signed.status).toBe(303);
    const [row] = await signatureRows(t.platform.db);
    expect(row!.ip_hash).not.toBe(keyedHash(SECRET, 'ip', SUPPORTER_IP));
    expect(row!.ip_hash).not.toBe(keyedHash(SECRET, 'ip', SPOOFED_IP));
    expect([
      keyedHash(SECRET, 'ip', '::ffff:127.0.0.1'),
      keyedHash(SECRET, 'ip', '127.0.0.1'),
      keyedHash(SECRET, 'ip', '::1'),
    ]).toContain(row!.ip_hash);
    const bytes = await bytesAfterCheckpoint(t);
    expect(containsText(bytes, SUPPORTER_IP)).toBe(false);
    expect(containsText(bytes, 'UndersignedProbe')).toBe(false);
  });
});
