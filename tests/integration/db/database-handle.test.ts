import { statSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { flushWriteAheadLog } from '../../../server/db/database.js';
import { dialectOf } from '../../../server/db/dialect.js';
import { rowVersionsMentioning } from '../../support/database-file.js';
import { createLetter } from '../../support/factories.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');

describe('the database handle (SQLite or PostgreSQL, as TEST_DATABASE says)', () => {
  let t: TestDatabase;

  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await t.close();
  });

  it('speaks the dialect it was opened for', () => {
    expect(t.handle.dialect).toBe(testDialect());
    expect(dialectOf(t.db)).toBe(testDialect());
    expect(t.handle.sqlite !== undefined).toBe(testDialect() === 'sqlite');
  });

  it('moves the write mark as soon as a transaction of its own has committed', async () => {
    const { id } = await createLetter(t.db, NOW);
    const before = t.handle.writeMark();
    let inside = '';
    await t.db.transaction().execute(async (tx) => {
      await tx.updateTable('letters').set({ signature_count: 2 }).where('id', '=', id).execute();
      inside = t.handle.writeMark();
    });
    const after = t.handle.writeMark();
    expect(after).not.toBe(before);
    // On PostgreSQL a page read on another pooled connection while the transaction was open (the old
    // rows) must not outlive its commit. SQLite's reads wait for the one connection the transaction holds.
    if (t.handle.dialect === 'postgres') expect(after).not.toBe(inside);
  });

  it('moves the write mark as soon as a statement of its own outside a transaction has written', async () => {
    const { id } = await createLetter(t.db, NOW);
    const before = t.handle.writeMark();
    await t.db.updateTable('letters').set({ signature_count: 3 }).where('id', '=', id).execute();
    expect(t.handle.writeMark()).not.toBe(before);
  });

  it("moves the write mark after another connection's commit, as another process's", async () => {
    const { id } = await createLetter(t.db, NOW);
    const other = t.connect();
    const before = t.handle.writeMark();
    await other.db.updateTable('letters').set({ signature_count: 7 }).where('id', '=', id).execute();
    // SQLite sees it at once; PostgreSQL at its next poll (every half second).
    await vi.waitFor(() => expect(t.handle.writeMark()).not.toBe(before), { timeout: 5_000, interval: 50 });
  });

  it('gives counts and sums as numbers on both databases', async () => {
    await createLetter(t.db, NOW);
    await createLetter(t.db, NOW);
    const row = await t.db
      .selectFrom('letters')
      .select((eb) => [eb.fn.countAll<number>().as('count'), eb.fn.sum<number>('signature_count').as('sum')])
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ count: 2, sum: 0 });
    const { rows } = await sql<{ half: number }>`select sum(1.5) as half`.execute(t.db);
    expect(rows[0]!.half).toBe(1.5);
  });

  it('streams a query in chunks', async () => {
    for (let i = 0; i < 5; i++) await createLetter(t.db, NOW);
    const ids: number[] = [];
    for await (const row of t.db.selectFrom('letters').select('id').orderBy('id').stream(2)) ids.push(row.id);
    expect(ids).toHaveLength(5);
    expect([...ids].sort((a, b) => a - b)).toEqual(ids);
  });

  it('leaves no old row version behind after a flush: SQLite empties its log, PostgreSQL vacuums', async () => {
    const { id } = await createLetter(t.db, NOW, { slug: 'renamed-away-slug' });
    await t.db.updateTable('letters').set({ slug: 'renamed-slug' }).where('id', '=', id).execute();
    await flushWriteAheadLog(t.db);
    if (t.location.dialect === 'sqlite') {
      expect(statSync(`${t.location.path}-wal`).size).toBe(0);
    } else {
      const onDisk = { platform: { database: t.handle }, config: { database: t.location } };
      expect(await rowVersionsMentioning(onDisk, 'renamed-slug')).toBeGreaterThan(0);
      expect(await rowVersionsMentioning(onDisk, 'renamed-away-slug')).toBe(0);
    }
  });

  it('leaves the write mark alone after an update outside a transaction that changed no row', async () => {
    // The mark's first part is this connection's own writes on both databases (SQLite's total_changes(),
    // PostgreSQL's count of commits); the rest follows other writers, whom other test files are.
    const own = () => t.handle.writeMark().split(':')[0];
    const before = own();
    await t.db.updateTable('letters').set({ signature_count: 3 }).where('id', '=', -1).execute();
    expect(own()).toBe(before);
  });
});
