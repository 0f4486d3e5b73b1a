import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// The two foreign keys of delivery_replies that migration 2026-12-06T02 left without an index of their
// own: a message added to the outbox (or removed) and a recipient deleted each look for the replies that
// point at them, which walked the whole table (query-plans.test.ts found it in the plan of every insert
// into outbox_messages on SQLite).

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createIndex('delivery_replies_forward')
    .on('delivery_replies')
    .column('forwarded_outbox_message_id')
    .execute();
  await db.schema
    .createIndex('delivery_replies_recipient_only')
    .on('delivery_replies')
    .column('recipient_id')
    .execute();
}

// No down(): to go back, restore a backup.
