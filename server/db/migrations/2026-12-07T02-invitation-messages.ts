import { type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// Shared by the SQLite and PostgreSQL chains: plain types and no dialect-specific SQL.
//
// The queued message of an account's latest invitation, so the accounts page can say when it was
// refused or bounced (an invited person otherwise shows as "invited" for good). No foreign key: the
// queue's retention may remove the message, and then there is simply nothing to say. Invitations sent
// before: null.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('users').addColumn('invitation_message_id', 'integer').execute();
}

// No down(): to go back, restore a backup.
