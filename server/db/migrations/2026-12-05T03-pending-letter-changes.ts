import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// When the platform requires review, an organizer's changes to a published letter wait here until an
// admin approves them; the public, signing and deliveries keep using the approved version meanwhile.
// The waiting edit is one JSON document (texts, recipients and settings, as the editor saved them), so
// no unapproved version ever appears in letter_versions, the history or the public page.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table letters add column pending_edit text`.execute(db);
  await sql`alter table letters add column pending_edit_at text`.execute(db);
  await sql`alter table letters add column pending_edit_by integer references users(id) on delete set null`.execute(
    db,
  );
}

// No down(): restore a backup to go back.
