import {
  PostgresAdapter,
  sql,
  type Expression,
  type Kysely,
  type RawBuilder,
  type Transaction,
} from 'kysely';

/** The two databases the platform runs on: SQLite embedded (the default) or PostgreSQL (DATABASE_URL). */
export type DialectName = 'sqlite' | 'postgres';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyExecutor = Kysely<any> | Transaction<any>;

/**
 * Which database a Kysely instance (or an open transaction) speaks. Repositories ask this where the two
 * differ, and only through the small helpers of this module, so each difference lives in one place.
 */
export function dialectOf(db: AnyExecutor): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}

/**
 * Where `needle` first occurs in `haystack`, counting from 1, or 0 when it does not: SQLite's
 * `instr(haystack, needle)`, PostgreSQL's `strpos(haystack, needle)` (neither has the other's name, and
 * SQLite has no `position(… in …)`). Pass a constant needle as `sql.lit(…)` where the expression is also
 * grouped by: PostgreSQL matches a grouped expression by its text, and two parameters never match.
 */
export function position(
  db: AnyExecutor,
  needle: Expression<string>,
  haystack: Expression<string>,
): RawBuilder<number> {
  return dialectOf(db) === 'postgres'
    ? sql<number>`strpos(${haystack}, ${needle})`
    : sql<number>`instr(${haystack}, ${needle})`;
}

/**
 * `text` without any of the characters of `characters` at either end: SQLite's `trim(text, characters)`,
 * PostgreSQL's `btrim(text, characters)` (whose `trim` takes no second argument).
 */
export function trimCharacters(
  db: AnyExecutor,
  text: Expression<string>,
  characters: string,
): RawBuilder<string> {
  return dialectOf(db) === 'postgres'
    ? sql<string>`btrim(${text}, ${characters})`
    : sql<string>`trim(${text}, ${characters})`;
}

/**
 * 32 hexadecimal digits, drawn anew for every row a statement touches (one value from JavaScript would
 * give every row of an update the same one): SQLite's `randomblob(16)`, PostgreSQL's `gen_random_uuid()`
 * (built in since 13, from the server's strong random source; 122 of its 128 bits are random).
 */
export function randomHexPerRow(db: AnyExecutor): RawBuilder<string> {
  return dialectOf(db) === 'postgres'
    ? sql<string>`replace(cast(gen_random_uuid() as text), '-', '')`
    : sql<string>`lower(hex(randomblob(16)))`;
}

/**
 * Whether a write failed on a unique index or primary key: better-sqlite3 says `SQLITE_CONSTRAINT_UNIQUE`
 * or `SQLITE_CONSTRAINT_PRIMARYKEY`, PostgreSQL SQLSTATE 23505. On PostgreSQL such a failure also aborts
 * the transaction it happened in, so catch it outside that transaction (or inside a savepoint).
 */
export function isUniqueViolation(error: unknown): boolean {
  if (typeof error !== 'object' || error === null || !('code' in error)) return false;
  const { code } = error as { code: unknown };
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The key spaces of the advisory locks (lockUntilTransactionEnds, oneAtATime), one number per kind of
 * lock, written once here so no two kinds ever share one.
 */
export const LOCK_SPACES = {
  /** A client's signing hits, counted right after one is recorded (limits/). */
  signingHits: 1,
  /** The mail queue's claim of due messages (outbox/). */
  outboxClaim: 2,
  /** An account's API token names, read before one more is created (api/). */
  tokenNames: 3,
  /** A letter's webhook addresses, read before one more is registered (webhooks/). */
  webhookUrls: 4,
} as const;

/**
 * Holds `key` (in the `space` of one kind of lock) until the transaction ends, so transactions that
 * count what they have just written under the same key take turns. On PostgreSQL a transaction-scoped
 * advisory lock (two-number form: its own key space, apart from any single-number locks); under READ
 * COMMITTED two transactions would otherwise each count without the other's uncommitted row. Nothing
 * on SQLite, whose single writer already makes them take turns (and which needs no extra statement).
 */
export async function lockUntilTransactionEnds(db: AnyExecutor, space: number, key: string): Promise<void> {
  if (dialectOf(db) === 'postgres')
    await sql`select pg_advisory_xact_lock(${space}, hashtext(${key}))`.execute(db);
}

/**
 * Runs `work` so that no other process runs work under the same `key` at the same time: on PostgreSQL
 * in a transaction holding the key's advisory lock (lockUntilTransactionEnds), so each run's statements
 * see the last run's committed writes; on SQLite as it is, since one writer runs at a time there and
 * `work` must then be one writing statement (plus reads that may see others' later writes).
 */
export async function oneAtATime<T, DB extends AnyExecutor>(
  db: DB,
  space: number,
  key: string,
  work: (db: DB) => Promise<T>,
): Promise<T> {
  if (dialectOf(db) !== 'postgres') return work(db);
  const locked = async (tx: DB) => {
    await lockUntilTransactionEnds(tx, space, key);
    return work(tx);
  };
  if (db.isTransaction) return locked(db);
  return (db as Kysely<object>).transaction().execute((tx) => locked(tx as unknown as DB));
}

/**
 * What a claim (a worker taking due rows of a queue so that no other worker takes them) says differently
 * on each database. `indexHint` follows the table its candidates are read from: SQLite's `indexed by`,
 * since without statistics its planner prefers other indexes and sorts the whole queue; nothing on
 * PostgreSQL, which has no hints and keeps statistics. `take(ids)` is the select of the ids the claim's
 * update may move: on PostgreSQL those of `ids` it can lock at once (`for update skip locked`), so claims
 * in several processes leave each other's rows alone instead of waiting for them or taking them twice;
 * on SQLite, where one writer runs at a time, `ids` as they are. `updateHint` follows the table the
 * update names: SQLite's `not indexed`, so it reaches the rows by their ids (rowid look-ups stay allowed)
 * instead of walking the status index over every waiting row to test each against the ids — which its
 * planner chose, making each claim cost as much as the queue is long (0.8 of a claim's time at 10,000
 * waiting messages).
 */
export function claimClauses(
  db: AnyExecutor,
  table: string,
  index: string,
): {
  indexHint: RawBuilder<unknown>;
  updateHint: RawBuilder<unknown>;
  take(ids: RawBuilder<unknown>): RawBuilder<unknown>;
} {
  if (dialectOf(db) === 'postgres')
    return {
      indexHint: sql``,
      updateHint: sql``,
      take: (ids) => sql`select id from ${sql.table(table)} where id in (${ids}) for update skip locked`,
    };
  return { indexHint: sql`indexed by ${sql.id(index)}`, updateHint: sql`not indexed`, take: (ids) => ids };
}

/**
 * Whether a query holds the event loop while the database runs it: better-sqlite3 runs every statement
 * synchronously in this thread; pg sends it and waits for the answer without holding anything.
 */
export function queriesHoldEventLoop(db: AnyExecutor): boolean {
  return dialectOf(db) === 'sqlite';
}
