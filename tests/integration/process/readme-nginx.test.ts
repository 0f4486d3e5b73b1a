import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { projectRoot, publicDir } from '../../../server/lib/paths.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { freePort } from '../../support/free-port.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

// The README's "Behind nginx" configuration, as an operator copies it, in front of the app: so that what
// it tells operators to run keeps working as the app changes. Only the listening address (no TLS here),
// the include's path, the app's port and the checkout's public folder are put in; nothing else is edited.
// Needs Debian's nginx (.ci/run installs nginx-light).
const NGINX = '/usr/sbin/nginx';

/** The ```nginx blocks of the README, in order: the server configuration, then the include. */
function readmeBlocks(): [string, string] {
  const readme = readFileSync(path.join(projectRoot, 'README.md'), 'utf8');
  const blocks = [...readme.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(2);
  return [blocks[0]!, blocks[1]!];
}

/** Replaces `from` in `text`, which must hold it: a README that no longer says it fails here, not later. */
function put(text: string, from: string, to: string): string {
  expect(text).toContain(from);
  return text.replaceAll(from, to);
}

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
  let nginx: ChildProcess;
  let folder: string;
  let proxy: string;
  let slug: string;

  beforeAll(async () => {
    expect(existsSync(NGINX), `${NGINX} is missing: apt-get install nginx-light`).toBe(true);
    t = await createTestPlatform();
    ({ slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'open' }));
    const appPort = await freePort();
    app = await new Promise<http.Server>((resolve, reject) => {
      const s = http.createServer(t.app).listen(appPort, '127.0.0.1', () => resolve(s));
      s.once('error', reject);
    });
    folder = mkdtempSync(path.join(os.tmpdir(), 'undersigned-nginx-'));
    const proxyPort = await freePort();
    proxy = `http://127.0.0.1:${proxyPort}`;
    const [server, include] = readmeBlocks();
    writeFileSync(path.join(folder, 'undersigned-proxy.conf'), include);
    let site = put(server, 'listen 443 ssl http2;', `listen 127.0.0.1:${proxyPort};`);
    site = put(site, '/etc/nginx/undersigned-proxy.conf', path.join(folder, 'undersigned-proxy.conf'));
    site = put(site, '127.0.0.1:3000', `127.0.0.1:${appPort}`);
    site = put(site, '/opt/undersigned/public', publicDir);
    // What /etc/nginx/nginx.conf gives a site on Debian, in a folder of the test's own.
    const temp = (name: string) => `${name} ${path.join(folder, name)};`;
    const conf = `daemon off;
worker_processes 2;
pid ${path.join(folder, 'nginx.pid')};
error_log ${path.join(folder, 'error.log')} warn;
events { worker_connections 256; }
http {
  include /etc/nginx/mime.types;
  access_log off;
  ${['client_body_temp_path', 'proxy_temp_path', 'fastcgi_temp_path', 'uwsgi_temp_path', 'scgi_temp_path'].map(temp).join('\n  ')}
${site}
}
`;
    writeFileSync(path.join(folder, 'nginx.conf'), conf);
    nginx = spawn(NGINX, ['-p', folder, '-c', path.join(folder, 'nginx.conf')], { stdio: 'inherit' });
    for (let tries = 0; ; tries++) {
      if (nginx.exitCode !== null) throw new Error(`nginx exited with ${nginx.exitCode}`);
      const up = await request(`${proxy}/healthz`).then(
        (r) => r.status === 200,
        () => false,
      );
      if (up) break;
      if (tries > 100) throw new Error('nginx did not answer within 10 s');
      await sleep(100);
    }
  });

  afterAll(async () => {
    if (nginx && nginx.exitCode === null) {
      const exited = new Promise((resolve) => nginx.once('exit', resolve));
      nginx.kill('SIGTERM');
      await exited;
    }
    await new Promise((resolve) => (app ? app.close(resolve) : resolve(undefined)));
    await t?.close();
    if (folder) rmSync(folder, { recursive: true, force: true });
  });

  it('passes pages and a signing through to the app, from the browser that sent them', async () => {
    expect((await request(`${proxy}/letters/${slug}`)).status).toBe(200);
    const signed = await request(`${proxy}/letters/${slug}/sign`, {
      method: 'POST',
      // What a browser sends with the form, without Fetch Metadata: the Origin check compares it to the
      // Host nginx passes on (with its port).
      headers: { 'content-type': 'application/x-www-form-urlencoded', origin: proxy },
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
      const answer = await request(`${proxy}${target}`, {
        method,
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        ...(method === 'POST' ? { body: 'name=x' } : {}),
      });
      expect(answer.status, `${method} ${target}`).toBe(503);
      expect(answer.headers['retry-after']).toBe('5');
      expect(answer.text).toBe(readFileSync(path.join(publicDir, 'busy.html'), 'utf8'));
    }
    // The page itself is only ever an answer, never a page of its own.
    expect((await request(`${proxy}/busy.html`)).status).toBe(404);
  });
});
