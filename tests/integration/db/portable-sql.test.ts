import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUniqueViolation, position, randomHexPerRow, trimCharacters } from '../../../server/db/dialect.js';
import { createLetter } from '../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');

/** The helpers of server/db/dialect.ts mean the same on the database under test. */
describe('portable SQL helpers', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await t.close();
  });

  async function one<T>(expression: ReturnType<typeof sql<T>>): Promise<T> {
    const { rows } = await sql<{ v: T }>`select ${expression} as v`.execute(t.db);
    return rows[0]!.v;
  }

  it('finds where a text occurs, counting characters from 1, and 0 where it does not', async () => {
    expect(Number(await one(position(t.db, sql.val('@'), sql.val('olena@example.org'))))).toBe(6);
    expect(Number(await one(position(t.db, sql.val('ена'), sql.val('Олена'))))).toBe(3);
    expect(Number(await one(position(t.db, sql.val('@'), sql.val('nobody'))))).toBe(0);
    expect(Number(await one(position(t.db, sql.lit('%'), sql.val('100%'))))).toBe(4);
  });

  it('trims exactly the characters given, at both ends only', async () => {
    const spaces = ' \t\n\u00a0\u3000';
    expect(await one(trimCharacters(t.db, sql.val(`${spaces}a b${spaces}`), spaces))).toBe('a b');
    expect(await one(trimCharacters(t.db, sql.val(spaces), spaces))).toBe('');
    expect(await one(trimCharacters(t.db, sql.val('xax'), ' '))).toBe('xax');
  });

  it('draws a new random value for every row one statement updates', async () => {
    // Each letter of the factory comes with a recipient of its own.
    for (let i = 0; i < 3; i++) await createLetter(t.db, NOW);
    await t.db
      .updateTable('recipients')
      .set({ title: randomHexPerRow(t.db) })
      .execute();
    const titles = (await t.db.selectFrom('recipients').select('title').execute()).map((r) => r.title);
    expect(titles).toHaveLength(3);
    for (const title of titles) expect(title).toMatch(/^[0-9a-f]{32}$/);
    expect(new Set(titles).size).toBe(3);
  });

  it('tells a unique violation from other failed writes', async () => {
    const first = await createLetter(t.db, NOW);
    const second = await createLetter(t.db, NOW);
    const failure = (write: Promise<unknown>) =>
      write.then(
        () => 'no error',
        (error: unknown) => error,
      );
    const duplicate = await failure(
      t.db.updateTable('letters').set({ slug: first.slug }).where('id', '=', second.id).execute(),
    );
    expect(isUniqueViolation(duplicate)).toBe(true);
    const missingAccount = await failure(
      t.db
        .insertInto('letter_collaborators')
        .values({ letter_id: first.id, user_id: 999_999, created_at: NOW.toISOString() })
        .execute(),
    );
    expect(missingAccount).not.toBe('no error');
    expect(isUniqueViolation(missingAccount)).toBe(false);
    expect(isUniqueViolation(new Error('UNIQUE constraint failed: letters.slug'))).toBe(false);
    expect(isUniqueViolation(undefined)).toBe(false);
  });
});
