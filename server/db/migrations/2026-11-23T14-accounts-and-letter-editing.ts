import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Accounts (admins and organizers), their sessions and login throttles; what organizers need to edit
// letters: ownership, collaborators, review, co-signing organisations; platform settings; and the
// staging table that holds a CSV import between its preview and its confirmation.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('users')
    .addColumn('id', 'integer', (c) => c.primaryKey().autoIncrement())
    .addColumn('email', 'text', (c) => c.notNull().unique())
    .addColumn('role', 'text', (c) => c.notNull().check(sql`role in ('admin','organizer')`))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('disabled_at', 'text')
    .addColumn('last_login_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .execute();

  // Keyed by a hash of the address tried, whether or not an account has it, so a lock reveals nothing.
  await db.schema
    .createTable('login_throttles')
    .addColumn('key_hash', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'text')
    .addColumn('updated_at', 'text', (c) => c.notNull())
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
    .alterTable('letters')
    .addColumn('owner_id', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .execute();
  await db.schema
    .alterTable('letters')
    .addColumn('close_on_goal', 'integer', (c) => c.notNull().defaultTo(0))
    .execute();
  await db.schema
    .alterTable('letters')
    .addColumn('organisations', 'text', (c) => c.notNull().defaultTo(''))
    .execute();
  await db.schema.alterTable('letters').addColumn('review_requested_at', 'text').execute();
  await db.schema.alterTable('letters').addColumn('published_at', 'text').execute();
  await db.schema.alterTable('letters').addColumn('closed_at', 'text').execute();
  await db.schema.createIndex('letters_owner').on('letters').column('owner_id').execute();
  // The closing job looks for open letters past their closing date.
  await db.schema
    .createIndex('letters_status_closes')
    .on('letters')
    .columns(['status', 'closes_at'])
    .execute();

  await db.schema
    .alterTable('letter_versions')
    .addColumn('created_by', 'integer', (c) => c.references('users.id').onDelete('set null'))
    .execute();

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

  // Confirmed signatures per country, kept beside letters.signature_count in the same transactions, so
  // the letter page and the compiled letter show the breakdown without counting rows.
  await db.schema
    .createTable('letter_country_counts')
    .addColumn('letter_id', 'integer', (c) => c.notNull().references('letters.id').onDelete('cascade'))
    .addColumn('country', 'text', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull().defaultTo(0))
    .addPrimaryKeyConstraint('letter_country_counts_pk', ['letter_id', 'country'])
    .execute();
  await sql`insert into letter_country_counts (letter_id, country, count)
    select letter_id, country, count(*) from signatures where status = 'confirmed' group by letter_id, country`.execute(
    db,
  );

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
}

// No down(): SQLite cannot drop a column that holds a foreign key; to go back, restore a backup.
