import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
// The pace of sending to each receiving domain, for the whole deployment: with several mail workers
// each keeping its own pace, a domain would get the policy's rate once per worker. A worker reserves the
// domain's next start time here (one compare-and-set statement) before it starts a send. Real time in
// milliseconds since the epoch, as the workers' timers use, not the platform's ISO timestamps.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('domain_pacing')
    .addColumn('domain', 'text', (c) => c.primaryKey())
    // The earliest time the next send to this domain may start, by any worker.
    .addColumn('next_start_ms', 'bigint', (c) => c.notNull())
    .execute();
  // The claim asks which domains are reserved far ahead; pruning forgets those long quiet.
  await db.schema
    .createIndex('domain_pacing_next_start')
    .on('domain_pacing')
    .column('next_start_ms')
    .execute();
}

// No down(): to go back, restore a backup.
