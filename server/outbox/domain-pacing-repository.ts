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
   * Reserves `count` consecutive starts for each domain: the first at now, or where the last reservation
   * left off, whichever is later; each `spacingMs` after the one before. One statement (an upsert that
   * reads and moves each row), so two workers reserving at once get different starts: the row locks
   * (PostgreSQL) or the single writer (SQLite) order them. Rows go in domain order, so two workers' row
   * locks are always taken in the same order. Resolves with each domain's first start.
   */
  async reserveStarts(
    counts: ReadonlyMap<string, number>,
    nowMs: number,
    spacingMs: number,
  ): Promise<Map<string, number>> {
    if (counts.size === 0) return new Map();
    const spans = [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const rows = await this.db
      .insertInto('domain_pacing')
      // A new row's next start is the end of its span; on a conflict that span is read back as
      // excluded.next_start_ms - now, and laid after the row's own next start when that is later.
      .values(spans.map(([domain, count]) => ({ domain, next_start_ms: nowMs + count * spacingMs })))
      .onConflict((oc) =>
        oc.column('domain').doUpdateSet({
          next_start_ms: sql<number>`case when domain_pacing.next_start_ms < ${nowMs} then ${nowMs} else domain_pacing.next_start_ms end + (excluded.next_start_ms - ${nowMs})`,
        }),
      )
      .returning(['domain', 'next_start_ms'])
      .execute();
    return new Map(rows.map((r) => [r.domain, Number(r.next_start_ms) - counts.get(r.domain)! * spacingMs]));
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
