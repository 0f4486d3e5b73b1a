import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// A delivery round's audience, kept when it starts: the recipients its letter listed then (in the
// round's tiers), with their tier and place in the list. The round is compiled for them, not for the
// list as it stands when compiled (a recipient added in between waits for the next round). A recipient
// deleted from the directory leaves every audience with it: there is no address left to send to.
// delivery_rounds.audience_kept: 1 for a round whose audience was kept; 0 for a test (it goes to the
// organizer) and for every round started before this, compiled from the list as before.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('delivery_rounds')
    .addColumn('audience_kept', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .createTable('round_audiences')
    .addColumn('round_id', 'integer', (c) => c.notNull().references('delivery_rounds.id').onDelete('cascade'))
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id').onDelete('cascade'))
    .addColumn('tier', 'integer', (c) => c.notNull())
    .addColumn('position', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('round_audiences_pk', ['round_id', 'recipient_id'])
    .execute();
  // A recipient's deletion finds its rows by this (the foreign key's cascade).
  await db.schema
    .createIndex('round_audiences_recipient')
    .on('round_audiences')
    .column('recipient_id')
    .execute();
}

// No down(): to go back, restore a backup.
