import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// The name a rendered e-mail is sent under, beside the platform's own From address: a letter goes as
// "<organisation> via Undersigned", so a ministry's inbox says who writes. Null: the platform's From as
// configured (every message before, and every message of the platform's own).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox_contents').addColumn('from_name', 'text').execute();
}

// No down(): to go back, restore a backup.
