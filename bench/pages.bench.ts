/**
 * Public pages and signing under load, in one process on loopback: requests per second and latency
 * percentiles for the home page, a letter page with 20,000 confirmed signatures, and the signing POST.
 * Each is also given as a ratio to an Express hello-world measured the same way in the same run (the
 * machine is shared and noisy: only same-run ratios compare across runs).
 * Run: npm run bench. Not part of npm test; figures go to docs/performance.md by hand.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import express from 'express';
import nodemailer from 'nodemailer';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { createLogger } from '../server/lib/logger.js';
import { keyedHash } from '../server/lib/keyed-hash.js';
import { wire } from '../server/wiring.js';
import { createLetter } from '../tests/support/factories.js';

const CONCURRENCY = 16;
const DURATION_MS = 5_000;
const SIGNATURES = 20_000;

interface Result {
  name: string;
  requests: number;
  perSecond: number;
  p50: number;
  p95: number;
  p99: number;
  errors: number;
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function run(name: string, request: (i: number) => Promise<Response>): Promise<Result> {
  const latencies: number[] = [];
  let errors = 0;
  let counter = 0;
  const end = performance.now() + DURATION_MS;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (performance.now() < end) {
        const t0 = performance.now();
        const response = await request(counter++);
        await response.arrayBuffer();
        latencies.push(performance.now() - t0);
        if (response.status >= 400) errors++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    name,
    requests: latencies.length,
    perSecond: Math.round(latencies.length / elapsed),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    errors,
  };
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TRUST_PROXY: '1',
    SECRET_KEY: 'bench-secret-bench-secret-bench-secret-0',
  });
  // A transport that accepts and discards: this benchmark measures the web side, not SMTP.
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const platform = await wire(config, createLogger('silent'), { transport, withWorker: false });
  const now = new Date();
  const { id: letterId, slug } = await createLetter(platform.db, now, { goal: 100_000 });

  // 20,000 confirmed signatures, inserted directly (the page must not slow down as they grow).
  const sqlite = (await import('better-sqlite3')).default;
  const raw = new sqlite(config.databasePath);
  const version = raw.prepare('select current_version_id as v from letters where id = ?').get(letterId) as {
    v: number;
  };
  const insert = raw.prepare(
    `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, created_at, confirmed_at, updated_at)
     values (?, ?, ?, 'confirmed', ?, ?, ?, 'KR', ?, 'en', ?, ?, ?)`,
  );
  raw.transaction(() => {
    for (let i = 0; i < SIGNATURES; i++) {
      const at = new Date(now.getTime() - (SIGNATURES - i) * 1000).toISOString();
      insert.run(
        letterId,
        version.v,
        `bench-ref-${i}`,
        `Supporter ${i}`,
        `s${i}@example.org`,
        keyedHash('x', 'email', String(i)),
        i % 3 === 0 ? 'hidden' : 'full',
        at,
        at,
        at,
      );
    }
    raw.prepare('update letters set signature_count = ? where id = ?').run(SIGNATURES, letterId);
  })();
  raw.close();

  const server = createApp(platform.appDeps).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  // One CSRF cookie and token reused by every signing request, as one browser session would.
  const page = await fetch(`${base}/letters/${slug}`);
  const cookies = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;

  // The baseline: the least an Express response can cost on this machine, in this run.
  const hello = express();
  hello.get('/', (_req, res) => {
    res.send('hello');
  });
  const helloServer = hello.listen(0, '127.0.0.1');
  await new Promise((resolve) => helloServer.once('listening', resolve));
  const helloBase = `http://127.0.0.1:${(helloServer.address() as AddressInfo).port}`;
  const baseline = await run('Express hello-world (baseline)', () => fetch(`${helloBase}/`));
  helloServer.closeAllConnections();
  helloServer.close();

  const results: Result[] = [baseline];
  results.push(await run('GET / (home)', () => fetch(`${base}/`)));
  results.push(
    await run(`GET /letters/<slug> (${SIGNATURES.toLocaleString('en')} signatures)`, () =>
      fetch(`${base}/letters/${slug}`),
    ),
  );
  results.push(
    await run('POST sign (new address each time)', (i) =>
      fetch(`${base}/letters/${slug}/sign`, {
        method: 'POST',
        redirect: 'manual',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          cookie: cookies,
          'x-forwarded-for': `10.0.${i % 250}.1`,
        },
        body: new URLSearchParams({
          _csrf: token,
          name: `Bench ${i}`,
          email: `bench-${i}@example.org`,
          country: 'KR',
          display: 'initials',
          privacy: 'yes',
        }),
      }),
    ),
  );

  console.log(
    `\nUndersigned page benchmark — ${os.cpus().length} cores, Node ${process.version}, ${CONCURRENCY} concurrent clients, ${DURATION_MS / 1000} s each\n`,
  );
  console.log('| scenario | requests | req/s | ÷ baseline | p50 ms | p95 ms | p99 ms | errors |');
  console.log('|---|---|---|---|---|---|---|---|');
  for (const r of results) {
    console.log(
      `| ${r.name} | ${r.requests} | ${r.perSecond} | ${(r.perSecond / baseline.perSecond).toFixed(2)} | ${r.p50.toFixed(1)} | ${r.p95.toFixed(1)} | ${r.p99.toFixed(1)} | ${r.errors} |`,
    );
  }
  console.log(`\nRSS after the run: ${Math.round(process.memoryUsage().rss / 1_048_576)} MB`);

  server.closeAllConnections();
  server.close();
  await platform.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
