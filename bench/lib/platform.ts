/**
 * The platform as a benchmark runs it: the production build in its own process, on a fresh database
 * (bench/lib/data.ts) in a temp folder, with the settings a production deployment behind one proxy
 * would use, mail to the SMTP sink in a process of its own, and no demo seeding at start (the database
 * is prepared before).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { prepareDatabase, type BenchLetter } from './data.js';
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
  readonly url: string;
  readonly letter: BenchLetter;
  readonly databasePath: string;
  readonly secret: string;
  /** The settings it was started with, for the report (no secrets among them but SECRET_KEY, left out). */
  readonly settings: Readonly<Record<string, string>>;
  /** The server's process id, for reading its CPU time (bench/lib/cpu.ts). */
  readonly pid: number;
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
}

/** Starts the SMTP sink (bench/smtp-sink-process.ts) in its own process. */
export function startSmtpSink(): Promise<RunningProcess> {
  return forkListening(path.join(ROOT, 'bench', 'smtp-sink-process.ts'));
}

/** Prepares a database, starts the sink and the platform, and waits until it answers. */
export async function startBenchPlatform(options: BenchPlatformOptions): Promise<BenchPlatform> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-'));
  const databasePath = path.join(dataDir, 'undersigned.sqlite');
  const letter = await prepareDatabase(databasePath, SECRET, options.signatures);
  const sink = await startSmtpSink();
  const port = await freePort();
  const settings: Record<string, string> = {
    ...benchServerSettings({ port, smtpUrl: `smtp://127.0.0.1:${sink.port}` }),
    ...options.env,
    ...serverEnvFromBench(),
  };
  let server: RunningProcess;
  try {
    server = await startPlatform({
      port,
      env: { ...settings, DATA_DIR: dataDir, SECRET_KEY: SECRET },
      logFile: path.join(dataDir, 'server.log'),
      ...(options.cpuProfileDir ? { cpuProfileDir: options.cpuProfileDir } : {}),
    });
  } catch (error) {
    await sink.stop();
    throw error;
  }
  return {
    url: server.url,
    letter,
    databasePath,
    secret: SECRET,
    settings,
    pid: server.child.pid!,
    async stop() {
      await server.stop();
      await sink.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
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
    .filter(([name]) => !['SMTP_URL', 'PUBLIC_URL'].includes(name))
    .map(([name, value]) => `${name}=${value}`)
    .join(' ');
}
