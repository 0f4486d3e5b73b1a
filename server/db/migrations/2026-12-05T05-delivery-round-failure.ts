import type { Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// A delivery round can fail before any e-mail is queued: a compiled letter over the size budget is
// never sent. The round records why (a code and its figures, as JSON), so the organizer's delivery
// page says what happened and what to do, instead of a round that stays empty.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('delivery_rounds').addColumn('failure', 'text').execute();
}

// No down(): a column of records.
