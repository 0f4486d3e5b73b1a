/**
 * CPU time of another process, read from /proc (Linux): what the server spent, whatever the load
 * generator and the other work on a shared machine did, so CPU per request compares across busy and
 * quiet runs far better than requests per second.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** Clock ticks per second of /proc/<pid>/stat's times (USER_HZ, 100 on Linux). */
const TICKS_PER_S = 100;

/** User + system CPU milliseconds the process `pid` has used so far. */
export function processCpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // The command name may hold spaces and parentheses: the fields are counted after its last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / TICKS_PER_S;
}

/**
 * User + system CPU milliseconds of the process `pid` and of all its children, living (read from /proc)
 * and exited (the time the kernel adds to the parent's when it reaps them): a PostgreSQL server's own
 * and its backends', from its postmaster's id.
 */
export function processTreeCpuMs(pid: number): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let stat: string;
    try {
      stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
    } catch {
      continue; // Exited since the listing.
    }
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const self = Number(entry) === pid;
    if (!self && Number(fields[1]) !== pid) continue;
    // cutime and cstime (fields 16 and 17 of the line) hold the reaped children of the postmaster.
    const ticks = self
      ? Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])
      : Number(fields[11]) + Number(fields[12]);
    total += ticks;
  }
  return (total * 1000) / TICKS_PER_S;
}
