import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
// The sites allowed to frame a letter's embed (/letters/:slug/embed): https origins, one per line, as
// the organizer listed them; '' (the default) lets any site frame it.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('letters')
    .addColumn('embed_origins', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
}

// No down(): to go back, restore a backup.
