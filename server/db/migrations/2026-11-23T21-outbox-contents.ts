import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// The rendered e-mail moves out of outbox_messages into outbox_contents. SQLite rewrites a whole row
// whenever one of its columns changes, and the queue changes a message's state three times (claimed,
// sent or retried, and sometimes bounced): with the bodies in the row, each of those rewrote kilobytes.
// Queue state is now a small row; the content is written once and read when the message is sent.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
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
  await sql`insert into outbox_contents (outbox_message_id, subject, text_body, html_body, headers)
    select id, subject, text_body, html_body, headers from outbox_messages`.execute(db);
  for (const column of ['subject', 'text_body', 'html_body', 'headers']) {
    await db.schema.alterTable('outbox_messages').dropColumn(column).execute();
  }
}

// No down(): the columns could be added back, but not their values once messages were scrubbed.
