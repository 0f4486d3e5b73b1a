/**
 * Whether the signing request's time tells if an address has signed: signs a letter through the app
 * with N addresses that have already signed (confirmed) and N new ones, alternating, one request at a
 * time, and prints the two medians and their ratio. The ratio should be close to 1: a new signature
 * must not do visibly more work in the request (its confirmation e-mail is rendered by the worker).
 * Run: npm run bench (BENCH_SIGNING_N sets N, default 300). Not part of npm test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer from 'nodemailer';
import { createApp } from '../server/app.js';
import { loadConfig } from '../server/config.js';
import { keyedHash } from '../server/lib/keyed-hash.js';
import { createLogger } from '../server/lib/logger.js';
import { emailKey } from '../server/signatures/signature.js';
import { wire } from '../server/wiring.js';
import { createLetter } from '../tests/support/factories.js';

const N = Number(process.env.BENCH_SIGNING_N ?? 300);
const WARM_UP = 30;
const SECRET = 'bench-secret-bench-secret-bench-secret-0';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

async function main(): Promise<void> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const config = loadConfig({
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    LOG_LEVEL: 'silent',
    TRUST_PROXY: '1',
    SECRET_KEY: SECRET,
  });
  // No worker: the request's own work is measured, not the sending.
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const platform = await wire(config, createLogger('silent'), { transport, withWorker: false });
  const now = new Date();
  const { id: letterId, slug } = await createLetter(platform.db, now, { goal: 1_000_000 });

  // The known addresses have signed and confirmed already, as the attacker would probe.
  const known = Array.from({ length: N + WARM_UP }, (_, i) => `known-${i}@example.org`);
  const sqlite = (await import('better-sqlite3')).default;
  const raw = new sqlite(config.databasePath);
  const version = raw.prepare('select current_version_id as v from letters where id = ?').get(letterId) as {
    v: number;
  };
  const insert = raw.prepare(
    `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, created_at, confirmed_at, updated_at)
     values (?, ?, ?, 'confirmed', ?, ?, ?, 'KR', 'full', 'en', ?, ?, ?)`,
  );
  raw.transaction(() => {
    known.forEach((email, i) => {
      const at = new Date(now.getTime() - 86_400_000).toISOString();
      insert.run(
        letterId,
        version.v,
        `bench-known-${i}`,
        `Known ${i}`,
        email,
        keyedHash(SECRET, 'email', emailKey(email)),
        at,
        at,
        at,
      );
    });
  })();
  raw.close();

  const server = createApp(platform.appDeps).listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const page = await fetch(`${base}/letters/${slug}`);
  const cookies = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())![1]!;

  let request = 0;
  async function sign(email: string): Promise<number> {
    request += 1;
    const started = performance.now();
    const response = await fetch(`${base}/letters/${slug}/sign`, {
      method: 'POST',
      redirect: 'manual',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        cookie: cookies,
        'x-forwarded-for': `10.${(request >> 16) & 255}.${(request >> 8) & 255}.${request & 255}`,
      },
      body: new URLSearchParams({
        _csrf: token,
        name: 'Bench Supporter',
        email,
        country: 'KR',
        display: 'full',
        privacy: 'yes',
      }),
    });
    await response.arrayBuffer();
    const elapsed = performance.now() - started;
    if (response.status !== 303) throw new Error(`signing answered ${response.status}`);
    return elapsed;
  }

  const knownTimes: number[] = [];
  const newTimes: number[] = [];
  for (let i = 0; i < N + WARM_UP; i++) {
    // Alternating, so a noisy moment on a shared machine touches both series alike.
    const a = await sign(known[i]!);
    const b = await sign(`new-${i}@example.org`);
    if (i < WARM_UP) continue;
    knownTimes.push(a);
    newTimes.push(b);
  }
  const knownMedian = median(knownTimes);
  const newMedian = median(newTimes);
  console.log(
    `\nSigning timing — ${os.cpus().length} cores, Node ${process.version}, ${N} known and ${N} new addresses, one request at a time\n`,
  );
  console.log('| address | median ms |');
  console.log('|---|---|');
  console.log(`| known (already signed) | ${knownMedian.toFixed(2)} |`);
  console.log(`| new | ${newMedian.toFixed(2)} |`);
  console.log(`\nnew / known: ${(newMedian / knownMedian).toFixed(2)}`);

  server.closeAllConnections();
  server.close();
  await platform.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
