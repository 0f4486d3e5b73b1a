import { sql } from 'kysely';
import type { Db } from '../../server/db/database.js';
import { dialectOf } from '../../server/db/dialect.js';

/** The message of the failure `whileAuditRefused` makes every new audit entry raise. */
export const AUDIT_REFUSED = 'the audit log refuses this entry (test)';

/** Every audit entry, oldest first (of one action when given), with its details parsed. */
export async function auditEntries(db: Db, action?: string) {
  let query = db.selectFrom('audit_events').selectAll();
  if (action) query = query.where('action', '=', action);
  const rows = await query.orderBy('id').execute();
  return rows.map((row) => ({ ...row, details: JSON.parse(row.details) as Record<string, unknown> }));
}

/**
 * Runs `work` while the database refuses every new audit entry, as a full disk or a broken entry would:
 * a change whose entry is written in its own transaction must then not happen either.
 */
export async function whileAuditRefused<T>(db: Db, work: () => Promise<T>): Promise<T> {
  const postgres = dialectOf(db) === 'postgres';
  if (postgres) {
    await sql
      .raw(
        `create function test_audit_refused() returns trigger language plpgsql as $$ begin raise exception '${AUDIT_REFUSED}'; end $$`,
      )
      .execute(db);
    await sql
      .raw(
        'create trigger test_audit_refused before insert on audit_events for each row execute function test_audit_refused()',
      )
      .execute(db);
  } else {
    await sql
      .raw(
        `create trigger test_audit_refused before insert on audit_events begin select raise(abort, '${AUDIT_REFUSED}'); end`,
      )
      .execute(db);
  }
  try {
    return await work();
  } finally {
    await sql
      .raw(postgres ? 'drop trigger test_audit_refused on audit_events' : 'drop trigger test_audit_refused')
      .execute(db);
    if (postgres) await sql.raw('drop function test_audit_refused()').execute(db);
  }
}
