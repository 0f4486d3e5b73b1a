import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// PostgreSQL starts from here: one migration that creates the schema SQLite has after its eighteen
// (through 2026-12-05T14-signatures-by-letter), table for table and column for column in the same order,
// with the same defaults, checks, foreign keys, unique and partial indexes. SQLite's data-moving steps
// (copying bodies to outbox_contents, salutations out of recipients…) have nothing to move on an empty
// database, so they are not repeated. Every migration after this one is shared by both chains.
// tests/integration/db/schema-equivalence.test.ts compares the two schemas.
//
// Types, as SQLite's are read (docs/decisions/2026-12-05-migrations-on-two-databases.md): timestamps are
// ISO-8601 text, booleans integer 0/1, ids integer; SQLite's integers are 64-bit, so a column whose values
// can pass 2^31 is bigint here (millisecond times, and signing_hits.id, one per signing attempt, which
// pruning never gives back). Ids are identities "by default", so seeds and tests that name an id still can.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin','organizer')`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disabled_at', 'text')
    .addColumn('last_login_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('invite_token_hash', 'text')
    .addColumn('invite_expires_at', 'text')
    .addColumn('reset_token_hash', 'text')
    .addColumn('reset_expires_at', 'text')
    .addColumn('reset_used_at', 'text')
    .addColumn('language', 'text', (c) => c.notNull().defaultTo('en'))
    .execute();
  await db.schema.createIndex('users_invite_token').on('users').column('invite_token_hash').execute();
  await db.schema.createIndex('users_reset_token').on('users').column('reset_token_hash').unique().execute();

  await db.schema
    .createTable('letters')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('slug', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('draft','open','closed','delivered')`),
    )
    .addColumn('primary_language', 'text', (c) => c.notNull())
    .addColumn('sponsor', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('goal', 'integer')
    .addColumn('opens_at', 'text')
    .addColumn('closes_at', 'text')
    .addColumn('current_version_id', 'integer')
    .addColumn('signature_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('owner_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('close_on_goal', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('organisations', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('review_requested_at', 'text')
    .addColumn('published_at', 'text')
    .addColumn('closed_at', 'text')
    .addColumn('pending_edit', 'text')
    .addColumn('pending_edit_at', 'text')
    .addColumn('pending_edit_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .execute();
  await db.schema.createIndex('letters_owner').on('letters').column('owner_id').execute();
  await db.schema
    .createIndex('letters_status_closes')
    .on('letters')
    .columns(['status', 'closes_at'])
    .execute();

  await db.schema
    .createTable('letter_versions')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addUniqueConstraint('letter_versions_letter_number', ['letter_id', 'number'])
    .execute();

  await db.schema
    .createTable('letter_texts')
    .addColumn('letter_version_id', 'integer', (c) =>
      c.notNull().references('letter_versions.id').onDelete('cascade'),
    )
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('body', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('letter_texts_pk', ['letter_version_id', 'language'])
    .execute();

  await db.schema
    .createTable('recipients')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('organisation', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('country', 'text')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('bouncing_at', 'text')
    .addColumn('bounce_reply', 'text')
    .execute();
  await db.schema.createIndex('recipients_email').on('recipients').column('email').unique().execute();

  await db.schema
    .createTable('recipient_salutations')
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id').onDelete('cascade'))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('salutation', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('recipient_salutations_pk', ['recipient_id', 'language'])
    .execute();

  await db.schema
    .createTable('letter_recipients')
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('letter_recipients_pk', ['letter_id', 'recipient_id'])
    .execute();

  await db.schema
    .createTable('signatures')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id'))
    .addColumn('letter_version_id', 'integer', (c) => c.notNull().references('letter_versions.id'))
    .addColumn('ref', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending','confirmed','withdrawn','invalidated')`),
    )
    .addColumn('full_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('email_hash', 'text', (c) => c.notNull())
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('city', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('organisation', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('job_title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('display', 'text', (c) => c.notNull().check(sql`display in ('full','initials','hidden')`))
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('consent_updates', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ip_hash', 'text')
    .addColumn('confirmation_sends', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('confirmed_at', 'text')
    .addColumn('withdrawn_at', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('invalidated_at', 'text')
    .addColumn('invalidated_reason', 'text')
    .addColumn('status_before_invalidation', 'text')
    .addColumn('anonymised_at', 'text')
    .addColumn('suspect_reasons', 'text')
    .addColumn('review_reasons', 'text')
    .addColumn('confirm_requested_at', 'text')
    .addColumn('interface_language', 'text', (c) => c.notNull().defaultTo('en'))
    .addUniqueConstraint('signatures_letter_email', ['letter_id', 'email_hash'])
    .execute();
  await db.schema
    .createIndex('signatures_letter_status_confirmed')
    .on('signatures')
    .columns(['letter_id', 'status', 'confirmed_at'])
    .execute();
  await db.schema.createIndex('signatures_ip_hash').on('signatures').column('ip_hash').execute();
  await db.schema.createIndex('signatures_email_hash').on('signatures').column('email_hash').execute();
  await db.schema
    .createIndex('signatures_letter_created')
    .on('signatures')
    .columns(['letter_id', 'created_at'])
    .execute();
  await db.schema.createIndex('signatures_created').on('signatures').column('created_at').execute();
  await sql`create index signatures_suspect on signatures (created_at) where suspect_reasons is not null`.execute(
    db,
  );
  await sql`create index signatures_review on signatures (created_at) where review_reasons is not null`.execute(
    db,
  );
  await db.schema.createIndex('signatures_letter').on('signatures').column('letter_id').execute();

  await db.schema
    .createTable('delivery_rounds')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
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
    .addColumn('request_key', 'text', (c) => c.unique())
    .addColumn('notified_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('failure', 'text')
    .execute();
  await db.schema
    .createIndex('delivery_rounds_letter')
    .on('delivery_rounds')
    .columns(['letter_id', 'id'])
    .execute();
  await db.schema.createIndex('delivery_rounds_status').on('delivery_rounds').column('status').execute();
  await sql`create unique index delivery_rounds_one_delivery on delivery_rounds (letter_id, letter_version_id) where kind = 'delivery'`.execute(
    db,
  );
  await sql`create unique index delivery_rounds_one_milestone on delivery_rounds (letter_id, milestone) where kind = 'milestone'`.execute(
    db,
  );

  await db.schema
    .createTable('delivery_settings')
    .addColumn('letter_id', 'integer', (c) => c.primaryKey().references('letters.id').onDelete('cascade'))
    .addColumn('mode', 'text', (c) =>
      c.notNull().check(sql`mode in ('closing','goal','milestones','scheduled','manual')`),
    )
    .addColumn('milestone_every', 'integer')
    .addColumn('deliver_at', 'text')
    .addColumn('reply_to', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('last_milestone', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('outbox_messages')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('signature_id', 'integer', (c) => c.references('signatures.id').onDelete('set null'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('message_id', 'text', (c) => c.notNull().unique())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('queued','sending','sent','retrying','failed','cancelled')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text', (c) => c.notNull())
    .addColumn('lease_expires_at', 'text')
    .addColumn('claimed_by', 'text')
    .addColumn('last_reply', 'text')
    .addColumn('sent_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('domain', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('reply_to', 'text')
    .addColumn('give_up_at', 'text')
    .addColumn('delivery_round_id', 'integer', (c) => c.references('delivery_rounds.id').onDelete('set null'))
    .addColumn('bounced_at', 'text')
    .addColumn('attachment_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('sent_sha256', 'text')
    .addColumn('sent_size', 'integer')
    .addColumn('content_removed_at', 'text')
    .addColumn('render_language', 'text')
    .execute();
  await db.schema
    .createIndex('outbox_messages_due')
    .on('outbox_messages')
    .columns(['status', 'next_attempt_at'])
    .execute();
  await db.schema
    .createIndex('outbox_messages_signature')
    .on('outbox_messages')
    .column('signature_id')
    .execute();
  await sql`create unique index outbox_messages_round_signature on outbox_messages (delivery_round_id, signature_id) where kind = 'letter-sent'`.execute(
    db,
  );
  await sql`create index outbox_messages_claim on outbox_messages (priority, next_attempt_at) where status in ('queued','retrying')`.execute(
    db,
  );
  await db.schema
    .createIndex('outbox_messages_status_updated')
    .on('outbox_messages')
    .columns(['status', 'updated_at'])
    .execute();
  await db.schema
    .createIndex('outbox_messages_to_address')
    .on('outbox_messages')
    .column('to_address')
    .execute();

  await db.schema
    .createTable('outbox_contents')
    .addColumn('outbox_message_id', 'integer', (c) =>
      c.primaryKey().references('outbox_messages.id').onDelete('cascade'),
    )
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}'))
    .execute();

  await db.schema
    .createTable('outbox_attachments')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('outbox_message_id', 'integer', (c) =>
      c.notNull().references('outbox_messages.id').onDelete('cascade'),
    )
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('content_type', 'text', (c) => c.notNull())
    .addColumn('content', 'bytea', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('outbox_attachments_message')
    .on('outbox_attachments')
    .column('outbox_message_id')
    .execute();

  await db.schema
    .createTable('deliveries')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('delivery_round_id', 'integer', (c) =>
      c.notNull().references('delivery_rounds.id').onDelete('cascade'),
    )
    .addColumn('recipient_id', 'integer', (c) => c.references('recipients.id').onDelete('set null'))
    .addColumn('recipient_name', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('outbox_message_id', 'integer', (c) => c.notNull().references('outbox_messages.id'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await sql`create unique index deliveries_round_recipient on deliveries (delivery_round_id, recipient_id)`.execute(
    db,
  );
  await db.schema.createIndex('deliveries_outbox').on('deliveries').column('outbox_message_id').execute();

  await db.schema
    .createTable('login_throttles')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('account_hash', 'text')
    .execute();
  await db.schema
    .createIndex('login_throttles_account')
    .on('login_throttles')
    .column('account_hash')
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('sid_hash', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.references('users.id').onDelete('cascade'))
    .addColumn('data', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sessions_expires').on('sessions').column('expires_at').execute();
  await db.schema.createIndex('sessions_user').on('sessions').column('user_id').execute();

  await db.schema
    .createTable('letter_collaborators')
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('letter_collaborators_pk', ['letter_id', 'user_id'])
    .execute();
  await db.schema
    .createIndex('letter_collaborators_user')
    .on('letter_collaborators')
    .column('user_id')
    .execute();

  await db.schema
    .createTable('letter_country_counts')
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('letter_country_counts_pk', ['letter_id', 'country'])
    .execute();

  await db.schema
    .createTable('settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('recipient_imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'integer', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('file_name', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_events')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_user_id', 'integer')
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
  // Append-only, as SQLite's triggers make it: no row is changed (an upsert's "do update" included, since
  // row triggers fire for it) or removed, nor the table emptied. An insert naming a taken id fails on the
  // primary key, so the "no replace" trigger SQLite needs for INSERT OR REPLACE has no counterpart here.
  await sql`create function audit_events_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'the audit log cannot be changed';
    end
    $$`.execute(db);
  await sql`create trigger audit_events_no_change before update or delete on audit_events
    for each row execute function audit_events_refuse_change()`.execute(db);
  await sql`create trigger audit_events_no_truncate before truncate on audit_events
    for each statement execute function audit_events_refuse_change()`.execute(db);

  await db.schema
    .createTable('signing_hits')
    .addColumn('id', 'bigint', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('key_hash', 'text', (c) => c.notNull())
    .addColumn('hit_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('signing_hits_key_time')
    .on('signing_hits')
    .columns(['key_hash', 'hit_at_ms'])
    .execute();
  await db.schema.createIndex('signing_hits_time').on('signing_hits').column('hit_at_ms').execute();

  await db.schema
    .createTable('limit_counters')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('hits', 'integer', (c) => c.notNull())
    .addColumn('reset_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('limit_counters_reset').on('limit_counters').column('reset_at_ms').execute();

  await db.schema
    .createTable('proof_of_work_solutions')
    .addColumn('challenge_id', 'text', (c) => c.primaryKey())
    .addColumn('expires_at_ms', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('proof_of_work_solutions_expiry')
    .on('proof_of_work_solutions')
    .column('expires_at_ms')
    .execute();

  await db.schema
    .createTable('abuse_list_entries')
    .addColumn('id', 'integer', (c) => c.primaryKey().generatedByDefaultAsIdentity())
    .addColumn('list', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('note', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema
    .createIndex('abuse_list_entries_unique')
    .on('abuse_list_entries')
    .columns(['list', 'kind', 'value'])
    .unique()
    .execute();
}

// No down(): PostgreSQL starts here; to go back, restore a backup.
