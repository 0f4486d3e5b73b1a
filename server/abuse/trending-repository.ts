import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { position } from '../db/dialect.js';

/** Signatures from one source in a window, and how many of them screening silenced or flagged. */
export interface SourceCount {
  source: string;
  total: number;
  suspect: number;
  review: number;
}

/**
 * Reads where recent signatures come from: per client address hash and per e-mail domain. Read-only
 * over `signatures` (the signature repository owns writing it); the range on `created_at` uses the
 * `signatures_created` index, so the cost follows the last hour's signatures, not the whole table.
 */
export class TrendingRepository {
  constructor(private readonly db: Executor) {}

  /** The busiest client address hashes since `since`, busiest first. */
  async byAddressHash(since: Date, limit: number): Promise<SourceCount[]> {
    // Grouped by an expression, not the bare column: on the column SQLite would walk the whole
    // signatures_ip_hash index to save a sort, instead of reading only the window through signatures_created.
    const source = sql<string>`coalesce(ip_hash, '')`;
    const rows = await this.db
      .selectFrom('signatures')
      .select((eb) => [
        source.as('source'),
        eb.fn.countAll<number>().as('total'),
        sql<number>`sum(case when suspect_reasons is not null then 1 else 0 end)`.as('suspect'),
        sql<number>`sum(case when review_reasons is not null then 1 else 0 end)`.as('review'),
      ])
      .where('created_at', '>=', since.toISOString())
      .groupBy(source)
      // Signatures without a client address (made before addresses were kept, or anonymised).
      .having(source, '<>', '')
      .orderBy('total', 'desc')
      .orderBy('source')
      .limit(limit)
      .execute();
    return rows.map(numbers);
  }

  /**
   * The busiest e-mail domains since `since`, busiest first. The domain is cut from the address in SQL,
   * so no address leaves the database.
   */
  async byEmailDomain(since: Date, limit: number): Promise<SourceCount[]> {
    // The '@' is a literal, not a parameter: PostgreSQL matches the grouped expression by its text.
    const at = position(this.db, sql.lit('@'), sql.ref('email'));
    const domain = sql<string>`lower(substr(email, ${at} + 1))`;
    const rows = await this.db
      .selectFrom('signatures')
      .select((eb) => [
        domain.as('source'),
        eb.fn.countAll<number>().as('total'),
        sql<number>`sum(case when suspect_reasons is not null then 1 else 0 end)`.as('suspect'),
        sql<number>`sum(case when review_reasons is not null then 1 else 0 end)`.as('review'),
      ])
      .where('created_at', '>=', since.toISOString())
      // Anonymised signatures keep no address.
      .where(at, '>', 0)
      .groupBy(domain)
      .orderBy('total', 'desc')
      .orderBy('source')
      .limit(limit)
      .execute();
    return rows.map(numbers);
  }
}

function numbers(row: { source: string; total: number; suspect: number; review: number }): SourceCount {
  return {
    source: row.source,
    total: Number(row.total),
    suspect: Number(row.suspect),
    review: Number(row.review),
  };
}
