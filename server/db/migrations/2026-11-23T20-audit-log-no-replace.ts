import { sql, type Kysely } from 'kysely';

// Frozen once landed: never edit, add a new dated migration instead. Imports nothing from the app.
// INSERT OR REPLACE removes a conflicting row without firing delete triggers (SQLite fires them only
// with recursive triggers on), so it could overwrite an audit entry past the triggers of the
// signer-data migration. An insert that names an id already taken is refused before it replaces anything.

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function up(db: Kysely<any>): Promise<void> {
  await sql`create trigger audit_events_no_replace before insert on audit_events
    when exists (select 1 from audit_events where id = new.id)
    begin select raise(abort, 'the audit log cannot be changed'); end`.execute(db);
}

// No down(): the audit log is append-only by design; to go back, restore a backup.
