import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Tx } from '../../../server/db/database.js';
import { GroupCommit } from '../../../server/db/group-commit.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');

/**
 * Group commit on the database under test (on PostgreSQL the group holds one pooled connection in one
 * transaction, and a failed statement aborts that whole transaction). SQLite's own side, its commit
 * statements and a commit that fails, is in group-commit.test.ts.
 */
describe('group commit on either database', () => {
  let t: TestDatabase;
  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await t.close();
  });

  const hit = (key: string) => async (tx: Tx) => {
    await tx.insertInto('signing_hits').values({ key_hash: key, hit_at_ms: NOW.getTime() }).execute();
    return key;
  };
  const stored = async () =>
    (await t.db.selectFrom('signing_hits').select('key_hash').orderBy('key_hash').execute()).map(
      (r) => r.key_hash,
    );

  it('rejects only the unit whose statement failed; the others of its group run again and are stored', async () => {
    const group = new GroupCommit(t.db);
    // A statement the database refuses (a second row with the same primary key): on PostgreSQL it
    // aborts the shared transaction, so nothing else may run in it.
    const failing = async (tx: Tx) => {
      await tx.insertInto('signing_hits').values({ key_hash: 'half-done', hit_at_ms: 1 }).execute();
      const { id } = await tx
        .selectFrom('signing_hits')
        .select('id')
        .where('key_hash', '=', 'half-done')
        .executeTakeFirstOrThrow();
      await tx.insertInto('signing_hits').values({ id, key_hash: 'again', hit_at_ms: 1 }).execute();
    };

    const outcomes = await Promise.allSettled([group.run(hit('a')), group.run(failing), group.run(hit('c'))]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stored()).toEqual(['a', 'c']);
    // The next group is not affected.
    await group.run(hit('d'));
    expect(await stored()).toEqual(['a', 'c', 'd']);
  });

  it('answers each unit after the commit that holds it, work handed in meanwhile in the next group', async () => {
    const group = new GroupCommit(t.db, 2);

    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((key) => group.run(hit(key))));

    expect(results).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await stored()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });
});
