/**
 * Signing with one and with two web processes on one SQLite file, the bare insert in the same rounds:
 * whether a second process on the second core pays for its share of SQLite's one write lock (session 32
 * in docs/performance.md). Not part of `npm run bench`: a tool for whoever weighs that set-up.
 *
 * Both servers are the production build (built first when needed) with the benchmarks' settings on one
 * database prepared by bench/lib/data.ts. A warm-up loads both at once; then each round loads the bare
 * insert (32 connections), one process alone (32), and both at once (16 + 16, alternate client
 * addresses, so none repeats). Knobs: BENCH_ROUNDS (3), BENCH_DURATION (5 s), BENCH_SERVER_ENV.
 *
 * Run: npx tsx bench/signing-processes.ts. Prints each round's rates, ratios to the bare insert, the
 * servers' CPU an answer, p99 and statuses.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processCpuMs } from './lib/cpu.js';
import { prepareDatabase, signaturesPresent } from './lib/data.js';
import { runLoad, runLoadsAtOnce, type LoadResult, type LoadSpec } from './lib/load.js';
import { benchServerSettings, startSmtpSink } from './lib/platform.js';
import { forkListening, freePort, ROOT, startPlatform, type RunningProcess } from './lib/processes.js';

const SECRET = 'bench-secret-bench-secret-bench-secret-0';
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const SERVER_ENV = Object.fromEntries(
  (process.env.BENCH_SERVER_ENV ?? '')
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => [pair.slice(0, pair.indexOf('=')), pair.slice(pair.indexOf('=') + 1)]),
);

async function main(): Promise<void> {
  const sink = await startSmtpSink();
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-processes-'));
  const letter = await prepareDatabase(path.join(dataDir, 'undersigned.sqlite'), SECRET, 20_000);
  const webProcess = async (): Promise<RunningProcess> => {
    const port = await freePort();
    return startPlatform({
      port,
      env: {
        ...benchServerSettings({ port, smtpUrl: `smtp://127.0.0.1:${sink.port}` }),
        ...SERVER_ENV,
        DATA_DIR: dataDir,
        SECRET_KEY: SECRET,
      },
      logFile: path.join(dataDir, 'server.log'),
    });
  };
  const first = await webProcess();
  const second = await webProcess();
  const bare = await forkListening(path.join(ROOT, 'bench', 'baselines', 'bare-insert.ts'));
  const cpuMs = (processes: readonly RunningProcess[]) =>
    processes.reduce((sum, p) => sum + processCpuMs(p.child.pid!), 0);
  const signing = (
    url: string,
    connections: number,
    start: number,
    step: number,
    prefix: string,
  ): LoadSpec => ({
    url,
    path: `/letters/${letter.slug}`,
    connections,
    durationS: DURATION_S,
    signing: { slug: letter.slug, addressStart: start, addressStep: step, emailPrefix: prefix },
  });
  /** Runs a load on some of the processes; the CPU an answer is theirs together. */
  const measured = async (processes: readonly RunningProcess[], run: () => Promise<LoadResult>) => {
    const before = cpuMs(processes);
    const result = await run();
    return { result, cpuUs: ((cpuMs(processes) - before) * 1000) / Math.max(1, result.responses) };
  };
  const line = (name: string, r: LoadResult, cpuUs: number, bareRate: number) =>
    `${name} ${Math.round(r.perSecond)}/s (${(r.perSecond / bareRate).toFixed(3)} of bare), ${Math.round(cpuUs)} µs CPU an answer, p99 ${r.latency.p99.toFixed(0)} ms, ${JSON.stringify(r.statuses)}`;
  const acknowledged: string[] = [];
  try {
    let next = 0;
    // Both warm up together (V8's compiled paths, SQLite's cache), as a production server long has.
    // Each load its own e-mail prefix: both count their addresses from 0, and the same address signed
    // through both processes would take the sign-again path, not a new signature.
    const warm = await runLoadsAtOnce([
      signing(first.url, 16, next, 2, 'warm-p1'),
      signing(second.url, 16, next + 1, 2, 'warm-p2'),
    ]);
    acknowledged.push(...warm.acknowledged);
    next += warm.addressesUsed * 2 + 2;
    console.log(`Signing, 1 vs 2 web processes on one SQLite file: ${ROUNDS} rounds × ${DURATION_S} s`);
    for (let round = 1; round <= ROUNDS; round++) {
      const bareRun = await runLoad({
        url: bare.url,
        path: '/letters/bare',
        connections: 32,
        durationS: DURATION_S,
        signing: { slug: 'bare', addressStart: 0, emailPrefix: `bare${round}-${Date.now()}` },
      });
      const one = await measured([first], () => runLoad(signing(first.url, 32, next, 1, `one${round}`)));
      next += one.result.addressesUsed + 1;
      const two = await measured([first, second], () =>
        runLoadsAtOnce([
          signing(first.url, 16, next, 2, `two${round}-p1`),
          signing(second.url, 16, next + 1, 2, `two${round}-p2`),
        ]),
      );
      next += two.result.addressesUsed * 2 + 2;
      acknowledged.push(...one.result.acknowledged, ...two.result.acknowledged);
      console.log(
        `round ${round}: bare ${Math.round(bareRun.perSecond)}/s; ${line('one process', one.result, one.cpuUs, bareRun.perSecond)}; ${line('two', two.result, two.cpuUs, bareRun.perSecond)}`,
      );
    }
    // Every signature answered 303 is in the database, or the figures are of something else.
    const present = await signaturesPresent(
      { dialect: 'sqlite', path: path.join(dataDir, 'undersigned.sqlite') },
      letter.id,
      acknowledged,
    );
    console.log(`acknowledged signatures stored: ${present} of ${acknowledged.length}`);
    if (present !== acknowledged.length) process.exitCode = 1;
  } finally {
    await Promise.all([first.stop(), second.stop()]);
    await bare.stop();
    await sink.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
