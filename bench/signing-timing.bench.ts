/**
 * Whether the signing request's time tells if an address has signed: signs a letter through the app
 * (HTTP against createApp, PROOF_OF_WORK=0 so no browser is needed) with N addresses of each kind,
 * interleaved and one request at a time, and prints each kind's median and its ratio to a new address:
 * - new: never signed (a signature is written and its confirmation queued);
 * - confirmed: signed and confirmed (nothing is written: the supporter is not e-mailed again);
 * - pending: signed, not yet confirmed (the confirmation is sent again);
 * - withdrawn: signed and withdrew (the signature starts over as pending);
 * - pending at limit: already sent the most confirmations allowed (nothing is written);
 * - new (control): more new addresses, to show the noise in a ratio that should be 1.
 * Every ratio should be close to 1: the request does the same work whatever the address's history
 * (SignatureService.sign, "constant work"). Run: npx tsx bench/signing-timing.bench.ts
 * (BENCH_SIGNING_N sets N, default 300; BENCH_SIGNING_RUNS repeats the measurement on fresh addresses,
 * default 1). Not part of npm test.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
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
const WITH_WORKER = process.env.BENCH_SIGNING_WORKER === '1';
const WARM_UP = 30;
const SECRET = 'bench-secret-bench-secret-bench-secret-0';

/** The kinds of address measured; all but `new` are seeded before the run with this status and send count. */
const KINDS = {
  new: undefined,
  confirmed: { status: 'confirmed', sends: 1 },
  pending: { status: 'pending', sends: 1 },
  withdrawn: { status: 'withdrawn', sends: 1 },
  'pending at limit': { status: 'pending', sends: MAX_CONFIRMATION_SENDS },
  // More new addresses: how far its ratio is from 1 shows what noise alone does to a ratio.
  'new (control)': undefined,
} as const;
type Kind = keyof typeof KINDS;
const KIND_NAMES = Object.keys(KINDS) as Kind[];

/** The measuring client (plain JavaScript, run on a worker thread): signs with each address it is sent, one at a time. */
const CLIENT = `
const { parentPort, workerData } = require('node:worker_threads');
const { performance } = require('node:perf_hooks');
const { url, cookies, token } = workerData;
let request = 0;
async function sign(email) {
  request += 1;
  const started = performance.now();
  const response = await fetch(url, {
    method: 'POST',
    redirect: 'manual',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      cookie: cookies,
      // As a browser sends it from the letter page: the anonymous form is checked by Fetch Metadata.
      'sec-fetch-site': 'same-origin',
      // A new client address each time, so the signing limits treat every request alike.
      'x-forwarded-for': '10.' + ((request >> 16) & 255) + '.' + ((request >> 8) & 255) + '.' + (request & 255),
    },
    body: new URLSearchParams({ _csrf: token, name: 'Bench Supporter', email, country: 'KR', display: 'full', privacy: 'yes' }),
  });
  await response.arrayBuffer();
  const elapsed = performance.now() - started;
  if (response.status !== 303) throw new Error('signing answered ' + response.status);
  return elapsed;
}
parentPort.on('message', async (emails) => {
  try {
    const times = [];
    for (const email of emails) times.push(await sign(email));
    parentPort.postMessage({ times });
  } catch (error) {
    parentPort.postMessage({ error: String(error) });
  }
});
`;

/** A small seeded generator (mulberry32): the same order on every run of the benchmark. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j]!, copy[i]!];
  }
  return copy;
}

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
    // With the worker on, every confirmation is sent at once rather than one a second to example.org.
    MAIL_DOMAIN_RATE: '100000',
    // One request at a time is measured: an event-loop delay caused by other work on the machine must not
    // shed one of them (a 503 stops the run).
    OVERLOAD_MAX_LAG_MS: '0',
  });
  // By default no worker: the request's own work is measured, not the sending. BENCH_SIGNING_WORKER=1
  // runs the mail worker in the process, as `npm start` does, sending to a JSON transport at once.
  const transport = nodemailer.createTransport({ jsonTransport: true });
  const platform = await wire(config, createLogger('silent'), { transport, withWorker: WITH_WORKER });
  platform.worker?.start();
  const now = new Date();
  const { id: letterId, slug } = await createLetter(platform.db, now, { goal: 1_000_000 });

  // Every address used, per run and kind; the known ones are in the database before the run, as the
  // issue's attacker would probe addresses that signed long ago.
  const perRun = N + WARM_UP;
  const address = (run: number, kind: Kind, i: number) =>
    `${kind.replace(/[^a-z]+/g, '-')}-${run}-${i}@example.org`;
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
  // Public forms carry no token any more (CSRF by Fetch Metadata): an empty one is sent then.
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1] ?? '';

  // The client runs on a thread of its own, so it reads the answer the moment the server sends it, as a
  // client elsewhere would, and not when the server's event loop next has time (after the worker's sending).
  const client = new Worker(CLIENT, {
    eval: true,
    workerData: { url: `${base}/letters/${slug}/sign`, cookies, token },
  });
  const signAll = (emails: string[]) =>
    new Promise<number[]>((resolve, reject) => {
      client.once('message', (answer: { times?: number[]; error?: string }) =>
        answer.times ? resolve(answer.times) : reject(new Error(answer.error)),
      );
      client.postMessage(emails);
    });

  console.log(
    `\nSigning timing — ${os.cpus().length} cores, Node ${process.version}, ${N} addresses of each kind per run, one request at a time, mail worker ${WITH_WORKER ? 'in the process' : 'off'}\n`,
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
  const random = seeded(9);
  for (let run = 0; run < RUNS; run++) {
    const times = Object.fromEntries(KIND_NAMES.map((k) => [k, [] as number[]])) as Record<Kind, number[]>;
    // Every kind's addresses mixed in one shuffled order, so that a noisy moment on a shared machine, and
    // the mail worker's sending after a request that queued mail, fall on every kind alike: whatever a
    // request's kind, the one before it is of any kind with the same odds.
    const order = shuffled(
      KIND_NAMES.flatMap((kind) => Array.from({ length: perRun }, (_, i) => ({ i, kind }))),
      random,
    );
    const elapsed = await signAll(order.map(({ i, kind }) => address(run, kind, i)));
    order.forEach(({ kind }, n) => {
      if (n >= WARM_UP * KIND_NAMES.length) times[kind].push(elapsed[n]!);
    });
    const medians = KIND_NAMES.map((k) => median(times[k]));
    console.log(
      `| ${run + 1} | ${medians.map((m) => m.toFixed(2)).join(' | ')} | ${medians
        .slice(1)
        .map((m) => (m / medians[0]!).toFixed(2))
        .join(' | ')} |`,
    );
  }

  await client.terminate();
  server.closeAllConnections();
  server.close();
  await platform.shutdown();
  rmSync(dataDir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
