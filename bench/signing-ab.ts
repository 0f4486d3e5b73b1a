/**
 * Signing A/B: the same signing load on two or more servers in alternating rounds, for judging a change
 * by the server's CPU time a signing on a machine others share (requests per second moved 2–4× between
 * rounds at load average 15–30; CPU per answer far less). Not part of `npm run bench`: a tool for whoever
 * changes the signing path.
 *
 * Each server is a production build (`dist/server/main.js`) in its own process on a fresh database
 * prepared by this checkout (bench/lib/data.ts), with the benchmarks' production settings. What differs:
 *   BENCH_AB_ROOTS     comma-separated folders, each a checkout with its own `npm run build` done (e.g. a
 *                      `git archive main` unpacked elsewhere with node_modules linked); default: this one.
 *                      Every build must know this checkout's migrations (the comparison is of code).
 *   BENCH_AB_SETTINGS  ";"-separated sets of "NAME=value …", one server each on the first root (e.g.
 *                      "OVERLOAD_MAX_IN_FLIGHT=128;OVERLOAD_MAX_IN_FLIGHT=32"); with BENCH_AB_ROOTS, one
 *                      set for all of them.
 * Knobs: BENCH_ROUNDS (3), BENCH_DURATION (5 s), BENCH_CONNECTIONS (32), BENCH_SIGNING_RATE (unset: as
 * fast as answered; set: autocannon's overallRate over the connections), BENCH_SERVER_ENV for every
 * server, BENCH_CPU_PROFILE=<folder> (each server writes its profile into <folder>/<n>).
 *
 * Run: npx tsx bench/signing-ab.ts. Prints, per round and server, signings acknowledged per second, the
 * server's CPU per answer (/proc, user + system), p99 and the statuses; then the medians.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processCpuMs } from './lib/cpu.js';
import { prepareDatabase, type BenchLetter } from './lib/data.js';
import { runLoad } from './lib/load.js';
import { benchServerSettings, startSmtpSink } from './lib/platform.js';
import { buildProduction, freePort, ROOT } from './lib/processes.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const RATE = process.env.BENCH_SIGNING_RATE ? Number(process.env.BENCH_SIGNING_RATE) : undefined;
const PROFILE = process.env.BENCH_CPU_PROFILE;
const SECRET = 'bench-secret-bench-secret-bench-secret-0';

/** "NAME=value NAME=value" as an object. */
function settings(text: string): Record<string, string> {
  return Object.fromEntries(
    text
      .split(/\s+/)
      .filter(Boolean)
      .map((pair) => {
        const at = pair.indexOf('=');
        if (at < 1) throw new Error(`"${pair}" is not NAME=value`);
        return [pair.slice(0, at), pair.slice(at + 1)];
      }),
  );
}

interface Server {
  readonly name: string;
  readonly url: string;
  readonly child: ChildProcess;
  readonly letter: BenchLetter;
  readonly dataDir: string;
  nextAddress: number;
  readonly rates: number[];
  readonly cpuUs: number[];
}

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

async function start(root: string, env: Record<string, string>, n: number, smtpUrl: string): Promise<Server> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-ab-'));
  const letter = await prepareDatabase(path.join(dataDir, 'undersigned.sqlite'), SECRET, 20_000);
  const port = await freePort();
  const log = openSync(path.join(dataDir, 'server.log'), 'a');
  const child = spawn(
    process.execPath,
    [
      '--enable-source-maps',
      ...(PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(PROFILE, String(n))}`] : []),
      path.join(root, 'dist', 'server', 'main.js'),
    ],
    {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        ...benchServerSettings({ port, smtpUrl }),
        ...settings(process.env.BENCH_SERVER_ENV ?? ''),
        ...env,
        DATA_DIR: dataDir,
        SECRET_KEY: SECRET,
        PORT: String(port),
        HOST: '127.0.0.1',
      },
      stdio: ['ignore', log, log],
    },
  );
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${root} exited: see ${dataDir}/server.log`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline) throw new Error(`${root} did not answer within 60 s`);
    await sleep(100);
  }
  const label =
    Object.keys(env).length > 0
      ? ` [${Object.entries(env)
          .map(([k, v]) => `${k}=${v}`)
          .join(' ')}]`
      : '';
  return { name: `${root}${label}`, url, child, letter, dataDir, nextAddress: 0, rates: [], cpuUs: [] };
}

async function main(): Promise<void> {
  const roots = (process.env.BENCH_AB_ROOTS ?? '')
    .split(',')
    .filter(Boolean)
    .map((r) => path.resolve(r));
  const sets = (process.env.BENCH_AB_SETTINGS ?? '').split(';').filter(Boolean).map(settings);
  if (roots.length === 0) buildProduction();
  const plan =
    roots.length > 1 || sets.length === 0
      ? (roots.length > 0 ? roots : [ROOT]).map((root) => ({ root, env: sets[0] ?? {} }))
      : sets.map((env) => ({ root: roots[0] ?? ROOT, env }));
  if (plan.length < 2)
    throw new Error('nothing to compare: give BENCH_AB_ROOTS or BENCH_AB_SETTINGS two ways');
  const sink = await startSmtpSink();
  const servers: Server[] = [];
  try {
    for (const [n, { root, env }] of plan.entries())
      servers.push(await start(root, env, n, `smtp://127.0.0.1:${sink.port}`));
    console.log(
      `Signing A/B: ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections${RATE ? `, ${RATE}/s offered` : ''}; load average ${os.loadavg()[0]!.toFixed(1)} at the start`,
    );
    for (let round = 1; round <= ROUNDS; round++) {
      for (const server of servers) {
        const before = processCpuMs(server.child.pid!);
        const result = await runLoad({
          url: server.url,
          path: `/letters/${server.letter.slug}`,
          connections: CONNECTIONS,
          durationS: DURATION_S,
          ...(RATE ? { overallRate: RATE } : {}),
          signing: {
            slug: server.letter.slug,
            addressStart: server.nextAddress,
            emailPrefix: `ab${round}`,
          },
        });
        const cpuUs = ((processCpuMs(server.child.pid!) - before) * 1000) / Math.max(1, result.responses);
        server.nextAddress += result.addressesUsed;
        server.rates.push(result.perSecond);
        server.cpuUs.push(cpuUs);
        const shed = result.latencyByStatus['503'];
        console.log(
          `round ${round} ${server.name}: ${Math.round(result.perSecond)}/s, ${Math.round(cpuUs)} µs CPU an answer, p99 ${result.latency.p99.toFixed(1)} ms${shed ? `, 503 p50 ${shed.p50.toFixed(1)} / p99 ${shed.p99.toFixed(1)} ms` : ''}, ${JSON.stringify(result.statuses)}`,
        );
      }
    }
    const first = median(servers[0]!.cpuUs);
    for (const server of servers)
      console.log(
        `${server.name}: median ${Math.round(median(server.rates))}/s, ${Math.round(median(server.cpuUs))} µs CPU an answer (${(median(server.cpuUs) / first).toFixed(2)} of the first)`,
      );
  } finally {
    for (const server of servers) {
      server.child.kill('SIGTERM');
      if (server.child.exitCode === null) await new Promise((resolve) => server.child.once('exit', resolve));
      rmSync(server.dataDir, { recursive: true, force: true });
    }
    await sink.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
