import { readFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nginxInstalled, startNginxProxy, type RunningProxy } from '../../../bench/lib/proxy.js';
import { publicDir } from '../../../server/lib/paths.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { freePort } from '../../support/free-port.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

// The README's "Behind nginx" configuration, as an operator copies it, in front of the app: so that what
// it tells operators to run keeps working as the app changes. bench/lib/proxy.ts reads it from the README
// and puts in only the listening address (no TLS here), the include's path, the app's port and the
// checkout's public folder. Needs Debian's nginx (.ci/run installs nginx-light).

/** An answer over a fresh connection, read whole. */
function request(
  url: string,
  options: { method?: string; body?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent: false },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () =>
          resolve({
            status: res.statusCode!,
            headers: res.headers,
            text: Buffer.concat(chunks).toString('utf8'),
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

describe("the README's nginx configuration in front of the app", () => {
  let t: TestPlatform;
  let app: http.Server;
  let proxy: RunningProxy;
  let slug: string;

  beforeAll(async () => {
    expect(nginxInstalled(), 'nginx is missing: apt-get install nginx-light').toBe(true);
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'open' }));
    const appPort = await freePort();
    app = await new Promise<http.Server>((resolve, reject) => {
      const s = http.createServer(t.app).listen(appPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    proxy = await startNginxProxy(`http://127.0.0.1:${appPort}`);
  });

  afterAll(async () => {
    await proxy?.stop();
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await t?.close();
  });

  it('passes pages and a signing through to the app, from the browser that sent them', async () => {
    expect((await request(`${proxy.url}/letters/${slug}`)).status).toBe(200);
    const signed = await request(`${proxy.url}/letters/${slug}/sign`, {
      method: 'POST',
      // What a browser sends with the form, without Fetch Metadata: the Origin check compares it to the
      // Host nginx passes on (with its port).
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: proxy.url },
      body: new URLSearchParams(signingForm({ email: 'behind-nginx@example.org' })).toString(),
    });
    expect(signed.status).toBe(303);
    expect(signed.headers.location).toContain(`/letters/${slug}/check-your-inbox`);
    const row = await t.platform.db
      .selectFrom('signatures')
      .select('status')
      .where('email', '=', 'behind-nginx@example.org')
      .executeTakeFirst();
    expect(row?.status).toBe('pending');
  });

  it('answers 503 with Retry-After and the busy page in three languages when the app cannot be reached', async () => {
    await new Promise((resolve) => {
      app.close(resolve);
      app.closeAllConnections();
    });
    for (const [method, target] of [
      ['POST', `/letters/${slug}/sign`],
      ['GET', `/letters/${slug}`],
    ] as const) {
      const answer = await request(`${proxy.url}${target}`, {
        method,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...(method === 'POST' ? { body: 'name=x' } : {}),
      });
      expect(answer.status, `${method} ${target}`).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.text).toBe(readFileSync(path.join(publicDir, 'busy.html'), 'utf8'));
    }
    // The page itself is only ever an answer, never a page of its own.
    expect((await request(`${proxy.url}/busy.html`)).status).toBe(404);
  });
});
