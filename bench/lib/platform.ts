/**
 * The platform as a benchmark runs it: the production build in its own process, on a fresh database
 * (bench/lib/data.ts) in a temp folder, with the settings a production deployment behind one proxy
 * would use, mail to the SMTP sink in a process of its own, and no demo seeding at start (the database
 * is prepared before). On PostgreSQL (bench/lib/postgres.ts) the same prepared data is copied into a new
 * database of the benchmark's cluster, and one or more web processes serve it.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { DatabaseLocation } from '../../server/config.js';
import { copyToPostgres, prepareDatabase, type BenchLetter } from './data.js';
import type { BenchCluster } from './postgres.js';
import { forkListening, freePort, ROOT, startPlatform, type RunningProcess } from './processes.js';

/** LOG_LEVEL of the server under test: info by default, as production runs it (a pino line per request). */
export const LOG_LEVEL = process.env.BENCH_LOG_LEVEL ?? 'info';
const SECRET = 'bench-secret-bench-secret-bench-secret-0';

/**
 * BENCH_SERVER_ENV="NAME=value NAME=value": settings for every platform a benchmark starts, over the
 * benchmark's own (e.g. OVERLOAD_MAX_LAG_MS=0 to profile without load shedding). Printed with the results.
 */
function serverEnvFromBench(): Record<string, string> {
  const pairs = (process.env.BENCH_SERVER_ENV ?? '').split(/\s+/).filter(Boolean);
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at < 1) throw new Error(`BENCH_SERVER_ENV: "${pair}" is not NAME=value`);
      return [pair.slice(0, at), pair.slice(at + 1)];
    }),
  );
}

/** Where the server under test listens and where it sends mail. */
export interface BenchServerAddresses {
  readonly port: number;
  /** The SMTP sink's URL, e.g. `smtp://127.0.0.1:2525`. */
  readonly smtpUrl: string;
}

/**
 * The production settings every benchmark starts the server under test with (behind one proxy, no proof
 * of work, no mail worker, no demo seeding), kept in one place so the benchmarks measure the same server.
 */
export function benchServerSettings({ port, smtpUrl }: BenchServerAddresses): Record<string, string> {
  return {
    NODE_ENV: 'production',
    TRUST_PROXY: '1',
    LOG_LEVEL,
    PROOF_OF_WORK: '0',
    RUN_MAIL_WORKER: '0',
    SEED_DEMO: '0',
    SMTP_URL: smtpUrl,
    PUBLIC_URL: `http://127.0.0.1:${port}`,
  };
}

/** A running platform and what the benchmark needs to know of it. */
export interface BenchPlatform {
  /** The first (or only) web process's URL. */
  readonly url: string;
  /** Every web process's URL, one port each (as a proxy in front would reach them). */
  readonly urls: readonly string[];
  readonly letter: BenchLetter;
  /** Where its data is: the SQLite file, or the PostgreSQL database every web process shares. */
  readonly database: DatabaseLocation;
  readonly secret: string;
  /** The settings it was started with, for the report (no secrets among them but SECRET_KEY, left out). */
  readonly settings: Readonly<Record<string, string>>;
  /** The first web process's id, for reading its CPU time (bench/lib/cpu.ts). */
  readonly pid: number;
  /** Every web process's id. */
  readonly pids: readonly number[];
  stop(): Promise<void>;
}

/** What to start. */
export interface BenchPlatformOptions {
  /** Confirmed signatures on the benchmark letter. */
  readonly signatures: number;
  /** Variables on top of the defaults below (e.g. PROOF_OF_WORK, RUN_MAIL_WORKER). */
  readonly env?: Readonly<Record<string, string>>;
  /** Runs the server with --cpu-prof, writing the profile into this folder on exit. */
  readonly cpuProfileDir?: string;
  /** Serves a new database of this cluster instead of the SQLite file (DATABASE_URL, pool size default). */
  readonly postgres?: BenchCluster;
  /** Web processes on the one database (default 1; more only on PostgreSQL), each on its own port. */
  readonly processes?: number;
}

/** Starts the SMTP sink (bench/smtp-sink-process.ts) in its own process. */
export function startSmtpSink(): Promise<RunningProcess> {
  return forkListening(path.join(ROOT, 'bench', 'smtp-sink-process.ts'));
}

/** Prepares a database, starts the sink and the platform's web processes, and waits until they answer. */
export async function startBenchPlatform(options: BenchPlatformOptions): Promise<BenchPlatform> {
  const processes = options.processes ?? 1;
  if (processes > 1 && !options.postgres) throw new Error('several web processes need PostgreSQL');
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const databasePath = path.join(dataDir, 'undersigned.sqlite');
  const servers: RunningProcess[] = [];
  let sink: RunningProcess | undefined;
  const stopProcesses = async () => {
    await Promise.all(servers.map((server) => server.stop()));
    await sink?.stop();
  };
  // Whatever ends the benchmark (an error, Ctrl-C, even halfway through this start) takes the platform's
  // processes (asked to stop: 'exit' cannot wait for them) and its folder too.
  const onExit = () => {
    for (const child of [...servers, ...(sink ? [sink] : [])]) child.child.kill('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  process.once('exit', onExit);
  const stop = async () => {
    await stopProcesses();
    rmSync(dataDir, { recursive: true, force: true });
    process.off('exit', onExit);
  };
  try {
    const letter = await prepareDatabase(databasePath, SECRET, options.signatures);
    let database: DatabaseLocation = { dialect: 'sqlite', path: databasePath };
    if (options.postgres) {
      const url = await options.postgres.createDatabase();
      await copyToPostgres(databasePath, url);
      // The default pool size, as a deployment that sets none runs.
      database = { dialect: 'postgres', url, poolSize: 10 };
    }
    sink = await startSmtpSink();
    const ports: number[] = [];
    for (let i = 0; i < processes; i++) ports.push(await freePort());
    // Behind one proxy every web process has the same public address: the first port's stands for it.
    const settings: Record<string, string> = {
      ...benchServerSettings({ port: ports[0]!, smtpUrl: `smtp://127.0.0.1:${sink.port}` }),
      ...(database.dialect === 'postgres' ? { DATABASE_URL: database.url } : {}),
      ...options.env,
      ...serverEnvFromBench(),
    };
    // One after another: each start checks the schema, and the second waits for nothing then.
    for (const [i, port] of ports.entries()) {
      servers.push(
        await startPlatform({
          port,
          env: { ...settings, DATA_DIR: dataDir, SECRET_KEY: SECRET },
          logFile: path.join(dataDir, processes > 1 ? `server-${i + 1}.log` : 'server.log'),
          ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
        }),
      );
    }
    return {
      url: servers[0]!.url,
      urls: servers.map((server) => server.url),
      letter,
      database,
      secret: SECRET,
      settings,
      pid: servers[0]!.child.pid!,
      pids: servers.map((server) => server.child.pid!),
      stop,
    };
  } catch (error) {
    // The folder goes, so the error carries the end of the server logs that say why.
    const logs = readdirSync(dataDir)
      .filter((name) => name.endsWith('.log'))
      .map(
        (name) =>
          `${name}:\n${readFileSync(path.join(dataDir, name), 'utf8').split('\n').slice(-20).join('\n')}`,
      );
    await stop();
    throw new Error([String(error), ...logs].join('\n'), { cause: error });
  }
}

/**
 * The CSRF token and cookie of the signing form, when the letter page has them (CSRF by token); none
 * when anonymous forms are protected by Fetch Metadata and Origin instead.
 */
export async function signingCsrf(
  url: string,
  slug: string,
): Promise<{ token: string; cookie: string } | undefined> {
  const page = await fetch(`${url}/letters/${slug}`);
  const token = /name="_csrf" value="([^"]+)"/.exec(await page.text())?.[1];
  if (!token) return undefined;
  const cookie = page.headers
    .getSetCookie()
    .map((c) => c.split(';')[0])
    .join('; ');
  return { token, cookie };
}

/** The settings that shape the figures, as NAME=value (addresses and ports left out). */
export function settingsText(platform: BenchPlatform): string {
  return Object.entries(platform.settings)
    .filter(([name]) => !['SMTP_URL', 'PUBLIC_URL', 'DATABASE_URL'].includes(name))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
