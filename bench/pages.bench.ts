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
 */
import path from 'node:path';
import { runLoad, type LoadSpec } from './lib/load.js';
import { settingsText, startBenchPlatform } from './lib/platform.js';
import { forkListening, ROOT } from './lib/processes.js';
import { alternate, machine, markdownTable, writeResults, type Scenario } from './lib/rounds.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 20_000);

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
    ];
    console.log(
      `\nPages: ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections; server ${settingsText(platform)}; first GET of the letter page: ${first.status}, ETag ${etag ?? 'none'}, Cache-Control ${first.headers.get('cache-control') ?? 'none'}`,
    );
    const summaries = await alternate(ROUNDS, scenarios);
    console.log(
      `\n${machine()}; ${CONNECTIONS} connections, ${DURATION_S} s × ${ROUNDS} rounds;\nserver ${settingsText(platform)}\n`,
    );
    console.log(markdownTable(summaries));
    const file = writeResults('pages', {
      settings: platform.settings,
      rounds: ROUNDS,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      signatures: SIGNATURES,
      etag,
      summaries,
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
