/**
 * Whether the signing request's time tells if an address has signed: signs a letter through the app
 * (HTTP against createApp, PROOF_OF_WORK=0 so no browser is needed) with N addresses of each kind,
 * interleaved and one request at a time, and prints each kind's median and its ratio to a new address:
 * - new: never signed (a signature is written and its confirmation queued);
 * - confirmed: signed and confirmed (nothing is written: the supporter is not e-mailed again);
 * - pending: signed, not yet confirmed (the confirmation is sent again);
 * - withdrawn: signed and withdrew (the signature starts over as pending);
 * - pending at limit: already sent the most confirmations allowed (nothing is written).
 * Every ratio should be close to 1: the request does the same work whatever the address's history
 * (SignatureService.sign, "constant work"). Run: npx tsx bench/signing-timing.bench.ts
 * (BENCH_SIGNING_N sets N, default 300; BENCH_SIGNING_RUNS repeats the measurement on fresh addresses,
 * default 1). Not part of npm test.
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
import { emailKey, MAX_CONFIRMATION_SENDS } from '../server/signatures/signature.js';
import { wire } from '../server/wiring.js';
import { createLetter } from '../tests/support/factories.js';

const N = Number(process.env.BENCH_SIGNING_N ?? 300);
const RUNS = Number(process.env.BENCH_SIGNING_RUNS ?? 1);
const WARM_UP = 30;
const SECRET = 'bench-secret-bench-secret-bench-secret-0';

/** The kinds of address measured; all but `new` are seeded before the run with this status and send count. */
const KINDS = {
  new: undefined,
  confirmed: { status: 'confirmed', sends: 1 },
  pending: { status: 'pending', sends: 1 },
  withdrawn: { status: 'withdrawn', sends: 1 },
  'pending at limit': { status: 'pending', sends: MAX_CONFIRMATION_SENDS },
} as const;
type Kind = keyof typeof KINDS;
const KIND_NAMES = Object.keys(KINDS) as Kind[];

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
    // No browser solves the widget's puzzle here; the check itself costs the same for every address.
    PROOF_OF_WORK: '0',
  });
  // No worker: the request's own work is measured, not the sending.
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const platform = await wire(config, createLogger('silent'), { transport, withWorker: false });
  const now = new Date();
  const { id: letterId, slug } = await createLetter(platform.db, now, { goal: 1_000_000 });

  // Every address used, per run and kind; the known ones are in the database before the run, as the
  // issue's attacker would probe addresses that signed long ago.
  const perRun = N + WARM_UP;
  const address = (run: number, kind: Kind, i: number) =>
    `${kind.replaceAll(' ', '-')}-${run}-${i}@example.org`;
  const sqlite = (await import('better-sqlite3')).default;
  const raw = new sqlite(config.databasePath);
  const version = raw.prepare('select current_version_id as v from letters where id = ?').get(letterId) as {
    v: number;
  };
  const insert = raw.prepare(
    `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, confirmation_sends, created_at, confirmed_at, withdrawn_at, updated_at)
     values (?, ?, ?, ?, ?, ?, ?, 'KR', 'full', 'en', ?, ?, ?, ?, ?)`,
  );
  const at = new Date(now.getTime() - 86_400_000).toISOString();
  raw.transaction(() => {
    for (let run = 0; run < RUNS; run++) {
      for (const kind of KIND_NAMES) {
        const seed = KINDS[kind];
        if (!seed) continue;
        for (let i = 0; i < perRun; i++) {
          const email = address(run, kind, i);
          insert.run(
            letterId,
            version.v,
            `bench-${email}`,
            seed.status,
            `Known ${i}`,
            email,
            keyedHash(SECRET, 'email', emailKey(email)),
            seed.sends,
            at,
            seed.status === 'confirmed' ? at : null,
            seed.status === 'withdrawn' ? at : null,
            at,
          );
        }
      }
    }
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
        // A new client address each time, so the signing limits treat every request alike.
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

  console.log(
    `\nSigning timing — ${os.cpus().length} cores, Node ${process.version}, ${N} addresses of each kind per run, one request at a time\n`,
  );
  console.log(
    `| run | ${KIND_NAMES.map((k) => `${k} ms`).join(' | ')} | ${KIND_NAMES.slice(1)
      .map((k) => `${k} / new`)
      .join(' | ')} |`,
  );
  console.log(
    `|---|${KIND_NAMES.map(() => '---|').join('')}${KIND_NAMES.slice(1)
      .map(() => '---|')
      .join('')}`,
  );
  for (let run = 0; run < RUNS; run++) {
    const times = Object.fromEntries(KIND_NAMES.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
    for (let i = 0; i < perRun; i++) {
      // Interleaved, each round starting with a different kind, so a noisy moment on a shared machine
      // and the position in the round touch every kind alike.
      for (let k = 0; k < KIND_NAMES.length; k++) {
        const kind = KIND_NAMES[(i + k) % KIND_NAMES.length]!;
        const elapsed = await sign(address(run, kind, i));
        if (i >= WARM_UP) times[kind].push(elapsed);
      }
    }
    const medians = KIND_NAMES.map((k) => median(times[k]));
    console.log(
      `| ${run + 1} | ${medians.map((m) => m.toFixed(2)).join(' | ')} | ${medians
        .slice(1)
        .map((m) => (m / medians[0]!).toFixed(2))
        .join(' | ')} |`,
    );
  }

  server.closeAllConnections();
  server.close();
  await platform.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
