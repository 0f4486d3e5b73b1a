import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// What screening found about a signature (suspect reasons silence it, review reasons only flag it),
// when the supporter of a silenced signature clicked its confirmation link, and the limits kept in the
// database so they hold across restarts and processes: one row per signing attempt (sliding windows)
// and one counter per client and limit (fixed windows for login, links and exports).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // Comma-separated stable codes; null when there is none.
  await db.schema.alterTable('signatures').addColumn('suspect_reasons', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('review_reasons', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('confirm_requested_at', 'text').execute();

  // One row per signing attempt, keyed by a keyed hash of client address and letter (never the address).
  await db.schema
    .createTable('signing_hits')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('hit_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('signing_hits_key_time')
    .on('signing_hits')
    .columns(['key_hash', 'hit_at_ms'])
    .execute();
  await db.schema.createIndex('signing_hits_time').on('signing_hits').column('hit_at_ms').execute();

  // One counter per limit and client (keyed hash), reset when its window is over.
  await db.schema
    .createTable('limit_counters')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('reset_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('limit_counters_reset').on('limit_counters').column('reset_at_ms').execute();

  // Moderation lists silenced and flagged signatures.
  await sql`create index signatures_suspect on signatures (created_at) where suspect_reasons is not null`.execute(
    db,
  );
  await sql`create index signatures_review on signatures (created_at) where review_reasons is not null`.execute(
    db,
  );
}

// No down(): to go back, restore a backup.
