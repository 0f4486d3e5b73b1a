/**
 * Signing through the real form (POST /letters/<slug>/sign), each request from its own client address
 * (X-Forwarded-For behind TRUST_PROXY=1) with its own e-mail address, against a bare node:http +
 * better-sqlite3 insert (bench/baselines/bare-insert.ts) in the same run. Targets: ≥ 1,000 signatures/s
 * and ≥ 0.25× the bare baseline; p99 ≤ 100 ms at a fixed 500/s; the figure with proof of work on.
 *
 * Phases, each on the production build in its own process (bench/lib/platform.ts):
 *  1. throughput, alternating rounds: bare baseline; the platform with the mail worker off in the web
 *     process (RUN_MAIL_WORKER=0, the main figure: confirmation e-mails wait in the outbox); the
 *     platform with the worker in process (sending to the SMTP sink in its own process; the next round
 *     waits until it has sent everything, and the time is reported);
 *  2. a fixed rate (default 500/s) on the worker-off platform, p99, two ways: arriving evenly (an open
 *     loop, one request every 2 ms: the target's "at 500/s"), and autocannon's overallRate, whose
 *     connections each send their quota back to back when a second starts (waves of ~100 at once);
 *  3. proof of work on (PROOF_OF_WORK=1), a solved proof per request (bench/lib/proofs.ts explains how
 *     they are made), alternating with the bare baseline; the proofs the server accepted are counted.
 * Afterwards every acknowledged signature (303) is looked up in each platform's database.
 *
 * Run: npx tsx bench/signing.bench.ts. Knobs (environment):
 *   BENCH_ROUNDS        rounds of each phase (default 3)
 *   BENCH_DURATION      seconds per throughput and fixed-rate run (default 5)
 *   BENCH_CONNECTIONS   concurrent connections for throughput (default 32)
 *   BENCH_SIGNING_RATE  the fixed rate of phase 2, per second (default 500)
 *   BENCH_POW_PROOFS    signatures per proof-of-work round (default 2,000)
 *   BENCH_SIGNATURES    confirmed signatures already on the letter (default 20,000)
 *   BENCH_LOG_LEVEL     the server's LOG_LEVEL (default info, as in production)
 *   BENCH_SERVER_ENV    "NAME=value …": more settings for the server (e.g. OVERLOAD_MAX_LAG_MS=0)
 *   BENCH_CPU_PROFILE   a folder: the worker-off platform runs with --cpu-prof and writes its profile there
 *   BENCH_WARMUP        seconds of an untimed run of each server before phase 1 (default 5; 0: none)
 */
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { runLoad } from './lib/load.js';
import { settingsText, startBenchPlatform, type BenchPlatform } from './lib/platform.js';
import { forkListening, ROOT } from './lib/processes.js';
import { solvedProofs } from './lib/proofs.js';
import { proofsAccepted as proofsKept } from './lib/data.js';
import { alternate, machine, markdownTable, writeResults } from './lib/rounds.js';
import { SigningLoad, unsentMail } from './lib/signing.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = Number(process.env.BENCH_SIGNING_RATE ?? 500);
const POW_PROOFS = Number(process.env.BENCH_POW_PROOFS ?? 2_000);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 20_000);
const WARMUP_S = Number(process.env.BENCH_WARMUP ?? 5);
const BARE = 'bare node:http + better-sqlite3';

/** Waits until the in-process worker has sent every confirmation e-mail (at most 120 s); returns the seconds it took. */
async function drained(platform: BenchPlatform): Promise<number> {
  const started = Date.now();
  while ((await unsentMail(platform)) > 0 && Date.now() - started < 120_000) await sleep(250);
  return (Date.now() - started) / 1000;
}

async function main(): Promise<void> {
  const bare = await forkListening(path.join(ROOT, 'bench', 'baselines', 'bare-insert.ts'));
  const workerOff = await startBenchPlatform({
    signatures: SIGNATURES,
    ...(process.env.BENCH_CPU_PROFILE ? { cpuProfileDir: path.resolve(process.env.BENCH_CPU_PROFILE) } : {}),
  });
  const workerIn = await startBenchPlatform({ signatures: SIGNATURES, env: { RUN_MAIL_WORKER: '1' } });
  const proofOn = await startBenchPlatform({ signatures: SIGNATURES, env: { PROOF_OF_WORK: '1' } });
  try {
    const throughput = { connections: CONNECTIONS, durationS: DURATION_S };
    const bareRun = (durationS = DURATION_S) =>
      runLoad({
        url: bare.url,
        path: '/',
        connections: CONNECTIONS,
        durationS,
        signing: { slug: 'bare', addressStart: 0, emailPrefix: `bare${Date.now()}` },
      });
    const off = new SigningLoad(workerOff);
    const inProcess = new SigningLoad(workerIn);
    const drains: number[] = [];
    console.log(
      `\nSigning: ${machine()}; server ${settingsText(workerOff)} unless said, ${SIGNATURES.toLocaleString('en')} signatures already on the letter`,
    );
    if (WARMUP_S > 0) {
      // Each server's first seconds run cold (V8 compiles the hot paths, SQLite's page cache fills), and
      // the first timed round was the lowest of every run (2026-12-06: 828, 909, 1,094/s; 979, 1,255,
      // 1,173, 1,311, 1,146/s). A production server is long past them: one untimed run of each first.
      // Its acknowledged signatures are checked with the rest.
      console.log(`\n0. Warm-up, untimed: ${WARMUP_S} s of each server`);
      const warm = { connections: CONNECTIONS, durationS: WARMUP_S };
      await bareRun(WARMUP_S);
      await off.run(warm);
      await inProcess.run(warm);
      await drained(workerIn);
    }
    console.log(`\n1. Throughput, ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections`);
    const throughputRounds = await alternate(ROUNDS, [
      { name: BARE, run: () => bareRun() },
      { name: 'signing, worker off (RUN_MAIL_WORKER=0)', baseline: BARE, run: () => off.run(throughput) },
      {
        name: 'signing, worker in process',
        baseline: BARE,
        run: async () => {
          const result = await inProcess.run(throughput);
          drains.push(await drained(workerIn));
          return result;
        },
      },
    ]);

    console.log(`\n2. Fixed rate ${RATE}/s, ${ROUNDS} rounds × ${DURATION_S} s, worker off`);
    const fixed = await alternate(ROUNDS, [
      {
        name: `signing at ${RATE}/s arriving evenly (one every ${(1000 / RATE).toFixed(1)} ms), worker off`,
        run: () =>
          off.run({
            connections: Math.max(CONNECTIONS, Math.ceil(RATE / 5)),
            durationS: DURATION_S,
            overallRate: RATE,
            arrivals: 'even',
          }),
      },
      {
        name: `signing at ${RATE}/s in bursts (autocannon: ${Math.max(CONNECTIONS, Math.ceil(RATE / 5))} connections each send their 5 at every second's start), worker off`,
        run: () =>
          off.run({
            connections: Math.max(CONNECTIONS, Math.ceil(RATE / 5)),
            durationS: DURATION_S,
            overallRate: RATE,
            arrivals: 'bursts',
          }),
      },
    ]);

    console.log(`\n3. Proof of work on: solving ${ROUNDS} × ${POW_PROOFS} proofs before the timed runs…`);
    const proofs = await solvedProofs(proofOn.url, proofOn.secret, ROUNDS * POW_PROOFS);
    const withProof = new SigningLoad(proofOn);
    const pow = await alternate(ROUNDS, [
      // The baseline runs for the usual duration: a fixed count would be over before it warmed up.
      { name: BARE, run: () => bareRun() },
      {
        name: 'signing with a proof of work verified, worker off',
        baseline: BARE,
        run: (round) =>
          withProof.run({
            connections: CONNECTIONS,
            durationS: DURATION_S,
            amount: POW_PROOFS,
            proofs: proofs.slice(round * POW_PROOFS, (round + 1) * POW_PROOFS),
          }),
      },
    ]);
    const proofsAccepted = await proofsKept(proofOn.database);

    const checks = {
      'worker off': await off.verify(),
      'worker in process': await inProcess.verify(),
      'proof of work': await withProof.verify(),
    };
    const heading = `${machine()}; server ${settingsText(workerOff)}; ${SIGNATURES.toLocaleString('en')} signatures already on the letter`;
    console.log(
      `\n${heading}\n\nThroughput (${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections):\n`,
    );
    console.log(markdownTable(throughputRounds));
    console.log(
      `\nThe in-process worker then sent the round's confirmation e-mails in ${drains.map((s) => s.toFixed(1)).join(', ')} s.`,
    );
    console.log(`\nFixed rate (${RATE}/s offered; ${ROUNDS} rounds × ${DURATION_S} s):\n`);
    console.log(markdownTable(fixed));
    console.log(
      `\nProof of work (${POW_PROOFS.toLocaleString('en')} signatures a round, ${CONNECTIONS} connections):\n`,
    );
    console.log(markdownTable(pow));
    console.log(
      `\nProofs the server accepted as valid: ${proofsAccepted}; signatures acknowledged with a proof: ${checks['proof of work'].acknowledged} (${proofs.length} sent; a shed request never reaches the check).`,
    );
    for (const [name, check] of Object.entries(checks))
      console.log(
        `Acknowledged (303) and in the database, ${name}: ${check.present} of ${check.acknowledged}${check.present === check.acknowledged ? '' : ' — MISSING SIGNATURES'} (the letter has ${check.rowsInLetter} rows)`,
      );
    const file = writeResults('signing', {
      settings: workerOff.settings,
      rounds: ROUNDS,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      rate: RATE,
      throughput: throughputRounds,
      workerDrainS: drains,
      fixedRate: fixed,
      proofOfWork: { summaries: pow, proofsSent: proofs.length, proofsAccepted },
      acknowledgedInDatabase: checks,
    });
    console.log(`\nResults: ${path.relative(ROOT, file)}`);
    if (Object.values(checks).some((c) => c.present !== c.acknowledged)) process.exitCode = 1;
  } finally {
    await bare.stop();
    await Promise.all([workerOff.stop(), workerIn.stop(), proofOn.stop()]);
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
