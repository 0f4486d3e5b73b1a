import { PostgresAdapter, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains; ids branch on the adapter (identity on PostgreSQL,
// autoincrement on SQLite), as the earlier shared migrations do.
//
// delivery_replies: the mail that came back to a delivery's own reply address (replies+d<id>-<tag>@…):
// the sender, subject and plain text only (no HTML, no attachments), whether it was automatic
// (Auto-Submitted, out of office, a bounce), when the organizer published it on the letter's record,
// and the outbox message that forwarded it to the organisation. letter_id and recipient_id are copied
// from the delivery so the organizer's list and the escalation's "replied since" read one index.
// One message is stored once per delivery: (delivery_id, message_id) is unique.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  const postgres = db.getExecutor().adapter instanceof PostgresAdapter;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const id = (c: any) =>
    postgres ? c.primaryKey().generatedByDefaultAsIdentity() : c.primaryKey().autoIncrement();

  await db.schema
    .createTable('delivery_replies')
    .addColumn('id', 'integer', id)
    .addColumn('delivery_id', 'integer', (c) => c.notNull().references('deliveries.id').onDelete('cascade'))
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('recipient_id', 'integer', (c) => c.references('recipients.id').onDelete('set null'))
    .addColumn('from_address', 'text', (c) => c.notNull())
    .addColumn('from_name', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('subject', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('body_text', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('automatic', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('message_id', 'text', (c) => c.notNull())
    .addColumn('received_at', 'text', (c) => c.notNull())
    .addColumn('published_at', 'text')
    .addColumn('published_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('forwarded_outbox_message_id', 'integer', (c) =>
      c.references('outbox_messages.id').onDelete('set null'),
    )
    .execute();
  await db.schema
    .createIndex('delivery_replies_message')
    .on('delivery_replies')
    .columns(['delivery_id', 'message_id'])
    .unique()
    .execute();
  await db.schema
    .createIndex('delivery_replies_letter')
    .on('delivery_replies')
    .columns(['letter_id', 'received_at'])
    .execute();
  await db.schema
    .createIndex('delivery_replies_recipient')
    .on('delivery_replies')
    .columns(['letter_id', 'recipient_id', 'received_at'])
    .execute();
}

// No down(): to go back, restore a backup.
