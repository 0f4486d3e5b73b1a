/**
 * The PostgreSQL the benchmarks run on: a throwaway cluster in a temp folder, started as the tests start
 * theirs (tests/support/postgres.ts: initdb and pg_ctl as the postgres account, reached through a unix
 * socket in the folder, no network port), but with PostgreSQL's default settings: fsync, full-page
 * writes and synchronous commit on, as a deployment that changes nothing runs. It is stopped and its
 * folder removed when the benchmark's process exits, whatever the reason.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { administer, postgresBinaries, startTestCluster } from '../../tests/support/postgres.js';
import { processTreeCpuMs } from './cpu.js';
import { ROOT } from './processes.js';

/** Every setting the benchmark's cluster is started with: the defaults but the socket-only listening. */
export const BENCH_CLUSTER_SETTINGS: readonly string[] = ["listen_addresses=''"];

/** A running cluster for a benchmark. */
export interface BenchCluster {
  /** Creates a new, empty database and returns its URL. */
  createDatabase(): Promise<string>;
  /** CPU milliseconds the server has used so far, its backends included (bench/lib/cpu.ts). */
  cpuMs(): number;
  /** The PostgreSQL version, as the server reports it. */
  version(): Promise<string>;
  /** Stops the server at once and removes its folder (idempotent). */
  stop(): void;
}

/** Starts a cluster with BENCH_CLUSTER_SETTINGS; it is stopped on exit if `stop` was not called before. */
export function startBenchCluster(): BenchCluster {
  const cluster = startTestCluster(BENCH_CLUSTER_SETTINGS);
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    cluster.stop();
  };
  // 'exit' handlers run synchronously, and stop() is (pg_ctl through spawnSync): an error or
  // process.exit() anywhere in the benchmark still stops the server.
  process.once('exit', stop);
  watchOver(cluster.dir);
  const postmaster = Number(
    readFileSync(path.join(cluster.dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0],
  );
  let databases = 0;
  return {
    async createDatabase() {
      databases += 1;
      const name = `bench_${databases}`;
      await administer(cluster.url, `create database ${name}`);
      return cluster.url(name);
    },
    cpuMs: () => processTreeCpuMs(postmaster),
    async version() {
      const client = new pg.Client({ connectionString: cluster.url('postgres') });
      await client.connect();
      try {
        return String((await client.query('show server_version')).rows[0]?.server_version ?? 'unknown');
      } finally {
        await client.end();
      }
    },
    stop,
  };
}

/** Starts bench/lib/cluster-watchdog.ts, detached, to stop the cluster in `dir` if this process dies unawares. */
function watchOver(dir: string): void {
  const bin = postgresBinaries();
  const pgCtl = [
    bin ? path.join(bin, 'pg_ctl') : 'pg_ctl',
    'stop',
    '-D',
    path.join(dir, 'data'),
    '-m',
    'immediate',
  ];
  const stopCommand = process.getuid?.() === 0 ? ['runuser', '-u', 'postgres', '--', ...pgCtl] : pgCtl;
  spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      path.join(import.meta.dirname, 'cluster-watchdog.ts'),
      String(process.pid),
      dir,
      ...stopCommand,
    ],
    { cwd: ROOT, detached: true, stdio: 'ignore' },
  ).unref();
}
