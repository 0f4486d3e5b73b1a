import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '../../../server/audit/audit-repository.js';
import type { Db } from '../../../server/db/database.js';
import { auditEntries } from '../../support/audit-log.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../../support/test-database.js';

const REFUSED = 'the audit log cannot be changed';
const NOW = new Date('2026-12-05T10:00:00.000Z');

// The database itself keeps the audit log append-only, on SQLite by triggers and on PostgreSQL by a
// trigger function: not the application's good manners, but anyone who reaches the database.
describe('the audit log, in the database itself', () => {
  let t: TestDatabase;
  let other: Db;
  beforeAll(async () => {
    t = await createTestDatabase();
    const audit = new AuditRepository(t.db);
    await audit.record({ actor: 'platform', action: 'login', details: { n: 1 } }, NOW);
    await audit.record({ actor: 'supporter', action: 'login', details: { n: 2 } }, NOW);
    // A second connection of its own, as another process or a person with a database client would have.
    other = t.connect().db;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('takes new entries', async () => {
    const before = await auditEntries(t.db);
    await new AuditRepository(other).record({ actor: 'platform', action: 'login' }, NOW);
    expect(await auditEntries(t.db)).toHaveLength(before.length + 1);
  });

  it('refuses to change an entry, from any connection', async () => {
    const before = await auditEntries(t.db);
    for (const db of [t.db, other]) {
      await expect(
        db.updateTable('audit_events').set({ actor_email: 'someone@example.org' }).execute(),
      ).rejects.toThrow(REFUSED);
      await expect(
        db.updateTable('audit_events').set({ details: '{}' }).where('id', '=', before[0]!.id).execute(),
      ).rejects.toThrow(REFUSED);
    }
    expect(await auditEntries(t.db)).toEqual(before);
  });

  it('refuses to remove an entry, or all of them, from any connection', async () => {
    const before = await auditEntries(t.db);
    for (const db of [t.db, other]) {
      await expect(db.deleteFrom('audit_events').where('id', '=', before[0]!.id).execute()).rejects.toThrow(
        REFUSED,
      );
      await expect(db.deleteFrom('audit_events').execute()).rejects.toThrow(REFUSED);
    }
    if (testDialect() === 'postgres')
      await expect(sql`truncate audit_events`.execute(other)).rejects.toThrow(REFUSED);
    expect(await auditEntries(t.db)).toEqual(before);
  });

  it('refuses an upsert over an entry, and an insert that names a taken id', async () => {
    const before = await auditEntries(t.db);
    const first = before[0]!;
    const again = {
      id: first.id,
      at: first.at,
      actor_email: 'nobody',
      action: 'login',
      target_type: '',
      target_id: '',
      details: '{}',
    };
    await expect(
      other
        .insertInto('audit_events')
        .values(again)
        .onConflict((oc) => oc.column('id').doUpdateSet({ actor_email: 'nobody' }))
        .execute(),
    ).rejects.toThrow(REFUSED);
    // SQLite's trigger refuses it by name; PostgreSQL's primary key refuses it.
    await expect(other.insertInto('audit_events').values(again).execute()).rejects.toThrow();
    expect(await auditEntries(t.db)).toEqual(before);
  });
});
