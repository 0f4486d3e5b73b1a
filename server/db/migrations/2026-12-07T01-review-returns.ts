import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// An admin who sends a letter (or changes to a published one) back from review may say why: the
// organizers see it in the e-mail and in the editor until they ask for review again. Letters sent back
// before kept no note: null, nothing to show.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('letters').addColumn('returned_at', 'text').execute();
  await db.schema
    .alterTable('letters')
    .addColumn('returned_note', 'text', (column) => column.notNull().defaultTo(''))
    .execute();
}

// No down(): to go back, restore a backup.
