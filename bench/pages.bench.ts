/**
 * Public pages under load: the home page, a letter page with 20,000 confirmed signatures, and a
 * conditional request for it (If-None-Match with the ETag of a first GET), against an Express
 * hello-world in the same run. Target: each page ≥ 0.5× the hello-world; the conditional request
 * answers 304.
 *
 * The platform is the production build (`npm run build`, `node dist/server/main.js`) in its own
 * process, the hello-world in another, and autocannon in a third; rounds alternate baseline and
 * scenarios and the medians are printed (bench/lib/rounds.ts). Results: bench/results/pages.json and a
 * markdown table for docs/performance.md.
 *
 * Run: npx tsx bench/pages.bench.ts. Knobs (environment):
 *   BENCH_ROUNDS       rounds of every scenario (default 3)
 *   BENCH_DURATION     seconds per scenario and round (default 5)
 *   BENCH_CONNECTIONS  concurrent connections (default 32)
 *   BENCH_SIGNATURES   confirmed signatures on the letter (default 20,000)
 *   BENCH_LOG_LEVEL    the server's LOG_LEVEL (default info, as in production)
 *   BENCH_SERVER_ENV   "NAME=value …": more settings for the server (e.g. OVERLOAD_MAX_LAG_MS=0)
 *   BENCH_CPU_PROFILE  a folder: the server runs with --cpu-prof and writes its profile there
 *
 * Besides requests per second it prints each server's CPU time per answer (/proc, user + system, over
 * the run) and the hello-world's CPU per answer divided by each page's in the same round: contention on
 * a shared machine moves this far less than the rates.
 */
import path from 'node:path';
import { processCpuMs } from './lib/cpu.js';
import { runLoad, type LoadResult, type LoadSpec } from './lib/load.js';
import { settingsText, startBenchPlatform } from './lib/platform.js';
import { forkListening, ROOT } from './lib/processes.js';
import { alternate, machine, markdownTable, median, writeResults, type Scenario } from './lib/rounds.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 20_000);

/** Server CPU microseconds per answer, by scenario, one figure a round. */
const cpuPerAnswer = new Map<string, number[]>();

/** Runs `load` and records the CPU the process `pid` spent on it per answer (any status). */
async function measured(name: string, pid: number, load: () => Promise<LoadResult>): Promise<LoadResult> {
  const before = processCpuMs(pid);
  const result = await load();
  const perAnswer = ((processCpuMs(pid) - before) * 1000) / Math.max(1, result.responses);
  cpuPerAnswer.set(name, [...(cpuPerAnswer.get(name) ?? []), perAnswer]);
  console.log(`    ${name}: ${Math.round(perAnswer)} µs of server CPU per answer`);
  return result;
}

/** The CPU table: each scenario's median CPU per answer, and the baseline's ÷ its own, round by round. */
function cpuTable(scenarios: readonly Scenario[]): string {
  const lines = [
    '| scenario | server CPU per answer (median) | baseline CPU ÷ this (median of rounds) |',
    '|---|---|---|',
  ];
  for (const s of scenarios) {
    const own = cpuPerAnswer.get(s.name) ?? [];
    const base = s.baseline ? cpuPerAnswer.get(s.baseline) : undefined;
    const ratio = base ? median(own.map((us, i) => base[i]! / us)).toFixed(2) : 'baseline';
    lines.push(`| ${s.name} | ${Math.round(median(own))} µs | ${ratio} |`);
  }
  return lines.join('\n');
}

async function main(): Promise<void> {
  const platform = await startBenchPlatform({
    signatures: SIGNATURES,
    ...(process.env.BENCH_CPU_PROFILE ? { cpuProfileDir: path.resolve(process.env.BENCH_CPU_PROFILE) } : {}),
  });
  const hello = await forkListening(path.join(ROOT, 'bench', 'baselines', 'express-hello.ts'));
  try {
    const letterPath = `/letters/${platform.letter.slug}`;
    const first = await fetch(`${platform.url}${letterPath}`);
    await first.arrayBuffer();
    const etag = first.headers.get('etag');
    const load = (url: string, p: string, headers: Record<string, string> = {}): LoadSpec => ({
      url,
      path: p,
      connections: CONNECTIONS,
      durationS: DURATION_S,
      headers,
    });
    const scenarios: Scenario[] = [
      { name: 'Express hello-world', run: () => runLoad(load(hello.url, '/')) },
      { name: 'home page', baseline: 'Express hello-world', run: () => runLoad(load(platform.url, '/')) },
      {
        name: `letter page (${SIGNATURES.toLocaleString('en')} signatures)`,
        baseline: 'Express hello-world',
        run: () => runLoad(load(platform.url, letterPath)),
      },
      {
        name: `letter page, If-None-Match${etag ? '' : ' (no ETag served: unconditional)'}`,
        baseline: 'Express hello-world',
        run: () => runLoad(load(platform.url, letterPath, etag ? { 'if-none-match': etag } : {})),
      },
    ].map((s) => ({
      ...s,
      run: () => measured(s.name, s.baseline ? platform.pid : hello.child.pid!, s.run),
    }));
    console.log(
      `\nPages: ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections; server ${settingsText(platform)}; first GET of the letter page: ${first.status}, ETag ${etag ?? 'none'}, Cache-Control ${first.headers.get('cache-control') ?? 'none'}`,
    );
    const summaries = await alternate(ROUNDS, scenarios);
    console.log(
      `\n${machine()}; ${CONNECTIONS} connections, ${DURATION_S} s × ${ROUNDS} rounds;\nserver ${settingsText(platform)}\n`,
    );
    console.log(markdownTable(summaries));
    console.log(`\n${cpuTable(scenarios)}`);
    const file = writeResults('pages', {
      settings: platform.settings,
      rounds: ROUNDS,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      signatures: SIGNATURES,
      etag,
      summaries,
      cpuPerAnswerUs: Object.fromEntries(cpuPerAnswer),
    });
    console.log(`\nResults: ${path.relative(ROOT, file)}`);
  } finally {
    await hello.stop();
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
