import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { LOCK_SPACES, lockUntilTransactionEnds } from '../db/dialect.js';
import { ReusableQuery } from '../db/reusable-query.js';

/** Statements every signing runs, compiled once (db/reusable-query.ts). */
const RECORD_SIGNING_HIT = new ReusableQuery((db, p: { keyHash: string; atMs: number }) =>
  db.insertInto('signing_hits').values({ key_hash: p.keyHash, hit_at_ms: p.atMs }),
);
const COUNT_SIGNING_HITS = new ReusableQuery(
  (db, p: { keyHash: string; burst: number; sustained: number; since: number }) => {
    const inWindow = (from: number) =>
      sql<number>`coalesce(sum(case when ${sql.ref('hit_at_ms')} > ${from} then 1 else 0 end), 0)`;
    return db
      .selectFrom('signing_hits')
      .select([inWindow(p.burst).as('burst'), inWindow(p.sustained).as('sustained')])
      .where('key_hash', '=', p.keyHash)
      .where('hit_at_ms', '>', p.since);
  },
);
// Every moment is a parameter, never part of the SQL text: a text that changes with the time would be
// prepared anew on each call and fill the statement cache (db/statement-cache.ts) with one-offs.
const INCREMENT_COUNTER = new ReusableQuery((db, p: { keyHash: string; nowMs: number; resetAtMs: number }) =>
  db
    .insertInto('limit_counters')
    .values({ key_hash: p.keyHash, hits: 1, reset_at_ms: p.resetAtMs })
    .onConflict((oc) =>
      oc.column('key_hash').doUpdateSet((eb) => ({
        hits: eb
          .case()
          .when('limit_counters.reset_at_ms', '<=', p.nowMs)
          .then(eb.val(1))
          .else(eb('limit_counters.hits', '+', 1))
          .end(),
        reset_at_ms: eb
          .case()
          .when('limit_counters.reset_at_ms', '<=', p.nowMs)
          .then(eb.val(p.resetAtMs))
          .else(eb.ref('limit_counters.reset_at_ms'))
          .end(),
      })),
    )
    .returning(['hits', 'reset_at_ms']),
);

/**
 * SQL for the limits kept in the database: signing hits (sliding windows per client address and letter)
 * and request counters (fixed windows per limit and client). Keys are keyed hashes, never addresses.
 * Plain portable SQL (ON CONFLICT … DO UPDATE, RETURNING), so it runs on SQLite and PostgreSQL alike.
 */
export class LimitRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): LimitRepository {
    return new LimitRepository(tx);
  }

  /**
   * Records one signing attempt under a key, and holds the key until the caller's transaction ends: the
   * count that follows in the same transaction then sees every attempt made before it, in any process.
   */
  async recordSigningHit(keyHash: string, at: Date): Promise<void> {
    await lockUntilTransactionEnds(this.db, LOCK_SPACES.signingHits, keyHash);
    await RECORD_SIGNING_HIT.execute(this.db, { keyHash, atMs: at.getTime() });
  }

  /**
   * How many signing attempts were recorded under a key since each of two moments, in one statement over
   * the key/time index (the limits' burst and sustained windows: one read, not one per window).
   */
  async countSigningHitsSince(
    keyHash: string,
    since: { readonly burst: Date; readonly sustained: Date },
  ): Promise<{ burst: number; sustained: number }> {
    const burst = since.burst.getTime();
    const sustained = since.sustained.getTime();
    const { rows } = await COUNT_SIGNING_HITS.execute(this.db, {
      keyHash,
      burst,
      sustained,
      since: Math.min(burst, sustained),
    });
    // An aggregate without group by always answers one row.
    const row = rows[0]!;
    return { burst: Number(row.burst), sustained: Number(row.sustained) };
  }

  /**
   * Counts one request under a key in a fixed window: a counter whose window is over starts again at 1.
   * One statement, so two processes counting at once both land in the total.
   */
  async incrementCounter(
    keyHash: string,
    windowMs: number,
    now: Date,
  ): Promise<{ hits: number; resetAt: Date }> {
    const nowMs = now.getTime();
    const { rows } = await INCREMENT_COUNTER.execute(this.db, {
      keyHash,
      nowMs,
      resetAtMs: nowMs + windowMs,
    });
    // An upsert with returning answers its one row, inserted or updated.
    const row = rows[0]!;
    return { hits: Number(row.hits), resetAt: new Date(Number(row.reset_at_ms)) };
  }

  /** A counter's hits and reset time while its window lasts; undefined when there is none. */
  async findCounter(keyHash: string, now: Date): Promise<{ hits: number; resetAt: Date } | undefined> {
    const row = await this.db
      .selectFrom('limit_counters')
      .select(['hits', 'reset_at_ms'])
      .where('key_hash', '=', keyHash)
      .where('reset_at_ms', '>', now.getTime())
      .executeTakeFirst();
    return row ? { hits: Number(row.hits), resetAt: new Date(Number(row.reset_at_ms)) } : undefined;
  }

  /** Takes one request back (a request the limit does not count, such as a form sent back with errors). */
  async decrementCounter(keyHash: string, now: Date): Promise<void> {
    await this.db
      .updateTable('limit_counters')
      .set((eb) => ({ hits: eb('hits', '-', 1) }))
      .where('key_hash', '=', keyHash)
      .where('hits', '>', 0)
      .where('reset_at_ms', '>', now.getTime())
      .execute();
  }

  async deleteCounter(keyHash: string): Promise<void> {
    await this.db.deleteFrom('limit_counters').where('key_hash', '=', keyHash).execute();
  }

  /** Forgets signing hits older than the longest window and counters whose window is over (the scheduler). */
  async prune(signingHitsBefore: Date, now: Date): Promise<{ hits: number; counters: number }> {
    const hits = await this.db
      .deleteFrom('signing_hits')
      .where('hit_at_ms', '<=', signingHitsBefore.getTime())
      .executeTakeFirst();
    const counters = await this.db
      .deleteFrom('limit_counters')
      .where('reset_at_ms', '<=', now.getTime())
      .executeTakeFirst();
    return { hits: Number(hits.numDeletedRows), counters: Number(counters.numDeletedRows) };
  }
}
