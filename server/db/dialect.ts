import { PostgresAdapter, type Kysely, type Transaction } from 'kysely';

/** The two databases the platform runs on: SQLite embedded (the default) or PostgreSQL (DATABASE_URL). */
export type DialectName = 'sqlite' | 'postgres';

/**
 * Which database a Kysely instance (or an open transaction) speaks. Repositories ask this where the two
 * differ, and only through the small helpers of this module, so each difference lives in one place.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function dialectOf(db: Kysely<any> | Transaction<any>): DialectName {
  return db.getExecutor().adapter instanceof PostgresAdapter ? 'postgres' : 'sqlite';
}
