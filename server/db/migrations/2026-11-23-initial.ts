import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('letters')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
    .execute();

  await db.schema
    .createTable('letter_versions')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('number', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
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
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('title', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('organisation', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('country', 'text')
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('language', 'text', (c) => c.notNull())
    .addColumn('salutation', 'text', (c) => c.notNull())
    .addColumn('notes', 'text', (c) => c.notNull().defaultTo(''))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('recipients_email').on('recipients').column('email').unique().execute();

  await db.schema
    .createTable('letter_recipients')
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('recipient_id', 'integer', (c) => c.notNull().references('recipients.id'))
    .addColumn('position', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('letter_recipients_pk', ['letter_id', 'recipient_id'])
    .execute();

  await db.schema
    .createTable('signatures')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
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
    .addUniqueConstraint('signatures_letter_email', ['letter_id', 'email_hash'])
    .execute();
  // The letter page lists the most recent confirmed signatures.
  await db.schema
    .createIndex('signatures_letter_status_confirmed')
    .on('signatures')
    .columns(['letter_id', 'status', 'confirmed_at'])
    .execute();

  await db.schema
    .createTable('outbox_messages')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('priority', 'integer', (c) => c.notNull())
    .addColumn('signature_id', 'integer', (c) => c.references('signatures.id').onDelete('set null'))
    .addColumn('to_address', 'text', (c) => c.notNull())
    .addColumn('subject', 'text', (c) => c.notNull())
    .addColumn('text_body', 'text', (c) => c.notNull())
    .addColumn('html_body', 'text', (c) => c.notNull())
    .addColumn('headers', 'text', (c) => c.notNull().defaultTo('{}'))
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
    .execute();
  // The worker's claim: due messages by status and time.
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
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'outbox_messages',
    'signatures',
    'letter_recipients',
    'recipients',
    'letter_texts',
    'letter_versions',
    'letters',
  ]) {
    await db.schema.dropTable(table).execute();
  }
}
