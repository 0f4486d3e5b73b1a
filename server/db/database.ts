import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import { Kysely, sql, SqliteDialect, type Transaction } from 'kysely';
import { withStatementCache } from './statement-cache.js';
import type { Database } from './tables.js';

export type Db = Kysely<Database>;
export type Tx = Transaction<Database>;
/** Either the database or an open transaction: repositories accept both so services choose the boundary. */
export type Executor = Kysely<Database> | Transaction<Database>;

/**
 * A mark that changes whenever the database may have changed: this connection's row changes
 * (total_changes(), which its own commits do not move in data_version) and the commits of every other
 * connection, in this process or another (data_version). One prepared statement that reads no table, run
 * directly: the page cache asks for it on every hit, and through Kysely's driver (query, connection
 * mutex, promises) it cost more than the rest of the hit's own work.
 * Never while a statement of this connection iterates (better-sqlite3 throws): exports use their own reader.
 */
export function databaseWriteMark(sqlite: SQLite.Database): () => string {
  const statement = sqlite.prepare<[], { mark: string }>(
    "select total_changes() || ':' || data_version as mark from pragma_data_version",
  );
  return () => statement.get()!.mark;
}

/**
 * Opens the SQLite file with the pragmas the platform relies on:
 * - WAL: readers never block the writer, so pages stay fast while signatures are written;
 * - synchronous=NORMAL: in WAL mode a power cut can lose the last transactions but never corrupts the
 *   file; a crash of the process alone loses nothing. Worth it for an order of magnitude more commits/s;
 * - foreign_keys=ON: SQLite leaves them off unless asked;
 * - busy_timeout: a second process (npm run worker) waits for the lock instead of failing;
 * - secure_delete: erased and anonymised data is overwritten with zeros, not left in free pages of
 *   the file (or its backups) where anyone with a copy could read it.
 */
export function openDatabase(filename: string): { db: Db; sqlite: SQLite.Database } {
  if (filename !== ':memory:') makePrivate(filename);
  const sqlite = new SQLite(filename);
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = NORMAL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 5000');
  sqlite.pragma('secure_delete = ON');
  // SQLite's own lower() folds ASCII letters only, so "олена" would never find "Олена". This one folds
  // every script, as Postgres's lower() does, and the SQL stays the same for both.
  sqlite.function('lower', { deterministic: true }, (value: unknown) =>
    value === null ? null : String(value).toLowerCase(),
  );
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
  return { db, sqlite };
}

/**
 * The database holds every supporter's address: its file, write-ahead log and shared-memory index are
 * readable by this account only (0600), and a new folder for it too (0700). The file is made before
 * SQLite opens it, because SQLite creates the -wal and -shm files with the database file's mode; files
 * left wider by an older version or a copy are tightened at every start.
 */
function makePrivate(filename: string): void {
  mkdirSync(path.dirname(filename), { recursive: true, mode: 0o700 });
  closeSync(openSync(filename, 'a', 0o600));
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Writes the write-ahead log into the database file and empties it. After an erasure the log still
 * holds older copies of the pages that had the person in them; this removes them from disk at once
 * instead of whenever SQLite next checkpoints. Best effort: with a long read running, part of the log
 * waits for the next checkpoint.
 */
export async function flushWriteAheadLog(db: Db): Promise<void> {
  // A checkpoint running on another connection (the checkpointer thread's passes) makes this one answer
  // busy at once, without waiting and without copying anything: the passes are short, so try again.
  for (let attempt = 1; attempt <= FLUSH_ATTEMPTS; attempt++) {
    const { rows } = await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(db);
    if (rows[0]?.busy !== 1 || attempt === FLUSH_ATTEMPTS) return;
    await sleep(FLUSH_RETRY_MS);
  }
}
/** Few: a long read makes each attempt wait the whole busy_timeout first. */
const FLUSH_ATTEMPTS = 3;
const FLUSH_RETRY_MS = 20;
