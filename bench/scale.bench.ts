/**
 * Scale: the same scenarios against a small database (one letter, 10,000 signatures) and a large one
 * (1,000 letters, 1,000,000 confirmed signatures on one of them, each with its sent confirmation
 * e-mail), in the same run, alternating: the letter page of the big letter, the count (the thank-you
 * page, which shows it), signing (a POST per request from its own client address and e-mail address),
 * the home page (it lists every letter: not a target, shown because it grows), and an export of the
 * letter's confirmed signatures (`npm run export`'s program: rows per second over the first 10,000 rows
 * and the first row's delay). Each large figure is divided by the small one of the same round, and the
 * server's CPU per request is read from /proc for each run; the target is within 20 % (rate ≥ 0.80,
 * CPU and delays ≤ 1.20).
 *
 * Run: `npx tsx bench/scale.bench.ts`. BENCH_SCALE_SIGNATURES, BENCH_SCALE_LETTERS,
 * BENCH_SCALE_SMALL_SIGNATURES, BENCH_ROUNDS, BENCH_DURATION and BENCH_CONNECTIONS change the
 * sizes; BENCH_SCALE_DATA names a folder that keeps the large database between runs (making it takes
 * minutes; the signing rounds add their signatures to it). */
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fillLargeDatabase, type LargeData } from './lib/large-data.js';
import { runLoad, type LoadResult } from './lib/load.js';
import { benchServerSettings, signingCsrf, startSmtpSink } from './lib/platform.js';
import { freePort, ROOT, startPlatform, type RunningProcess } from './lib/processes.js';
import { alternate, machine, median, writeResults, type Summary } from './lib/rounds.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0';
const whole = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SIGNATURES = whole('BENCH_SCALE_SIGNATURES', 1_000_000);
const LETTERS = whole('BENCH_SCALE_LETTERS', 1_000);
const SMALL_SIGNATURES = whole('BENCH_SCALE_SMALL_SIGNATURES', 10_000);
const ROUNDS = whole('BENCH_ROUNDS', 3);
const SECONDS = whole('BENCH_DURATION', 5);
const CONNECTIONS = whole('BENCH_CONNECTIONS', 16);

/** Rows of an export timed on both sides: the same work, whatever the database holds. */
const EXPORT_WINDOW = 10_000;

/**
 * CPU seconds a process has used (user + system), from /proc: on a shared machine the CPU a request
 * costs the server moves far less with the neighbours' load than requests per second do.
 */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  // utime and stime are the 14th and 15th fields of the line (12th and 13th after the command).
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** CPU milliseconds per response of every round, by scenario name. */
const cpuPerResponse = new Map<string, number[]>();

/** Runs `load` and records the server's CPU per response under `name`. */
async function withCpu(name: string, side: Side, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const pid = side.server!.child.pid!;
  const before = cpuSeconds(pid);
  const result = await load();
  // Requests the load generator gave up on are still being answered: /healthz waits its turn behind
  // them, so the next run starts on an idle server (1,000 letters make a home page take seconds).
  await fetch(`${side.server!.url}/healthz`);
  const used = cpuSeconds(pid) - before;
  // Only answers that did the work count (a timeout or an error page costs less and would flatter).
  const answered = result.perSecond * result.durationS;
  const list = cpuPerResponse.get(name) ?? [];
  list.push((used * 1000) / Math.max(1, answered));
  cpuPerResponse.set(name, list);
  return result;
}

/** One database, the platform serving it, and what the scenarios need to know. */
interface Side {
  readonly name: 'small' | 'large';
  readonly dataDir: string;
  readonly data: LargeData;
  server?: RunningProcess;
  csrf?: { token: string; cookie: string } | undefined;
}

/**
 * Makes (or, with BENCH_SCALE_DATA, finds again) a database. The manifest says what it holds; a
 * folder whose manifest differs is made again.
 */
async function prepare(
  name: Side['name'],
  dataDir: string,
  letters: number,
  signatures: number,
): Promise<Side> {
  const file = path.join(dataDir, 'undersigned.sqlite');
  const manifest = path.join(dataDir, 'scale-manifest.json');
  if (existsSync(manifest)) {
    const data = JSON.parse(readFileSync(manifest, 'utf8')) as LargeData;
    if (data.letters === letters && data.signatures === signatures && existsSync(file)) {
      console.log(`${name}: reusing ${file}`);
      return { name, dataDir, data };
    }
  }
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  console.log(
    `${name}: making ${letters.toLocaleString('en')} letters and ${signatures.toLocaleString('en')} signatures…`,
  );
  const data = await fillLargeDatabase({ file, letters, signatures, secret: SECRET, now: new Date() });
  console.log(
    `${name}: letters ${data.seconds.letters.toFixed(1)} s, signatures ${data.seconds.signatures.toFixed(1)} s, ` +
      `${(data.bytes / 1_048_576).toFixed(0)} MB`,
  );
  writeFileSync(manifest, JSON.stringify(data));
  return { name, dataDir, data };
}

/** Runs the export program of the production build against a side's database. */
function exportOnce(side: Side, smtpUrl: string): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    let firstRowAt = 0;
    let windowAt = 0;
    let lines = 0;
    const child = spawn(
      process.execPath,
      [
        path.join(ROOT, 'dist', 'server', 'cli', 'export.js'),
        '--letter',
        side.data.bigSlug,
        '--format',
        'csv',
        '--status',
        'confirmed',
      ],
      {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          NODE_ENV: 'production',
          DATA_DIR: side.dataDir,
          SECRET_KEY: SECRET,
          LOG_LEVEL: 'silent',
          RUN_MAIL_WORKER: '0',
          SEED_DEMO: '0',
          SMTP_URL: smtpUrl,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let errors = '';
    child.stderr.on('data', (chunk: Buffer) => void (errors += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) {
        lines += 1;
        // The header is the first line; the first signature ends the second.
        if (lines === 2) firstRowAt = performance.now();
        if (lines === EXPORT_WINDOW + 1) windowAt = performance.now();
      }
    });
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code !== 0) return reject(new Error(`the export exited with ${code}: ${errors}`));
      const ended = performance.now();
      const rows = lines - 1;
      const windowRows = Math.min(rows, EXPORT_WINDOW);
      const windowS = ((windowAt || ended) - firstRowAt) / 1000;
      const firstRowMs = firstRowAt - started;
      const latency = { count: 1, p50: firstRowMs, p95: firstRowMs, p99: firstRowMs, max: firstRowMs };
      resolve({
        durationS: (ended - started) / 1000,
        responses: rows,
        // Rows per second over the first rows, the same number on both sides (the whole export of the
        // large side is in durationS).
        perSecond: windowRows / Math.max(windowS, 1e-3),
        answeredPerSecond: windowRows / Math.max(windowS, 1e-3),
        latency,
        okLatency: latency,
        latencyByStatus: {},
        statuses: { rows },
        non2xx3xx: 0,
        errors: rows === expectedRows(side) ? 0 : 1,
        timeouts: 0,
        retryAfter503: 0,
        acknowledged: [],
        addressesUsed: 0,
      });
    });
  });
}

/** Confirmed signatures the export should write: the made ones (signing rounds add pending ones only). */
function expectedRows(side: Side): number {
  return side.data.signatures;
}

async function main(): Promise<void> {
  const keep = process.env.BENCH_SCALE_DATA;
  const root = keep ?? mkdtempSync(path.join(os.tmpdir(), 'undersigned-scale-'));
  const small = await prepare('small', path.join(root, 'small'), 1, SMALL_SIGNATURES);
  const large = await prepare('large', path.join(root, 'large'), LETTERS, SIGNATURES);
  const sides = [small, large];
  const sink = await startSmtpSink();
  const smtpUrl = `smtp://127.0.0.1:${sink.port}`;
  let addressStart = 0;
  try {
    for (const side of sides) {
      const port = await freePort();
      side.server = await startPlatform({
        port,
        env: {
          ...benchServerSettings({ port, smtpUrl }),
          DATA_DIR: side.dataDir,
          SECRET_KEY: SECRET,
          // Load shedding off: this benchmark compares what a request costs, not how the excess is refused.
          OVERLOAD_MAX_LAG_MS: '0',
          OVERLOAD_MAX_IN_FLIGHT: '0',
        },
        logFile: path.join(side.dataDir, 'server.log'),
      });
      side.csrf = await signingCsrf(side.server.url, side.data.bigSlug);
    }

    const get = (name: string, side: Side, pathOf: (slug: string) => string) => () =>
      withCpu(`${name} (${side.name})`, side, () =>
        runLoad({
          url: side.server!.url,
          path: pathOf(side.data.bigSlug),
          connections: CONNECTIONS,
          durationS: SECONDS,
        }),
      );
    const signing = (name: string, side: Side) => async (round: number) => {
      const result = await withCpu(`${name} (${side.name})`, side, () =>
        runLoad({
          url: side.server!.url,
          path: `/letters/${side.data.bigSlug}/sign`,
          connections: CONNECTIONS,
          durationS: SECONDS,
          signing: {
            slug: side.data.bigSlug,
            addressStart,
            emailPrefix: `scale-${side.name}-${round}-${Date.now()}`,
            ...(side.csrf ? { csrf: side.csrf } : {}),
          },
        }),
      );
      addressStart += result.addressesUsed;
      return result;
    };
    const scenarios: [string, (name: string, side: Side) => (round: number) => Promise<LoadResult>][] = [
      ['letter page', (name, side) => get(name, side, (slug) => `/letters/${slug}`)],
      ['count (thank-you page)', (name, side) => get(name, side, (slug) => `/letters/${slug}/thank-you`)],
      ['signing POST', signing],
      // Not a target of the issue, but the page that grows with the number of letters.
      ['home page', (name, side) => get(name, side, () => '/')],
      ['export', (_name, side) => () => exportOnce(side, smtpUrl)],
    ];
    // Unrecorded warm-up of each server, so the first round does not measure the JIT compiler.
    for (const side of sides)
      for (const target of [`/letters/${side.data.bigSlug}`, `/letters/${side.data.bigSlug}/thank-you`, '/'])
        await withCpu('warm-up', side, () =>
          runLoad({ url: side.server!.url, path: target, connections: CONNECTIONS, durationS: 2 }),
        );
    const summaries = await alternate(
      ROUNDS,
      scenarios.flatMap(([name, make]) => [
        { name: `${name} (small)`, run: make(name, small) },
        { name: `${name} (large)`, baseline: `${name} (small)`, run: make(name, large) },
      ]),
    );
    report(summaries, small, large);
  } finally {
    for (const side of sides) await side.server?.stop();
    await sink.stop();
    if (!keep) rmSync(root, { recursive: true, force: true });
  }
}

/** Rounded as printed, so a verdict agrees with the figure beside it. */
const round2 = (value: number) => Math.round(value * 100) / 100;

/** Prints the table for docs/performance.md and writes the JSON. */
function report(summaries: Summary[], small: Side, large: Side): void {
  const bySide = new Map(summaries.map((s) => [s.name, s]));
  const lines = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${machine()}; ${ROUNDS} alternating rounds of ${SECONDS} s, ${CONNECTIONS} connections.`,
    `Small: 1 letter, ${small.data.signatures.toLocaleString('en')} signatures. Large: ${large.data.letters.toLocaleString('en')} letters, ` +
      `${large.data.signatures.toLocaleString('en')} confirmed signatures on one (made in ${large.data.seconds.total.toFixed(0)} s, ` +
      `${(large.data.bytes / 1_048_576).toFixed(0)} MB).`,
    '',
    '| scenario | small | large | large ÷ small, rate | server CPU ms per request, small / large | large ÷ small, CPU | target (within 20 %) |',
    '|---|---|---|---|---|---|---|',
  ];
  const cpu = (name: string) => median(cpuPerResponse.get(name) ?? []);
  for (const name of ['letter page', 'count (thank-you page)', 'signing POST', 'home page']) {
    const s = bySide.get(`${name} (small)`)!;
    const l = bySide.get(`${name} (large)`)!;
    const rate = round2(l.ratio ?? 0);
    const cpuSmall = cpu(`${name} (small)`);
    const cpuLarge = cpu(`${name} (large)`);
    const cpuRatio = round2(cpuLarge / cpuSmall);
    const target = name === 'home page' ? 'not a target' : cpuRatio <= 1.2 && rate >= 0.8 ? 'met' : 'missed';
    lines.push(
      `| ${name} | ${Math.round(s.perSecond).toLocaleString('en')} req/s | ${Math.round(l.perSecond).toLocaleString('en')} req/s | ` +
        `${rate.toFixed(2)} | ${cpuSmall.toFixed(1)} / ${cpuLarge.toFixed(1)} | ${cpuRatio.toFixed(2)} | ${target} |`,
    );
  }
  const exported = { small: bySide.get('export (small)')!, large: bySide.get('export (large)')! };
  const first = (side: 'small' | 'large') => median(exported[side].rounds.map((r) => r.latency.p50));
  const exportRate = round2(exported.large.ratio ?? 0);
  const delay = round2(first('large') / first('small'));
  lines.push(
    `| export, first ${EXPORT_WINDOW.toLocaleString('en')} rows | ${Math.round(exported.small.perSecond).toLocaleString('en')} rows/s | ` +
      `${Math.round(exported.large.perSecond).toLocaleString('en')} rows/s | ${exportRate.toFixed(2)} | | | ${exportRate >= 0.8 ? 'met' : 'missed'} |`,
    `| export, first row after the program starts | ${first('small').toFixed(0)} ms | ${first('large').toFixed(0)} ms | ` +
      `${delay.toFixed(2)} (delay) | | | ${delay <= 1.2 ? 'met' : 'missed'} |`,
  );
  const whole = median(exported.large.rounds.map((r) => r.durationS));
  lines.push(
    '',
    `The large export writes all ${large.data.signatures.toLocaleString('en')} rows in ${whole.toFixed(1)} s ` +
      `(${Math.round(large.data.signatures / whole).toLocaleString('en')} rows/s, program start included; median of rounds).`,
  );
  console.log(`\n${lines.join('\n')}\n`);
  cpuPerResponse.delete('warm-up');
  const cpuMs = Object.fromEntries(cpuPerResponse);
  console.log(
    `results: ${writeResults('scale', { summaries, cpuMsPerResponse: cpuMs, small: small.data, large: large.data })}`,
  );
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
