import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// A recipient's name, title and institution as the public pages of each interface language show them
// ("Office of the President of Ukraine" on a Korean page read as English in Korean sentences). The
// fields in `recipients` stay what the letter to them says, and what a page shows where none is given.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('recipient_names')
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('organisation', 'text', (c) => c.notNull().defaultTo(''))
    .addPrimaryKeyConstraint('recipient_names_pk', ['recipient_id', 'language'])
    .execute();
}

// No down(): to go back, restore a backup.
