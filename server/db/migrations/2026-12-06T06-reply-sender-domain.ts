import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// A reply's From can be anyone's address: the domain whose DKIM signature on the reply verified and is
// aligned with its From (deliveries/reply-sender-check.ts) is what vouches for it. Null: nothing did
// (no signature, a broken one, another domain's, or its key could not be read). Replies stored before
// were never checked: null, shown as not verified.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('delivery_replies').addColumn('sender_domain', 'text').execute();
}

// No down(): to go back, restore a backup.
