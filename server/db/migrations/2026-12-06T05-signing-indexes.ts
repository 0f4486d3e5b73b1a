import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// Two indexes every signing wrote and no query reads (issue 12). Each was keyed by a random value, so
// each signing dirtied a page of its own in both, and every group commit wrote those pages to the log:
// - outbox_messages_to_address: the one query by address (scrubbing an erased supporter's mail) matches
//   lower(to_address), which this index cannot serve; that rare query walks the queue either way;
// - signatures_email_hash: what it served (everything held for an address) goes through the unique
//   (letter_id, email_hash) key, one look-up per letter, as the signing's own look-up already does.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('outbox_messages_to_address').ifExists().execute();
  await db.schema.dropIndex('signatures_email_hash').ifExists().execute();
}

// No down(): to go back, restore a backup.
