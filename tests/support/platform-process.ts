import { spawn, type ChildProcess } from 'node:child_process';
import { projectRoot } from '../../server/lib/paths.js';

/** Settings the parent process may carry that would change what the platform does; the test sets its own. */
const CONFIG_VARIABLES = [
  'NODE_ENV',
  'PORT',
  'HOST',
  'DATA_DIR',
  'DATABASE_PATH',
  'DATABASE_URL',
  'DATABASE_POOL_SIZE',
  'PUBLIC_URL',
  'SMTP_URL',
  'MAIL_FROM',
  'SECRET_KEY',
  'RUN_MAIL_WORKER',
  'TRUST_PROXY',
  'SEED_DEMO',
  'LOG_LEVEL',
  'MAIL_LEASE_SECONDS',
  'SMTP_POOL_CONNECTIONS',
  'MAIL_DOMAIN_CONNECTIONS',
  'MAIL_DOMAIN_RATE',
];

/** What `server/main.ts` and `server/worker-main.ts` print once they run. */
export const READY = {
  web: 'Undersigned is running at',
  worker: 'Undersigned mail worker is running',
} as const;

export interface PlatformProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** An entry point of the platform that runs in a process of its own. */
export type PlatformEntry = 'server/main.ts' | 'server/worker-main.ts';

/**
 * Starts an entry point of the platform in a process of its own without waiting for it to run, for tests
 * that expect it to refuse to start; the demo letters are off unless `env` sets `SEED_DEMO`.
 */
export function spawnPlatformProcess(entry: PlatformEntry, env: Record<string, string>): PlatformProcess {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !CONFIG_VARIABLES.includes(name)),
  );
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: projectRoot,
    env: { ...inherited, LOG_LEVEL: 'silent', SEED_DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  return { child, output: () => output, exited };
}

/**
 * Starts an entry point of the platform (`server/main.ts`, `server/worker-main.ts`) in a process of its
 * own, as `npm start` and `npm run worker` do but from the sources, and waits until it says it runs.
 */
export async function startPlatformProcess(
  entry: PlatformEntry,
  env: Record<string, string>,
): Promise<PlatformProcess> {
  const running = spawnPlatformProcess(entry, env);
  try {
    await until(
      running,
      () => running.output().includes(entry === 'server/main.ts' ? READY.web : READY.worker),
      'it ran',
    );
  } catch (error) {
    await killIfRunning(running);
    throw error;
  }
  return running;
}

/** Resolves once `predicate` holds; fails with the process's output if it exits first or time runs out. */
export async function until(
  running: PlatformProcess,
  predicate: () => boolean | Promise<boolean>,
  what: string,
  timeoutMs = 30_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (running.child.exitCode !== null || running.child.signalCode !== null)
      throw new Error(`the process exited before ${what}:\n${running.output()}`);
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}:\n${running.output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** How the process ended, or 'still running' if it had not after `limitMs` (it is then killed). */
export async function exitWithin(
  running: PlatformProcess,
  limitMs: number,
): Promise<{ code: number | null; signal: NodeJS.Signals | null } | 'still running'> {
  const outcome = await Promise.race([
    running.exited,
    new Promise<'still running'>((resolve) => setTimeout(() => resolve('still running'), limitMs).unref()),
  ]);
  if (outcome === 'still running') running.child.kill('SIGKILL');
  return outcome;
}

/** Kills the process if it still runs and waits until it is gone (test clean-up). */
export async function killIfRunning(running: PlatformProcess): Promise<void> {
  if (running.child.exitCode === null && running.child.signalCode === null) running.child.kill('SIGKILL');
  await running.exited;
}
