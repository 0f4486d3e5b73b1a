import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// A recipient is greeted in the language of the letter text they receive, so a salutation is kept per
// language: `recipient_salutations` becomes the one place salutations live. Each recipient's existing
// salutation is copied in under the recipient's own language, and `recipients.salutation` goes, so no
// second copy can drift from it.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('recipient_salutations')
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('salutation', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('recipient_salutations_pk', ['recipient_id', 'language'])
    .execute();
  await sql`insert into recipient_salutations (recipient_id, language, salutation)
    select id, language, trim(salutation) from recipients where trim(salutation) <> ''`.execute(db);
  // SQLite ≥ 3.35 and PostgreSQL both drop a column in place.
  await db.schema.alterTable('recipients').dropColumn('salutation').execute();
}

// No down(): to go back, restore a backup.
