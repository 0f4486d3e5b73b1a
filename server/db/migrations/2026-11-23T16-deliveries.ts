import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Delivery of compiled letters: when each letter goes, delivery rounds and their per-recipient
// deliveries, attachments of queued mail, what the queue needs for politeness and bounces, and the
// bounce state of recipients.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  // When a letter goes: at closing, at its goal, every N signatures, at a time, or only by hand.
  await db.schema
    .alterTable('letters')
    .addColumn('delivery_mode', 'text', (c) =>
      c
        .notNull()
        .defaultTo('closing')
        .check(sql`delivery_mode in ('closing','goal','milestones','scheduled','manual')`),
    )
    .execute();
  await db.schema.alterTable('letters').addColumn('milestone_every', 'integer').execute();
  await db.schema.alterTable('letters').addColumn('deliver_at', 'text').execute();
  await db.schema
    .alterTable('letters')
    .addColumn('reply_to', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema
    .alterTable('letters')
    .addColumn('last_milestone', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();

  // One sending of one letter version to its recipients (or, for a test, to the organizer).
  await db.schema
    .createTable('delivery_rounds')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('letter_version_id', 'integer', (c) => c.notNull().references('letter_versions.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('test','delivery','update','milestone')`),
    )
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('compiling','queued','cancelled')`))
    .addColumn('signature_count', 'integer', (c) => c.notNull())
    .addColumn('milestone', 'integer')
    .addColumn('test_address', 'text')
    .addColumn('requested_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    // Set from the form that asked for it, so pressing the button twice makes one round.
    .addColumn('request_key', 'text', (c) => c.unique())
    .addColumn('notified_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('delivery_rounds_letter')
    .on('delivery_rounds')
    .columns(['letter_id', 'id'])
    .execute();
  await db.schema.createIndex('delivery_rounds_status').on('delivery_rounds').column('status').execute();
  // A letter version is delivered once; updates and milestones are explicit further rounds.
  await sql`create unique index delivery_rounds_one_delivery on delivery_rounds (letter_id, letter_version_id) where kind = 'delivery'`.execute(
    db,
  );
  await sql`create unique index delivery_rounds_one_milestone on delivery_rounds (letter_id, milestone) where kind = 'milestone'`.execute(
    db,
  );

  await db.schema
    .createTable('outbox_attachments')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('outbox_message_id', 'integer', (c) =>
      c.notNull().references('outbox_messages.id').onDelete('cascade'),
    )
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('content', 'blob', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('outbox_attachments_message')
    .on('outbox_attachments')
    .column('outbox_message_id')
    .execute();

  // The queue learns the recipient's domain (politeness), the reply address, when to give up, and the
  // round and delivery it belongs to.
  await db.schema
    .alterTable('outbox_messages')
    .addColumn('domain', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await sql`update outbox_messages set domain = lower(substr(to_address, instr(to_address, '@') + 1))`.execute(
    db,
  );
  await db.schema.alterTable('outbox_messages').addColumn('reply_to', 'text').execute();
  await db.schema.alterTable('outbox_messages').addColumn('give_up_at', 'text').execute();
  await db.schema
    .alterTable('outbox_messages')
    .addColumn('delivery_round_id', 'integer', (c) => c.references('delivery_rounds.id').onDelete('set null'))
    .execute();
  await db.schema.alterTable('outbox_messages').addColumn('bounced_at', 'text').execute();
  // How many attachments the message has, so the worker reads outbox_attachments only when there are some.
  await db.schema
    .alterTable('outbox_messages')
    .addColumn('attachment_count', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  // One "your letter was sent" message per supporter per round, however often the job runs.
  await sql`create unique index outbox_messages_round_signature on outbox_messages (delivery_round_id, signature_id) where kind = 'letter-sent'`.execute(
    db,
  );
  // The claim walks waiting messages in priority order and stops at its limit, without sorting the queue.
  await sql`create index outbox_messages_claim on outbox_messages (priority, next_attempt_at) where status in ('queued','retrying')`.execute(
    db,
  );
  // The admin's queue page lists failures newest first.
  await db.schema
    .createIndex('outbox_messages_status_updated')
    .on('outbox_messages')
    .columns(['status', 'updated_at'])
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('delivery_round_id', 'integer', (c) =>
      c.notNull().references('delivery_rounds.id').onDelete('cascade'),
    )
    .addColumn('recipient_id', 'integer', (c) => c.references('recipients.id').onDelete('set null'))
    .addColumn('recipient_name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('outbox_message_id', 'integer', (c) => c.notNull().references('outbox_messages.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  // One compiled letter per recipient per round, even if two workers compile the round at once.
  await sql`create unique index deliveries_round_recipient on deliveries (delivery_round_id, recipient_id)`.execute(
    db,
  );
  await db.schema.createIndex('deliveries_outbox').on('deliveries').column('outbox_message_id').execute();

  await db.schema.alterTable('recipients').addColumn('bouncing_at', 'text').execute();
  await db.schema.alterTable('recipients').addColumn('bounce_reply', 'text').execute();
}

// No down(): SQLite cannot drop a column that holds a foreign key; to go back, restore a backup.
