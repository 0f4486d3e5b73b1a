import { execFileSync, spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * The tests' own PostgreSQL: a throwaway cluster in a temporary folder, started from the installed
 * binaries and reached only through a unix socket in that folder (no network port). Built for speed,
 * not safety: no fsync, no full-page writes, since a crash only loses a test run.
 */
export interface TestCluster {
  /** The folder holding the data directory and the socket. */
  readonly dir: string;
  /** A connection URL for `database` in this cluster. */
  url(database: string): string;
  stop(): void;
}

/** The database the migrated template is kept in; every test database is created from it. */
export const TEMPLATE_DATABASE = 'undersigned_template';

/**
 * The folder of initdb, pg_ctl and postgres: PG_BIN, else the newest /usr/lib/postgresql/<version>/bin
 * (Debian's layout), else '' (found on PATH).
 */
export function postgresBinaries(): string {
  if (process.env.PG_BIN) return process.env.PG_BIN;
  const root = '/usr/lib/postgresql';
  if (existsSync(root)) {
    const versions = readdirSync(root)
      .filter((name) => /^\d+$/.test(name) && existsSync(path.join(root, name, 'bin', 'initdb')))
      .sort((a, b) => Number(b) - Number(a));
    if (versions[0]) return path.join(root, versions[0], 'bin');
  }
  return '';
}

/** The cluster's settings: small memory, enough connections for every test file's pools at once. */
const SERVER_OPTIONS = [
  "listen_addresses=''",
  'fsync=off',
  'synchronous_commit=off',
  'full_page_writes=off',
  'max_connections=300',
  'shared_buffers=32MB',
  // Test databases live for seconds: vacuuming them is work for nothing on a shared 2-core machine.
  'autovacuum=off',
];

/**
 * Runs a PostgreSQL program. initdb and postgres refuse to run as root, and CI and this machine run the
 * tests as root: there they run as the `postgres` account, which owns the cluster's folder.
 */
function run(bin: string, program: string, args: string[]): void {
  const executable = bin ? path.join(bin, program) : program;
  const asRoot = process.getuid?.() === 0;
  const [command, argv] = asRoot
    ? ['runuser', ['-u', 'postgres', '--', executable, ...args]]
    : [executable, args];
  const result = spawnSync(command, argv, { encoding: 'utf8', cwd: os.tmpdir() });
  if (result.status !== 0)
    throw new Error(
      `${program} failed (${result.status ?? result.signal}): ${result.error?.message ?? ''}${result.stderr}`,
    );
}

/**
 * Initialises and starts a fresh cluster in a new temporary folder, with the tests' settings unless given
 * others (the benchmarks keep PostgreSQL's defaults: `listen_addresses=''` alone).
 */
export function startTestCluster(settings: readonly string[] = SERVER_OPTIONS): TestCluster {
  const bin = postgresBinaries();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-pg-'));
  if (process.getuid?.() === 0) {
    const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }));
    const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }));
    chownSync(dir, uid, gid);
  }
  const data = path.join(dir, 'data');
  try {
    // C.UTF-8: text sorts by code point, as in SQLite, whatever the machine's locale.
    run(bin, 'initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8']);
    const options = [...settings.map((o) => `-c ${o}`), `-k ${dir}`].join(' ');
    run(bin, 'pg_ctl', ['start', '-w', '-D', data, '-l', path.join(dir, 'server.log'), '-o', options]);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    dir,
    url: (database) => `postgres://postgres@/${database}?host=${encodeURIComponent(dir)}`,
    stop() {
      try {
        run(bin, 'pg_ctl', ['stop', '-D', data, '-m', 'immediate']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

/** Runs `statements` one by one on the cluster's maintenance database (`postgres`). */
export async function administer(clusterUrl: (database: string) => string, ...statements: string[]) {
  const client = new pg.Client({ connectionString: clusterUrl('postgres') });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}
