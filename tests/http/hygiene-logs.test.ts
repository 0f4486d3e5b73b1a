import { Writable } from 'node:stream';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { createAccount, loginAs } from '../support/accounts.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** An app like the platform's, whose request log is kept in memory to be read. */
function appWithLog(t: TestPlatform): { app: ReturnType<typeof createApp>; log: () => string } {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  const app = createApp({ ...t.platform.appDeps, logger: pino({ level: 'info' }, stream) });
  return { app, log: () => lines.join('') };
}

describe('the request log', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('records the pages admins search, but never what they searched for', async () => {
    const { app, log } = appWithLog(t);
    const visitor = await loginAs(app, await createAccount(t.platform, 'admin'));
    const search = await visitor.get(
      `/admin/signatures?name=${encodeURIComponent('Kim Ji-hoon')}&email=${encodeURIComponent('ji-hoon@example.org')}&ip=203.0.113.9`,
    );
    expect(search.status).toBe(200);
    // The request is in the log: the check below reads a log that has it.
    const entries = log()
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { req?: { url?: string } });
    expect(entries.map((e) => e.req?.url)).toContain('/admin/signatures');
    for (const searched of ['ji-hoon', 'Ji-hoon', 'Kim', 'example.org', '203.0.113', '%40']) {
      expect(log(), searched).not.toContain(searched);
    }
  });

  it('leaves query strings out of every request, public pages too', async () => {
    const { app, log } = appWithLog(t);
    const { Visitor } = await import('../support/http.js');
    await new Visitor(app).get('/?ref=ji-hoon%40example.org');
    expect(log()).toContain('"url":"/"');
    expect(log()).not.toContain('ji-hoon');
  });
});
