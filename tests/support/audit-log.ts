import { sql } from 'kysely';
import type { Db } from '../../server/db/database.js';

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
  await sql
    .raw(
      `create trigger test_audit_refused before insert on audit_events begin select raise(abort, '${AUDIT_REFUSED}'); end`,
    )
    .execute(db);
  try {
    return await work();
  } finally {
    await sql.raw('drop trigger test_audit_refused').execute(db);
  }
}
