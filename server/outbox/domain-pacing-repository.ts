import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { SharedPace } from './domain-gate.js';

/**
 * SQL for the deployment-wide pace of each receiving domain (domain_pacing): the mail workers reserve
 * start times here, so together they keep one domain's rate however many of them run.
 */
export class DomainPacingRepository implements SharedPace {
  constructor(private readonly db: Executor) {}

  /**
   * Reserves the next start for `domain`: now, or the time the last reservation left, whichever is
   * later; the one after is `spacingMs` on. One statement (an upsert that reads and moves the row), so
   * two workers reserving at once get two different starts: the row lock (PostgreSQL) or the single
   * writer (SQLite) orders them.
   */
  async reserveStart(domain: string, nowMs: number, spacingMs: number): Promise<number> {
    const row = await this.db
      .insertInto('domain_pacing')
      .values({ domain, next_start_ms: nowMs + spacingMs })
      .onConflict((oc) =>
        oc.column('domain').doUpdateSet({
          next_start_ms: sql<number>`case when domain_pacing.next_start_ms < ${nowMs} then ${nowMs} else domain_pacing.next_start_ms end + ${spacingMs}`,
        }),
      )
      .returning('next_start_ms')
      .executeTakeFirstOrThrow();
    return Number(row.next_start_ms) - spacingMs;
  }

  /** Domains whose next start is later than `afterMs`: reserved that far ahead already. */
  async reservedBeyond(afterMs: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('domain_pacing')
      .select('domain')
      .where('next_start_ms', '>', afterMs)
      .execute();
    return rows.map((r) => r.domain);
  }

  /** Forgets domains with no reservation since `beforeMs`: their next send starts at once anyway. */
  async forgetQuietSince(beforeMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('domain_pacing')
      .where('next_start_ms', '<', beforeMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
