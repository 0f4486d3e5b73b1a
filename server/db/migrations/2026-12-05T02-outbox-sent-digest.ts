import type { Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Sent mail keeps no body: once a message is sent (or cancelled, or failed long enough ago that no
// admin retries it), its content and attachments are deleted, and the queue row keeps the SHA-256
// and size of the exact bytes handed to SMTP, so the record still proves what went out.
// Supporter confirmations are no longer rendered in the signing request: the row says in which
// language the worker renders it, just before sending.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('outbox_messages').addColumn('sent_sha256', 'text').execute();
  await db.schema.alterTable('outbox_messages').addColumn('sent_size', 'integer').execute();
  await db.schema.alterTable('outbox_messages').addColumn('content_removed_at', 'text').execute();
  await db.schema.alterTable('outbox_messages').addColumn('render_language', 'text').execute();
}

// No down(): the bodies dropped after sending cannot be brought back.
