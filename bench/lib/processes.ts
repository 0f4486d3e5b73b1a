/**
 * The processes a benchmark runs beside it: the production build of the platform, the baselines, the
 * SMTP sink and the load generator each get a process of their own, so none shares an event loop with
 * the code it measures (on 2 cores they still share the machine: that is what the same-run ratios are for).
 */
import { execFileSync, fork, spawn, type ChildProcess } from 'node:child_process';
import { openSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The checkout's root: bench/ lives directly under it. */
export const ROOT = path.resolve(import.meta.dirname, '..', '..');

/** A child process listening on a port, and how to stop it. */
export interface RunningProcess {
  readonly url: string;
  readonly port: number;
  readonly child: ChildProcess;
  /** SIGTERM, then waits for the exit (SIGKILL after `graceMs`). */
  stop(graceMs?: number): Promise<void>;
}

function stopper(child: ChildProcess): (graceMs?: number) => Promise<void> {
  return async (graceMs = 20_000) => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await exited;
    clearTimeout(timer);
  };
}

/**
 * Forks a TypeScript file (through tsx) that sends `{ port }` over IPC once it listens. Its own
 * console output goes to ours, so a failing baseline says why.
 */
export async function forkListening(file: string, env: Record<string, string> = {}): Promise<RunningProcess> {
  const child = fork(file, [], {
    execArgv: ['--import', 'tsx'],
    env: { ...process.env, ...env },
  });
  const port = await new Promise<number>((resolve, reject) => {
    child.once('message', (message) => resolve((message as { port: number }).port));
    child.once('error', reject);
    child.once('exit', (code) =>
      reject(new Error(`${path.basename(file)} exited with ${code} before listening`)),
    );
  });
  return { url: `http://127.0.0.1:${port}`, port, child, stop: stopper(child) };
}

let built = false;

/** `npm run build` once per benchmark process: every run measures the code as it is now. */
export function buildProduction(): void {
  if (built) return;
  execFileSync('npm', ['run', 'build', '--silent'], { cwd: ROOT, stdio: 'inherit' });
  built = true;
}

/** Options for the platform's own process. */
export interface PlatformOptions {
  readonly port: number;
  /** Variables on top of the benchmark's production defaults (NODE_ENV, TRUST_PROXY, …). */
  readonly env: Record<string, string>;
  /** Where stdout and stderr go (pino writes a line per request at LOG_LEVEL=info, as in production). */
  readonly logFile: string;
  /** When set, the server runs with --cpu-prof and writes its profile here on exit. */
  readonly cpuProfileDir?: string;
}

/** Starts `node dist/server/main.js` (the production build) and waits until /healthz answers. */
export async function startPlatform(options: PlatformOptions): Promise<RunningProcess> {
  buildProduction();
  const log = openSync(options.logFile, 'a');
  const args = [
    '--enable-source-maps',
    ...(options.cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
    path.join(ROOT, 'dist', 'server', 'main.js'),
  ];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', ...options.env, PORT: String(options.port), HOST: '127.0.0.1' },
    stdio: ['ignore', log, log],
  });
  const url = `http://127.0.0.1:${options.port}`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null)
      throw new Error(`the platform exited with ${child.exitCode}: see ${options.logFile}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (Date.now() > deadline)
      throw new Error(`the platform did not answer /healthz within 60 s: see ${options.logFile}`);
    await sleep(100);
  }
  return { url, port: options.port, child, stop: stopper(child) };
}

/** A free port in 3500–3999 (the range this machine's benchmarks use), tried at random. */
export async function freePort(): Promise<number> {
  for (;;) {
    const port = 3500 + Math.floor(Math.random() * 500);
    const free = await new Promise<boolean>((resolve) => {
      const probe = createServer();
      probe.once('error', () => resolve(false));
      probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
    });
    if (free) return port;
  }
}
