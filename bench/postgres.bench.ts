/**
 * The letter page and signing on PostgreSQL with one and with two web processes, beside SQLite with one,
 * in the same run (issue 13). Three platforms, each the production build (bench/lib/platform.ts) on the
 * same prepared data (bench/lib/data.ts: the demo letters and 20,000 confirmed signatures on the first,
 * copied into PostgreSQL by `npm run db:copy`'s code):
 *  (a) SQLite, one web process;
 *  (b) PostgreSQL, one web process (DATABASE_URL, the default pool of 10 connections);
 *  (c) PostgreSQL, two web processes on two ports sharing one database, as behind a proxy: two load
 *      generators at once, one per port, each with half the connections; their answers are summed and
 *      the latency percentiles taken over all of them (bench/lib/load.ts, runLoadsAtOnce).
 * PostgreSQL is a throwaway cluster of the benchmark's own, with PostgreSQL's defaults (bench/lib/postgres.ts),
 * stopped when the benchmark ends, also on an error or Ctrl-C.
 *
 * Rounds alternate baselines and scenarios (bench/lib/rounds.ts), each ratio to its own round's baseline:
 *  1. the letter page (GET, anonymous) against an Express hello-world;
 *  2. signing through the real form (each request its own client address, PROOF_OF_WORK=0,
 *     RUN_MAIL_WORKER=0): SQLite against the bare node:http + better-sqlite3 insert, PostgreSQL against a
 *     bare node:http + `pg` insert into the same cluster (bench/baselines/bare-pg-insert.ts), and every
 *     platform against SQLite's figure of the same round.
 * Then every acknowledged signature (303) is looked up in its platform's database; one missing fails the run.
 * Server CPU per answer is the web processes' (and, on PostgreSQL, the cluster's: postmaster and every
 * backend) over each run, divided by the answers.
 *
 * Results: bench/results/postgres.json, and the tables written between the postgres-bench markers in
 * docs/performance.md. Run: npx tsx bench/postgres.bench.ts (also in npm run bench). Knobs (environment):
 *   BENCH_ROUNDS       rounds of each phase (default 3)
 *   BENCH_DURATION     seconds per scenario and round (default 5)
 *   BENCH_CONNECTIONS  concurrent connections per scenario, shared out among its web processes (default 32)
 *   BENCH_SIGNATURES   confirmed signatures on the letter (default 20,000)
 *   BENCH_LOG_LEVEL    the servers' LOG_LEVEL (default info, as in production)
 *   BENCH_SERVER_ENV   "NAME=value …": more settings for every server (e.g. DATABASE_POOL_SIZE=20)
 *   PG_BIN             the folder of initdb and pg_ctl (default: the newest /usr/lib/postgresql/<version>/bin)
 */
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { processCpuMs } from './lib/cpu.js';
import { runLoad, runLoadsAtOnce, type LoadResult, type LoadSpec } from './lib/load.js';
import { settingsText, startBenchPlatform, type BenchPlatform } from './lib/platform.js';
import { BENCH_CLUSTER_SETTINGS, startBenchCluster, type BenchCluster } from './lib/postgres.js';
import { forkListening, ROOT, type RunningProcess } from './lib/processes.js';
import {
  alternate,
  machine,
  median,
  statusText,
  writeResults,
  type Scenario,
  type Summary,
} from './lib/rounds.js';
import { SigningLoad } from './lib/signing.js';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const DURATION_S = Number(process.env.BENCH_DURATION ?? 5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 32);
const SIGNATURES = Number(process.env.BENCH_SIGNATURES ?? 20_000);

const HELLO = 'Express hello-world';
const BARE_SQLITE = 'bare node:http + better-sqlite3';
const BARE_PG = 'bare node:http + pg';

/** A platform under test and how the tables name it. */
interface Subject {
  readonly label: string;
  readonly platform: BenchPlatform;
  readonly onPostgres: boolean;
}

/** CPU per answer of one run: the web side (or baseline process) and PostgreSQL's, in microseconds. */
interface CpuShare {
  readonly web: number;
  readonly postgres: number;
}

const cpuPerAnswer = new Map<string, CpuShare[]>();

/** Runs `load` and records the CPU that `pids` (and the cluster, when `cluster`) spent per answer. */
async function measured(
  name: string,
  pids: readonly number[],
  cluster: BenchCluster | undefined,
  load: () => Promise<LoadResult>,
): Promise<LoadResult> {
  const web = () => pids.reduce((sum, pid) => sum + processCpuMs(pid), 0);
  const [webBefore, pgBefore] = [web(), cluster?.cpuMs() ?? 0];
  const result = await load();
  const answers = Math.max(1, result.responses);
  const share = {
    web: ((web() - webBefore) * 1000) / answers,
    postgres: (((cluster?.cpuMs() ?? 0) - pgBefore) * 1000) / answers,
  };
  cpuPerAnswer.set(name, [...(cpuPerAnswer.get(name) ?? []), share]);
  console.log(`    ${name}: ${cpuText(share)} of CPU per answer`);
  return result;
}

function cpuText({ web, postgres }: CpuShare): string {
  return postgres > 0
    ? `${Math.round(web + postgres)} µs (web ${Math.round(web)} + PostgreSQL ${Math.round(postgres)})`
    : `${Math.round(web)} µs`;
}

/** Median over rounds of `a`'s rate ÷ `b`'s rate in the same round. */
function roundRatio(a: Summary, b: Summary): number {
  return median(a.rounds.map((r, i) => r.perSecond / Math.max(1e-9, b.rounds[i]!.perSecond)));
}

/** One GET or one signing run against every web process of a subject at once. */
function pageLoad(platform: BenchPlatform): Promise<LoadResult> {
  const specs: LoadSpec[] = platform.urls.map((url) => ({
    url,
    path: `/letters/${platform.letter.slug}`,
    connections: Math.max(1, Math.round(CONNECTIONS / platform.urls.length)),
    durationS: DURATION_S,
  }));
  return specs.length > 1 ? runLoadsAtOnce(specs) : runLoad(specs[0]!);
}

/** The markdown table of one phase: each row's rate, its ratios, latencies and CPU per answer. */
function table(summaries: readonly Summary[], sqliteName: string, processes: Map<string, number>): string {
  const sqlite = summaries.find((s) => s.name === sqliteName)!;
  const lines = [
    '| scenario | web processes | 2xx/3xx per s (median) | ÷ own baseline, same round | ÷ SQLite, 1 process, same round | p50 ms | p99 ms | CPU per answer (median): web + PostgreSQL | statuses | errors |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const s of summaries) {
    const cpu = cpuPerAnswer.get(s.name) ?? [];
    const share = { web: median(cpu.map((c) => c.web)), postgres: median(cpu.map((c) => c.postgres)) };
    const own = s.ratio !== undefined ? `${s.ratio.toFixed(2)} × ${s.baseline}` : 'baseline';
    const vsSqlite = processes.has(s.name) ? roundRatio(s, sqlite).toFixed(2) : '—';
    lines.push(
      `| ${s.name} | ${processes.get(s.name) ?? '—'} | ${Math.round(s.perSecond).toLocaleString('en')} | ${own} | ${vsSqlite} | ${s.p50.toFixed(1)} | ${s.p99.toFixed(1)} | ${cpuText(share)} | ${statusText(s.statuses)} | ${s.errors} |`,
    );
  }
  return lines.join('\n');
}

/** Replaces the text between the postgres-bench markers of docs/performance.md, when they are there. */
function writeDocs(report: string): void {
  const file = path.join(ROOT, 'docs', 'performance.md');
  const begin = '<!-- postgres-bench:begin -->';
  const end = '<!-- postgres-bench:end -->';
  const current = readFileSync(file, 'utf8');
  if (!current.includes(begin) || !current.includes(end)) return;
  writeFileSync(
    file,
    `${current.slice(0, current.indexOf(begin) + begin.length)}\n${report}\n${current.slice(current.indexOf(end))}`,
  );
  console.log(`\nWritten to ${path.relative(process.cwd(), file)}.`);
}

async function main(): Promise<void> {
  const started = new Date();
  // Other work on the machine moves every figure: the report says how busy it was when the run began.
  const loadAverage = os.loadavg()[0]!.toFixed(1);
  const running: { stop(): Promise<void> }[] = [];
  let cluster: BenchCluster | undefined;
  const teardown = async () => {
    await Promise.allSettled(running.splice(0).map((r) => r.stop()));
    cluster?.stop();
  };
  // Ctrl-C or a kill: the servers and the cluster go with the benchmark (the cluster also on any exit).
  // Listening on, not once: under `npx tsx` the signal comes twice (to the group, then relayed by tsx),
  // and the second must not end the process with its default action halfway through the teardown.
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const)
    process.on(signal, () => {
      if (interrupted) return;
      interrupted = true;
      void teardown().finally(() => process.exit(130));
    });
  try {
    cluster = startBenchCluster();
    const version = await cluster.version();
    const start = async <T extends { stop(): Promise<void> }>(thing: Promise<T>): Promise<T> => {
      const value = await thing;
      running.push(value);
      return value;
    };
    const subjects: Subject[] = [
      {
        label: 'SQLite, 1 web process',
        platform: await start(startBenchPlatform({ signatures: SIGNATURES })),
        onPostgres: false,
      },
      {
        label: 'PostgreSQL, 1 web process',
        platform: await start(startBenchPlatform({ signatures: SIGNATURES, postgres: cluster })),
        onPostgres: true,
      },
      {
        label: 'PostgreSQL, 2 web processes',
        platform: await start(
          startBenchPlatform({ signatures: SIGNATURES, postgres: cluster, processes: 2 }),
        ),
        onPostgres: true,
      },
    ];
    const hello: RunningProcess = await start(
      forkListening(path.join(ROOT, 'bench', 'baselines', 'express-hello.ts')),
    );
    const bareSqlite: RunningProcess = await start(
      forkListening(path.join(ROOT, 'bench', 'baselines', 'bare-insert.ts')),
    );
    const barePg: RunningProcess = await start(
      forkListening(path.join(ROOT, 'bench', 'baselines', 'bare-pg-insert.ts'), {
        BENCH_PG_URL: await cluster.createDatabase(),
      }),
    );
    // Each web process renders the page once before the timed runs (the sustained rate is the figure).
    for (const { platform } of subjects)
      for (const url of platform.urls)
        await (await fetch(`${url}/letters/${platform.letter.slug}`)).arrayBuffer();

    const settings = settingsText(subjects[0]!.platform);
    const clusterText = `PostgreSQL ${version}, its defaults but \`${BENCH_CLUSTER_SETTINGS.join(' ')}\` (a unix socket only)`;
    console.log(
      `\nPostgreSQL and several web processes: ${machine()}; ${clusterText}; server ${settings}; ${SIGNATURES.toLocaleString('en')} signatures on the letter; ${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections a scenario`,
    );
    const processes = new Map<string, number>();
    const c = cluster;

    console.log('\n1. Letter page');
    const pageScenarios: Scenario[] = [
      {
        name: HELLO,
        run: () =>
          measured(HELLO, [hello.child.pid!], undefined, () =>
            runLoad({ url: hello.url, path: '/', connections: CONNECTIONS, durationS: DURATION_S }),
          ),
      },
      ...subjects.map((subject) => {
        const name = `letter page, ${subject.label}`;
        processes.set(name, subject.platform.urls.length);
        return {
          name,
          baseline: HELLO,
          run: () =>
            measured(name, subject.platform.pids, subject.onPostgres ? c : undefined, () =>
              pageLoad(subject.platform),
            ),
        };
      }),
    ];
    const pages = await alternate(ROUNDS, pageScenarios);

    console.log('\n2. Signing');
    const bareRun = (bare: RunningProcess, prefix: string) =>
      runLoad({
        url: bare.url,
        path: '/',
        connections: CONNECTIONS,
        durationS: DURATION_S,
        signing: { slug: 'bare', addressStart: 0, emailPrefix: `${prefix}${Date.now()}` },
      });
    const loads = subjects.map((subject) => new SigningLoad(subject.platform));
    const signingScenarios: Scenario[] = [
      {
        name: BARE_SQLITE,
        run: () =>
          measured(BARE_SQLITE, [bareSqlite.child.pid!], undefined, () => bareRun(bareSqlite, 'bare')),
      },
      {
        name: BARE_PG,
        run: () => measured(BARE_PG, [barePg.child.pid!], c, () => bareRun(barePg, 'barepg')),
      },
      ...subjects.map((subject, i) => {
        const name = `signing, ${subject.label}`;
        processes.set(name, subject.platform.urls.length);
        return {
          name,
          baseline: subject.onPostgres ? BARE_PG : BARE_SQLITE,
          run: () =>
            measured(name, subject.platform.pids, subject.onPostgres ? c : undefined, () =>
              loads[i]!.run({ connections: CONNECTIONS, durationS: DURATION_S }),
            ),
        };
      }),
    ];
    const signing = await alternate(ROUNDS, signingScenarios);

    const checks = await Promise.all(loads.map((load) => load.verify()));
    const stored = subjects
      .map(({ label }, i) => {
        const check = checks[i]!;
        return `${label}: ${check.present.toLocaleString('en')} of ${check.acknowledged.toLocaleString('en')}${check.present === check.acknowledged ? '' : ' — MISSING SIGNATURES'}`;
      })
      .join('; ');

    const report = [
      `Measured ${started.toISOString().slice(0, 16).replace('T', ' ')} UTC (load average ${loadAverage} at the start) on ${machine()}; ${clusterText}; ` +
        `servers ${settings}; ${SIGNATURES.toLocaleString('en')} confirmed signatures on the letter; ` +
        `${ROUNDS} rounds × ${DURATION_S} s, ${CONNECTIONS} connections a scenario (shared out among its web processes), medians of rounds.`,
      '',
      `Letter page (anonymous GET, after one render per web process):`,
      '',
      table(pages, `letter page, ${subjects[0]!.label}`, processes),
      '',
      `Signing through the real form (each request its own client address and e-mail address):`,
      '',
      table(signing, `signing, ${subjects[0]!.label}`, processes),
      '',
      `Every acknowledged signature (303) in its database afterwards: ${stored}.`,
    ].join('\n');
    console.log(`\n${report}`);
    writeDocs(report);
    const file = writeResults('postgres', {
      settings: subjects[0]!.platform.settings,
      postgres: { version, settings: BENCH_CLUSTER_SETTINGS },
      rounds: ROUNDS,
      durationS: DURATION_S,
      connections: CONNECTIONS,
      signatures: SIGNATURES,
      pages,
      signing,
      cpuPerAnswerUs: Object.fromEntries(cpuPerAnswer),
      // Not "acknowledged": writeResults leaves out fields of that name (lists of addresses elsewhere).
      acknowledgedInDatabase: Object.fromEntries(
        subjects.map(({ label }, i) => [
          label,
          {
            answered303: checks[i]!.acknowledged,
            present: checks[i]!.present,
            rowsInLetter: checks[i]!.rowsInLetter,
          },
        ]),
      ),
    });
    console.log(`\nResults: ${path.relative(ROOT, file)}`);
    if (checks.some((check) => check.present !== check.acknowledged)) process.exitCode = 1;
  } finally {
    await teardown();
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
