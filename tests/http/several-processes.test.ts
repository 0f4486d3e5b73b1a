import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Platform } from '../../server/wiring.js';
import { signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { startTags } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { sign, signatureRows } from '../support/signing.js';
import { createTestPlatform, platformBeside, type TestPlatform } from '../support/test-platform.js';

// Several signings from one test client: the signing limits are not what these tests are about.
const ROOMY_LIMITS = { SIGNING_LIMIT_BURST: '100/60', SIGNING_LIMIT_SUSTAINED: '100/300' };

/** The signing forms on a page: none once the letter is closed. */
const signingForms = (html: string) =>
  startTags(html, 'form').filter((f) => f.attrs.action?.includes('/sign'));

// What one process keeps in memory between requests (rendered pages, letter stamps, the block and allow
// lists) must follow what another process writes to the same database, on its very next request.
describe('two web processes on one database', () => {
  let t: TestPlatform;
  const others: Platform[] = [];

  /** Another process on the same database: its own connection, services, caches and app. */
  async function anotherProcess() {
    const other = await platformBeside(t);
    others.push(other.platform);
    return other.app;
  }

  beforeEach(async () => {
    t = await createTestPlatform({ env: ROOMY_LIMITS });
  });
  afterEach(async () => {
    for (const platform of others.splice(0)) await platform.shutdown();
    await t.close();
  });

  it("shows on the other process's next page a letter closed through this one", async () => {
    const { slug, id } = await createLetter(t.platform.db, t.clock.now());
    const other = await anotherProcess();
    // The other process has the open letter's page kept (asked twice: the second answer is the kept one).
    await new Visitor(other).get(`/letters/${slug}`);
    const before = await new Visitor(other).get(`/letters/${slug}`);
    expect(signingForms(before.text)).not.toEqual([]);

    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const closed = await admin.submit(`/admin/letters/${id}/close`, `/admin/letters/${id}/close`, {});
    expect(closed.status).toBe(303);

    // Within the same count epoch (the clock has not moved): only the database's write mark can tell.
    // SQLite's moves at once; PostgreSQL's with the other process's next poll (half a second).
    await vi.waitFor(
      async () => {
        const after = await new Visitor(other).get(`/letters/${slug}`);
        expect(after.headers.etag).not.toBe(before.headers.etag);
        expect(signingForms(after.text)).toEqual([]);
      },
      { timeout: 5_000, interval: 100 },
    );
  });

  it('screens a signing in the other process by a block entry added through this one', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const other = await anotherProcess();
    // The other process has screened a signing by the (empty) lists already.
    await sign(new Visitor(other), slug, { email: 'first@example.org' });

    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    await admin.submit('/admin/abuse', '/admin/abuse/entries', {
      list: 'block',
      kind: 'domain',
      value: 'spam.test',
      note: 'fake signatures',
    });

    // The other process's next signing after it has seen the write (at once on SQLite, within a poll on PostgreSQL).
    await sign(new Visitor(other), slug, { email: 'bot@mail.spam.test' });
    const row = (await signatureRows(t.platform.db)).find((r) => r.email === 'bot@mail.spam.test')!;
    expect(row.suspect_reasons ?? '').toContain('blocked-domain');
  });
});
