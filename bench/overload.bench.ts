/**
 * Overload: signing offered at twice the sustainable rate. Target: the excess is answered at once
 * with 503 and Retry-After (within 50 ms), and every signature the server acknowledged (303) is in
 * the database afterwards.
 *
 * The sustainable rate is BENCH_SUSTAINABLE, or measured first (signing as fast as it is answered,
 * BENCH_DURATION seconds, on the same platform). Then autocannon offers twice it at a fixed rate
 * (overallRate) over enough connections that a slow answer does not slow the offer, for BENCH_ROUNDS
 * rounds; the latencies of the 303s and the 503s are reported apart (arriving evenly, also for the
 * requests due after each round's first second, when the generator's connections are open). The
 * platform is the production build in its own process, with the mail worker off in it
 * (RUN_MAIL_WORKER=0) and PROOF_OF_WORK=0.
 *
 * Run: npx tsx bench/overload.bench.ts. Knobs (environment):
 *   BENCH_SUSTAINABLE   signatures per second taken as sustainable (default: measured)
 *   BENCH_ARRIVALS      bursts (default: autocannon's overallRate, each connection's 5 a second back to
 *                       back when the second starts) or even (one request every 1/rate s, open loop)
 *   BENCH_ROUNDS        overload rounds (default 3)
 *   BENCH_DURATION      seconds per run (default 5)
 *   BENCH_CONNECTIONS   connections for the sustainable-rate measure (default 32)
 *   BENCH_SIGNATURES    confirmed signatures already on the letter (default 20,000)
 *   BENCH_LOG_LEVEL     the server's LOG_LEVEL (default info, as in production)
 *   BENCH_SERVER_ENV    "NAME=value …": more settings for the server (e.g. OVERLOAD_MAX_LAG_MS=0)
 *   BENCH_PROXY         nginx: the load goes through nginx keeping connections to the app alive, as
 *                       behind the README's reverse proxy (bench/lib/proxy.ts; needs Debian's nginx),
 *                       with one nginx worker a core as Debian's default configuration has
 */
import path from 'node:path';
import { percentiles, type Latency, type LoadResult } from './lib/load.js';
import { settingsText, startBenchPlatform } from './lib/platform.js';
import { ROOT } from './lib/processes.js';
import { nginxInstalled, startNginxProxy, type RunningProxy } from './lib/proxy.js';
import { machine, median, statusText, writeResults } from './lib/rounds.js';
import { SigningLoad } from './lib/signing.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 20_000);
const ARRIVALS = process.env.BENCH_ARRIVALS === 'even' ? 'even' : 'bursts';
const SHED_TARGET_MS = 50;

/**
 * Arriving evenly, each round's load generator starts with no connection open: the first requests all
 * open sockets at once against a server already at twice what it sustains, and in the measurements of
 * 2026-12-06 every request due in a round's first ~0.6 s waited seconds (303s and 503s alike), while none
 * due after the first second waited over 0.5 s. Both are printed: the whole round, and after this.
 */
const STEADY_AFTER_MS = 1_000;

/** Latency per status of the answers to the requests due after STEADY_AFTER_MS. */
function steadyState(round: LoadResult): Record<string, Latency> {
  const later = (round.samples ?? []).filter((s) => (s.dueMs ?? 0) >= STEADY_AFTER_MS);
  const codes = [...new Set(later.map((s) => s.status))];
  return Object.fromEntries(
    codes.map((code) => [String(code), percentiles(later.filter((s) => s.status === code).map((s) => s.ms))]),
  );
}

function latencyText(latency: Latency | undefined): string {
  return latency
    ? `${latency.count} answers, p50 ${latency.p50.toFixed(1)} ms, p99 ${latency.p99.toFixed(1)} ms, max ${latency.max.toFixed(1)} ms`
    : 'none';
}

async function main(): Promise<void> {
  if (process.env.BENCH_PROXY === 'nginx' && !nginxInstalled()) {
    console.log('Overload behind nginx: skipped, nginx is not installed (apt-get install nginx-light).');
    return;
  }
  const platform = await startBenchPlatform({ signatures: SIGNATURES });
  let proxy: RunningProxy | undefined;
  try {
    if (process.env.BENCH_PROXY === 'nginx')
      proxy = await startNginxProxy(platform.url, { passClientAddresses: true });
    // Behind the proxy, the load generator only ever talks to nginx; the check reads the database.
    const signing = new SigningLoad(proxy ? { ...platform, url: proxy.url, urls: [proxy.url] } : platform);
    let sustainable = Number(process.env.BENCH_SUSTAINABLE ?? 0);
    if (!sustainable) {
      const measured = await signing.run({ connections: CONNECTIONS, durationS: DURATION_S });
      sustainable = Math.max(1, Math.round(measured.perSecond));
      console.log(
        `Sustainable signing rate, measured: ${sustainable}/s (p99 ${measured.latency.p99.toFixed(1)} ms, ${statusText(measured.statuses)})`,
      );
    }
    const offered = 2 * sustainable;
    // Enough connections that each offers at most 5 a second: a slow answer must not hold back the offer.
    // Arriving evenly, each request takes a socket of its own when none is free, up to a second's worth:
    // the generator's own cap must not queue requests the server would have answered.
    const connections = Math.max(100, Math.ceil(ARRIVALS === 'even' ? offered : offered / 5));
    const rounds: LoadResult[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const result = await signing.run({
        connections,
        durationS: DURATION_S,
        overallRate: offered,
        arrivals: ARRIVALS,
        timeoutS: 30,
        // Arriving evenly, each answer's due time: the steady state is reported apart from the first second.
        keepSamples: ARRIVALS === 'even',
      });
      rounds.push(result);
      console.log(
        `  round ${round + 1}/${ROUNDS}: offered ${offered}/s, answered ${Math.round(result.answeredPerSecond)}/s; ${statusText(result.statuses)}; ${result.errors} errors, ${result.timeouts} timeouts`,
      );
    }
    const check = await signing.verify();
    const shed = rounds.map((r) => r.latencyByStatus['503']);
    const accepted = rounds.map((r) => r.latencyByStatus['303']);
    const all503 = rounds.reduce((sum, r) => sum + (r.statuses['503'] ?? 0), 0);
    const withRetryAfter = rounds.reduce((sum, r) => sum + r.retryAfter503, 0);
    const shedP99 = median(shed.map((l) => l?.p99 ?? 0));

    console.log(
      `\n${machine()}; server ${settingsText(platform)}${proxy ? `; through ${proxy.description}` : ''}\n`,
    );
    console.log(
      `| overload at 2 × ${sustainable}/s = ${offered}/s offered (${ARRIVALS === 'even' ? 'arriving evenly' : 'in bursts at each second'}), ${connections} connections, ${ROUNDS} rounds × ${DURATION_S} s | median of rounds |`,
    );
    console.log('|---|---|');
    console.log(`| answered per second | ${Math.round(median(rounds.map((r) => r.answeredPerSecond)))} |`);
    console.log(
      `| acknowledged (303) per second | ${Math.round(median(rounds.map((r) => (r.statuses['303'] ?? 0) / r.durationS)))} |`,
    );
    console.log(
      `| 303 latency p50 / p99 | ${median(accepted.map((l) => l?.p50 ?? 0)).toFixed(1)} / ${median(accepted.map((l) => l?.p99 ?? 0)).toFixed(1)} ms |`,
    );
    console.log(`| 503 answers (with Retry-After) | ${all503} (${withRetryAfter}) over all rounds |`);
    console.log(
      `| 503 latency p50 / p99 (target ≤ ${SHED_TARGET_MS} ms) | ${all503 ? `${median(shed.map((l) => l?.p50 ?? 0)).toFixed(1)} / ${shedP99.toFixed(1)} ms` : 'no 503s'} |`,
    );
    const steady = ARRIVALS === 'even' ? rounds.map(steadyState) : undefined;
    if (steady) {
      const p99 = (code: string) => median(steady.map((byStatus) => byStatus[code]?.p99 ?? 0)).toFixed(1);
      console.log(
        `| after the first ${STEADY_AFTER_MS / 1000} s of each round: 303 p99 / 503 p99 | ${p99('303')} / ${p99('503')} ms |`,
      );
    }
    console.log(
      `| errors / timeouts | ${rounds.reduce((s, r) => s + r.errors, 0)} / ${rounds.reduce((s, r) => s + r.timeouts, 0)} |`,
    );
    console.log(`| acknowledged signatures in the database | ${check.present} of ${check.acknowledged} |`);
    for (const [round, r] of rounds.entries())
      console.log(
        `\nRound ${round + 1}: 303s ${latencyText(r.latencyByStatus['303'])}; 503s ${latencyText(r.latencyByStatus['503'])}`,
      );
    if (all503 === 0)
      console.log(
        '\nNo 503 at all: the server does not shed load yet, so the excess waited in line (see the 303 latency) or timed out.',
      );
    else if (withRetryAfter < all503)
      console.log(`\n${all503 - withRetryAfter} 503 answers lacked Retry-After.`);

    const file = writeResults(
      ['overload', ARRIVALS === 'even' ? 'even' : '', proxy ? 'nginx' : ''].filter(Boolean).join('-'),
      {
        settings: platform.settings,
        sustainable,
        offered,
        arrivals: ARRIVALS,
        ...(proxy ? { proxy: proxy.description } : {}),
        connections,
        durationS: DURATION_S,
        rounds: rounds.map(({ samples: _samples, ...round }) => round),
        ...(steady ? { steadyStateAfterMs: STEADY_AFTER_MS, steadyState: steady } : {}),
        shed: { count: all503, withRetryAfter, p99MedianMs: shedP99, targetMs: SHED_TARGET_MS },
        acknowledgedInDatabase: check,
      },
    );
    console.log(`\nResults: ${path.relative(ROOT, file)}`);
    if (check.present !== check.acknowledged) {
      console.error('Acknowledged signatures are missing from the database.');
      process.exitCode = 1;
    }
  } finally {
    await proxy?.stop();
    await platform.stop();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
