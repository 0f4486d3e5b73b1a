import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// A signature keeps two languages: `language`, the language of the letter text the supporter read,
// and now `interface_language`, the language of the pages they signed on, which every e-mail to them
// is written in. A signature made before knew only the first: it was also the page's language then.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('signatures')
    .addColumn('interface_language', 'text', (c) => c.notNull().defaultTo('en'))
    .execute();
  await sql`update signatures set interface_language = language`.execute(db);
}

// No down(): to go back, restore a backup.
