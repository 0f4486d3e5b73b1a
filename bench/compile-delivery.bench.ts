/**
 * What a large delivery's compile costs the web process's main thread: compiles a test round of a
 * letter listing BENCH_COMPILE_N signatories (default 20,000) while /healthz is asked over a kept-alive
 * HTTP connection every 5 ms, and prints the /healthz median and slowest answer, the event-loop delay
 * (max, p99), garbage-collection pauses on the main thread, and every stall of the loop over 20 ms.
 * BENCH_COMPILE_RUNS compiles that many rounds in the same process (default 3).
 * Run: node --expose-gc --import tsx bench/compile-delivery.bench.ts (add --cpu-prof to profile). Not part of npm test.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { monitorEventLoopDelay, performance, PerformanceObserver } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import nodemailer from 'nodemailer';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { keyedHash } from '../server/lib/keyed-hash.js';
import { createLogger } from '../server/lib/logger.js';
import { noPdf } from '../server/deliveries/pdf-renderer.js';
import { wire } from '../server/wiring.js';
import { createLetter } from '../tests/support/factories.js';

const N = Number(process.env.BENCH_COMPILE_N ?? 20_000);
const RUNS = Number(process.env.BENCH_COMPILE_RUNS ?? 3);
const SECRET = 'bench-secret-bench-secret-bench-secret-0';
const BODY = `{{recipient.salutation}},

We ask you to protect the captured soldiers.

{{signatureCount}} people signed:
{{#each signatories}}{{name}}, {{country}}
{{/each}}`;

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    SECRET_KEY: SECRET,
  });
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const platform = await wire(config, createLogger('silent'), {
    transport,
    withWorker: false,
    // Chromium's PDF is measured only when asked (BENCH_COMPILE_PDF=1): it takes over a minute at 20,000.
    ...(process.env.BENCH_COMPILE_PDF === '1' ? {} : { pdf: noPdf }),
  });
  const app = createApp(platform.appDeps);
  const server = app.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as AddressInfo;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const health = () =>
    new Promise<void>((resolve, reject) => {
      http
        .get({ host: '127.0.0.1', port, path: '/healthz', agent }, (res) => {
          res.resume();
          res.on('end', resolve);
        })
        .on('error', reject);
    });

  const now = new Date();
  const raw = new SQLite(config.databasePath);
  const letters: number[] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const { id } = await createLetter(platform.db, now, {
      slug: `bench-${run}`,
      goal: null,
      texts: [{ language: 'en', title: 'Bench', summary: 'Large.', body: BODY }],
    });
    const { v } = raw.prepare('select current_version_id as v from letters where id = ?').get(id) as {
      v: number;
    };
    const at = new Date(now.getTime() - 86_400_000).toISOString();
    const insert = raw.prepare(
      `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, consent_updates, confirmation_sends, created_at, confirmed_at, updated_at)
       values (?, ?, ?, 'confirmed', ?, ?, ?, ?, 'full', 'en', 0, 1, ?, ?, ?)`,
    );
    raw.transaction(() => {
      for (let i = 0; i < N; i += 1) {
        const email = `signer-${id}-${i}@example.org`;
        insert.run(
          id,
          v,
          randomBytes(12).toString('base64url'),
          `Signatory number ${i}`,
          email,
          keyedHash(SECRET, 'email', email),
          i % 3 ? 'UA' : 'KR',
          at,
          at,
          at,
        );
      }
      raw.prepare('update letters set signature_count = ? where id = ?').run(N, id);
    })();
    letters.push(id);
  }
  raw.close();
  const { user: created } = await platform.accounts.createUser('bench-admin@example.org', 'admin');
  const organizer = (await platform.repositories.users.findById(created.id))!;

  for (let i = 0; i < 50; i += 1) await health(); // warm the connection and the route
  // The baseline, in the same process and run: /healthz on an idle platform, asked as during a compile.
  const idle: number[] = [];
  for (let i = 0; i < 300; i += 1) {
    const asked = performance.now();
    await health();
    idle.push(performance.now() - asked);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  idle.sort((a, b) => a - b);
  const idleP99 = pct(idle, 0.99);
  console.info(
    `idle baseline: /healthz n=${idle.length} median ${pct(idle, 0.5).toFixed(1)} ms, p99 ${idleP99.toFixed(1)} ms, max ${idle.at(-1)!.toFixed(1)} ms`,
  );

  for (const [run, letterId] of letters.entries()) {
    await platform.deliveries.sendTest(organizer, letterId, `bench-${run}`);
    // With --expose-gc, the setup's garbage (90,000 inserted rows) is collected before measuring, so
    // what follows is the compile's own cost.
    (globalThis as { gc?: () => void }).gc?.();
    const gc: { at: number; ms: number; kind: number }[] = [];
    const observer = new PerformanceObserver((list) => {
      for (const entry of list.getEntries())
        gc.push({
          at: entry.startTime,
          ms: entry.duration,
          kind: (entry as unknown as { detail: { kind: number } }).detail.kind,
        });
    });
    observer.observe({ entryTypes: ['gc'] });
    // Stalls: a 1 ms timer that notes every gap between its turns over 20 ms.
    const stalls: { from: number; ms: number }[] = [];
    let last = performance.now();
    const ticker = setInterval(() => {
      const at = performance.now();
      if (at - last > 20) stalls.push({ from: last, ms: at - last });
      last = at;
    }, 1);
    const answers: number[] = [];
    let compiling = true;
    const asking = (async () => {
      while (compiling) {
        const asked = performance.now();
        await health();
        answers.push(performance.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    const hr0 = process.hrtime.bigint();
    await platform.roundCompiling.compilePending();
    const took = performance.now() - started;
    delay.disable();
    compiling = false;
    await asking;
    clearInterval(ticker);
    observer.disconnect();
    const sorted = answers.sort((a, b) => a - b);
    const inRun = gc.filter((g) => g.at >= started);
    console.info(
      `run ${run + 1}: compile ${took.toFixed(0)} ms; /healthz n=${sorted.length} median ${pct(sorted, 0.5).toFixed(1)} ms, p99 ${pct(sorted, 0.99).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; ` +
        `p99 ÷ idle p99 ${(pct(sorted, 0.99) / idleP99).toFixed(2)}×; ` +
        `event-loop delay max ${(delay.max / 1e6).toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; ` +
        `main-thread GC ${inRun.length} pauses, total ${inRun.reduce((s, g) => s + g.ms, 0).toFixed(0)} ms, longest ${Math.max(0, ...inRun.map((g) => g.ms)).toFixed(1)} ms`,
    );
    for (const stall of stalls.filter((s) => s.from >= started - 5))
      console.info(
        `  stall ${stall.ms.toFixed(1)} ms at +${(stall.from - started).toFixed(0)} ms (hrtime µs ${(hr0 / 1000n + BigInt(Math.round((stall.from - started) * 1000))).toString()})` +
          `; GC inside: ${inRun
            .filter((g) => g.at >= stall.from && g.at <= stall.from + stall.ms)
            .map((g) => `${g.ms.toFixed(1)} ms (kind ${g.kind})`)
            .join(', ')}`,
      );
  }
  agent.destroy();
  server.close();
  await platform.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

await main();
