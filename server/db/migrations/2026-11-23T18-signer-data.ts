import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// What admins need to protect signer data: an append-only audit log, moderation state on signatures,
// anonymisation and erasure markers, invitations of admin users, and the search indexes moderation uses.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'integer')
    // A copy, so the record still says who it was after the account is gone.
    .addColumn('actor_email', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('action', 'text', (c) => c.notNull())
    .addColumn('target_type', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('target_id', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('details', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();
  await db.schema.createIndex('audit_events_at').on('audit_events').column('at').execute();
  await db.schema
    .createIndex('audit_events_action_at')
    .on('audit_events')
    .columns(['action', 'at'])
    .execute();
  // The record is append-only: the application has no way to change or remove an entry, and neither
  // has anyone who reaches the database through it.
  await sql`create trigger audit_events_no_update before update on audit_events
    begin select raise(abort, 'the audit log cannot be changed'); end`.execute(db);
  await sql`create trigger audit_events_no_delete before delete on audit_events
    begin select raise(abort, 'the audit log cannot be changed'); end`.execute(db);

  // Moderation: why and when a signature was invalidated, and what it was before (restoring goes back).
  await db.schema.alterTable('signatures').addColumn('invalidated_at', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('invalidated_reason', 'text').execute();
  await db.schema.alterTable('signatures').addColumn('status_before_invalidation', 'text').execute();
  // Retention and erasure leave the row (it still counts) without the person in it.
  await db.schema.alterTable('signatures').addColumn('anonymised_at', 'text').execute();
  await db.schema.createIndex('signatures_ip_hash').on('signatures').column('ip_hash').execute();
  await db.schema.createIndex('signatures_email_hash').on('signatures').column('email_hash').execute();
  await db.schema
    .createIndex('signatures_letter_created')
    .on('signatures')
    .columns(['letter_id', 'created_at'])
    .execute();
  await db.schema.createIndex('signatures_created').on('signatures').column('created_at').execute();
  await db.schema
    .createIndex('outbox_messages_to_address')
    .on('outbox_messages')
    .column('to_address')
    .execute();

  // Admin users are invited by e-mail with a link to set their own password.
  await db.schema.alterTable('users').addColumn('invite_token_hash', 'text').execute();
  await db.schema.alterTable('users').addColumn('invite_expires_at', 'text').execute();
  await db.schema.createIndex('users_invite_token').on('users').column('invite_token_hash').execute();
}

// No down(): the audit log is append-only by design; to go back, restore a backup.
