import { chmodSync, closeSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import SQLite from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  PostgresDialect,
  sql,
  SqliteDialect,
  type DatabaseConnection,
  type Driver,
  type QueryResult,
  type Transaction,
  type TransactionSettings,
} from 'kysely';
import pg from 'pg';
import Cursor from 'pg-cursor';
import type { DatabaseLocation } from '../config.js';
import { dialectOf, type DialectName } from './dialect.js';
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
 * An open database, SQLite or PostgreSQL: the Kysely instance every repository takes, and what the
 * platform around it needs from the connection layer itself.
 */
export interface DatabaseHandle {
  readonly db: Db;
  readonly dialect: DialectName;
  /** The connection under `db`, on SQLite only (the checkpointer and SQLite's own tests use it). */
  readonly sqlite?: SQLite.Database;
  /**
   * Changes whenever the database may have changed; synchronous, as caches ask it on every hit. It moves
   * after every commit this handle makes, and (within about a second on PostgreSQL) after other processes'.
   */
  writeMark(): string;
  /**
   * Resolves once the database answers a trivial query, rejects when it cannot (PostgreSQL down or
   * unreachable within HEALTH_TIMEOUT_MS): what `/healthz` tells a load balancer.
   */
  ping(): Promise<void>;
  /** Stops the background work (PostgreSQL's poll) and closes every connection. */
  close(): Promise<void>;
}

/** An open SQLite database, with its connection. */
export interface SqliteHandle extends DatabaseHandle {
  readonly dialect: 'sqlite';
  readonly sqlite: SQLite.Database;
}

/**
 * Opens the database at `location`: an SQLite file (a path, or `{ dialect: 'sqlite' }`) or a PostgreSQL
 * database through a pool.
 */
export function openDatabase(location: string | { dialect: 'sqlite'; path: string }): SqliteHandle;
export function openDatabase(location: DatabaseLocation): DatabaseHandle;
export function openDatabase(location: string | DatabaseLocation): DatabaseHandle {
  if (typeof location === 'string') return openSqlite(location);
  if (location.dialect === 'sqlite') return openSqlite(location.path);
  return openPostgres(location.url, location.poolSize);
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
function openSqlite(filename: string): SqliteHandle {
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
  const probe = sqlite.prepare('select 1');
  return {
    db,
    dialect: 'sqlite',
    sqlite,
    writeMark: databaseWriteMark(sqlite),
    // Directly on the connection, like the write mark: the file is local, the answer immediate.
    ping: async () => void probe.get(),
    close: () => db.destroy(),
  };
}

/**
 * The database holds every supporter's address: its file, write-ahead log and shared-memory index are
 * readable by this account only (0600), and a new folder for it too (0700). The file is made before
 * SQLite opens it, because SQLite creates the -wal and -shm files with the database file's mode; files
 * left wider by an older version or a copy are tightened at every start.
 */
function makePrivate(filename: string): void {
  mkdirSync(path.dirname(filename), { recursive: true, mode: 0o700 });
  // Made only when missing ('wx'), never opened when it exists: SQLite's locks are the process's POSIX
  // locks, and closing any descriptor of the file drops them all, the open connections' too. Every
  // further connection (an export's reader, a delivery's compiler) did, and the next process to close the
  // file (a backup with the sqlite3 tool, `npm run user:create`) took itself for the last one, checkpointed
  // and deleted the log this process was still writing into: two databases from then on.
  try {
    closeSync(openSync(filename, 'wx', 0o600));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  }
  for (const file of [filename, `${filename}-wal`, `${filename}-shm`]) {
    try {
      chmodSync(file, 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}

/**
 * Makes erased data leave the database's files now rather than whenever the database next tidies up.
 *
 * SQLite: writes the write-ahead log into the database file and empties it. After an erasure the log
 * still holds older copies of the pages that had the person in them (secure_delete has zeroed the freed
 * space in the file itself). Best effort: with a long read running, part of the log waits for the next
 * checkpoint.
 *
 * PostgreSQL: an update or delete leaves the old row version in the table's pages until VACUUM removes
 * it; autovacuum would get there only when enough rows changed. VACUUM here removes the erased versions
 * (and their index entries) at once, without locking out signings as VACUUM FULL would; the pages reach
 * the files at the server's next checkpoint. The server's own write-ahead log, its archive and backups
 * keep the old versions until they are recycled or expire (see the README's PostgreSQL section).
 */
export async function flushWriteAheadLog(db: Db): Promise<void> {
  if (dialectOf(db) === 'postgres') {
    await sql`vacuum`.execute(db);
    return;
  }
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

/** How often a PostgreSQL handle asks the server whether another process committed. */
export const POSTGRES_WRITE_POLL_MS = 500;

/** int8 (count(*), bigint ids) and numeric (sum()) as JS numbers: every figure we keep fits in 2^53. */
const PG_INT8 = 20;
const PG_NUMERIC = 1700;
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8 || oid === PG_NUMERIC
      ? (value: string) => Number(value)
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

/**
 * Opens a pool of `poolSize` connections to the PostgreSQL database at `url`. The write mark is the
 * server's current snapshot (`pg_current_snapshot()`: the next transaction id and those still running),
 * which changes when any writing transaction starts or ends and not for reads, checkpoints or vacuums
 * (which move `pg_current_wal_insert_lsn()`). It is read again on the connection that wrote, right after
 * each commit of this process and before the commit's caller goes on (CountingDriver), so a process
 * never serves a page older than its own writes and a write does not empty the caches twice; and every
 * POSTGRES_WRITE_POLL_MS for other processes' commits. A counter of this process's commits stays in
 * the mark too, so it moves even if that read fails. The snapshot is the whole cluster's: another
 * database's writes empty our caches for nothing, never keep them too long. A per-database change
 * counter would need a trigger on every table, and pg_stat_database lags by up to seconds.
 */
function openPostgres(url: string, poolSize: number): DatabaseHandle {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: 'undersigned',
    types: pgTypes,
  });
  // An idle connection the server drops (a restart, a proxy) must not take the process down.
  pool.on('error', () => {});
  let ownWrites = 0;
  let snapshot = '';
  // Reads of the snapshot can answer out of order (the poll on one connection, a commit's on another):
  // only an answer to a later question than the one applied is taken, so the mark never goes back.
  let asked = 0;
  let applied = 0;
  const readSnapshot = async (run: (query: CompiledQuery) => Promise<QueryResult<unknown>>) => {
    const question = ++asked;
    try {
      const { rows } = await run(SNAPSHOT);
      if (question > applied) {
        applied = question;
        snapshot = (rows[0] as { mark: string }).mark;
      }
    } catch {
      // Unreachable for a moment: the mark moves, so nothing is kept on a state we cannot see.
      if (question > applied) {
        applied = question;
        snapshot = `unknown-${question}`;
      }
    }
  };
  const postgres = new PostgresDialect({ pool, cursor: Cursor });
  const db = new Kysely<Database>({
    dialect: {
      createAdapter: () => postgres.createAdapter(),
      createIntrospector: (kysely) => postgres.createIntrospector(kysely),
      createQueryCompiler: () => postgres.createQueryCompiler(),
      createDriver: () =>
        new CountingDriver(postgres.createDriver(), async (connection) => {
          ownWrites += 1;
          await readSnapshot((query) => connection.executeQuery(query));
        }),
    },
  });
  let polling: Promise<void> | undefined;
  const poll = () => {
    polling ??= readSnapshot((query) => db.executeQuery(query)).finally(() => {
      polling = undefined;
    });
  };
  poll();
  const timer = setInterval(poll, POSTGRES_WRITE_POLL_MS);
  timer.unref();
  return {
    db,
    dialect: 'postgres',
    writeMark: () => `${ownWrites}:${snapshot}`,
    async ping() {
      let timer: NodeJS.Timeout | undefined;
      const late = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('no answer from PostgreSQL in time')), HEALTH_TIMEOUT_MS);
      });
      try {
        await Promise.race([db.executeQuery(PING), late]);
      } finally {
        clearTimeout(timer);
      }
    },
    async close() {
      clearInterval(timer);
      await polling;
      await db.destroy();
    },
  };
}

/** How long `/healthz` waits for PostgreSQL: a load balancer's check must not hang on a full pool. */
const HEALTH_TIMEOUT_MS = 2_000;
const PING = CompiledQuery.raw('select 1');

/** The statement that reads PostgreSQL's write mark (tests that trace a use case's statements leave it out). */
export const WRITE_MARK_SQL = 'select pg_current_snapshot()::text as mark';
const SNAPSHOT = CompiledQuery.raw(WRITE_MARK_SQL);

/** Connections inside a transaction: their writes count at the commit, never before it. */
const inTransaction = new WeakSet<DatabaseConnection>();

/** Statements that change nothing: anything else run outside a transaction counts as a write. */
const READS = /^\s*(select|show|begin|start|savepoint|release|rollback|set|explain|values)\b/i;

/**
 * Kysely's driver, telling `onWrite` (and waiting for it, with the connection that wrote) after every
 * commit and every statement outside a transaction that may have written (autocommit), once the server
 * has answered.
 */
class CountingDriver implements Driver {
  private readonly inner = new WeakMap<DatabaseConnection, DatabaseConnection>();

  constructor(
    private readonly driver: Driver,
    private readonly onWrite: (connection: DatabaseConnection) => Promise<void>,
  ) {}

  init(): Promise<void> {
    return this.driver.init();
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    const connection = await this.driver.acquireConnection();
    const onWrite = this.onWrite;
    const counting: DatabaseConnection = {
      async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
        const result = await connection.executeQuery<R>(query);
        // An insert, update or delete says how many rows it changed (none: nothing to tell, so a look
        // such as a job claim that matched no row keeps the caches); any other statement but a read
        // (DDL, VACUUM, a function that writes) may have changed something.
        const wrote =
          result.numAffectedRows !== undefined ? result.numAffectedRows > 0n : !READS.test(query.sql);
        if (wrote && !inTransaction.has(connection)) await onWrite(connection);
        return result;
      },
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number) =>
        connection.streamQuery<R>(query, chunkSize),
    };
    this.inner.set(counting, connection);
    return counting;
  }

  private unwrap(connection: DatabaseConnection): DatabaseConnection {
    return this.inner.get(connection) ?? connection;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings): Promise<void> {
    await this.driver.beginTransaction(this.unwrap(connection), settings);
    inTransaction.add(this.unwrap(connection));
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const inner = this.unwrap(connection);
    inTransaction.delete(inner);
    await this.driver.commitTransaction(inner);
    await this.onWrite(inner);
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const inner = this.unwrap(connection);
    inTransaction.delete(inner);
    await this.driver.rollbackTransaction(inner);
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['savepoint']>>[2],
  ): Promise<void> {
    return this.driver.savepoint!(this.unwrap(connection), name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['rollbackToSavepoint']>>[2],
  ): Promise<void> {
    return this.driver.rollbackToSavepoint!(this.unwrap(connection), name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: Parameters<NonNullable<Driver['releaseSavepoint']>>[2],
  ): Promise<void> {
    return this.driver.releaseSavepoint!(this.unwrap(connection), name, compile);
  }

  async releaseConnection(connection: DatabaseConnection): Promise<void> {
    await this.driver.releaseConnection(this.unwrap(connection));
    this.inner.delete(connection);
  }

  destroy(): Promise<void> {
    return this.driver.destroy();
  }
}
