import type { Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// An export of one letter's signatures reads them oldest first (by id). The indexes that start with
// letter_id go on with status and a date, so SQLite found the rows through them and then sorted every
// one in a temporary B-tree before writing the first line: at a million signatures, seconds of waiting
// and a temporary file of the whole export. An index on letter_id alone keeps its entries in id order
// (SQLite orders equal keys by rowid), so the export streams from its first row.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.createIndex('signatures_letter').on('signatures').column('letter_id').execute();
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('signatures_letter').execute();
}
