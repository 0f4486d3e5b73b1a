/**
 * Stops the benchmark's PostgreSQL when the benchmark's process is gone, however it went: `npx tsx`
 * answers a Ctrl-C that the script cannot acknowledge within 30 ms (busy in synchronous work, such as
 * preparing the database) with SIGKILL, and no handler of the script runs then. Started detached by
 * bench/lib/postgres.ts with: the benchmark's pid, the cluster's folder, and the command that stops it.
 * It also ends when the folder is gone (the benchmark stopped the cluster itself).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';

const [parent, dir, ...stopCommand] = process.argv.slice(2);
if (!parent || !dir || stopCommand.length === 0)
  throw new Error('usage: <pid> <cluster folder> <stop command…>');

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

const timer = setInterval(() => {
  if (!existsSync(dir)) {
    clearInterval(timer);
    return;
  }
  if (alive(Number(parent))) return;
  clearInterval(timer);
  spawnSync(stopCommand[0]!, stopCommand.slice(1), { stdio: 'ignore' });
  rmSync(dir, { recursive: true, force: true });
}, 500);
