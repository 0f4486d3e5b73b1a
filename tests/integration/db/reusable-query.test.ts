import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ReusableQuery } from '../../../server/db/reusable-query.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

describe('ReusableQuery', () => {
  let t: TestDatabase;

  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await t.close();
  });

  const HITS = new ReusableQuery((db, p: { key: string; at: number }) =>
    db.insertInto('signing_hits').values({ key_hash: p.key, hit_at_ms: p.at }),
  );
  const COUNT = new ReusableQuery((db, p: { key: string; since: number }) =>
    db
      .selectFrom('signing_hits')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('key_hash', '=', p.key)
      .where('hit_at_ms', '>', p.since),
  );

  it('runs again with each call its own values', async () => {
    for (const [key, at] of [
      ['a', 10],
      ['a', 20],
      ['b', 30],
    ] as const)
      await HITS.execute(t.db, { key, at });
    const count = async (key: string, since: number) =>
      Number((await COUNT.execute(t.db, { key, since })).rows[0]!.n);
    expect([await count('a', 0), await count('a', 15), await count('b', 0), await count('c', 0)]).toEqual([
      2, 1, 1, 0,
    ]);
  });

  it('keeps the constants of the query and runs in an open transaction', async () => {
    const ONE_KEY = new ReusableQuery((db, p: { at: number }) =>
      db.insertInto('signing_hits').values({ key_hash: 'fixed', hit_at_ms: p.at }),
    );
    await t.db.transaction().execute(async (tx) => {
      await ONE_KEY.execute(tx, { at: 1 });
      await ONE_KEY.execute(tx, { at: 2 });
    });
    const rows = await t.db
      .selectFrom('signing_hits')
      .select(['key_hash', 'hit_at_ms'])
      .orderBy('hit_at_ms')
      .execute();
    expect(rows.map((r) => [r.key_hash, Number(r.hit_at_ms)])).toEqual([
      ['fixed', 1],
      ['fixed', 2],
    ]);
  });

  it('compiles a text of its own for each set of values given (an insert of other columns)', async () => {
    const INSERT = new ReusableQuery((db, row: { key_hash: string; hits?: number }) =>
      db.insertInto('limit_counters').values({ hits: 1, reset_at_ms: 5, ...row }),
    );
    await INSERT.execute(t.db, { key_hash: 'x' });
    await INSERT.execute(t.db, { key_hash: 'y', hits: 7 });
    const rows = await t.db
      .selectFrom('limit_counters')
      .select(['key_hash', 'hits'])
      .orderBy('key_hash')
      .execute();
    expect(rows.map((r) => [r.key_hash, Number(r.hits)])).toEqual([
      ['x', 1],
      ['y', 7],
    ]);
  });

  it('refuses a query that computes with a value instead of passing it, rather than freezing the result in its text', async () => {
    const COMPUTED = new ReusableQuery((db, p: { at: number }) =>
      db.insertInto('signing_hits').values({ key_hash: 'k', hit_at_ms: p.at + 1000 }),
    );
    await expect(COMPUTED.execute(t.db, { at: 1 })).rejects.toThrow(/"at" is computed with/);
    const UNUSED = new ReusableQuery((db, _p: { at: number }) =>
      db.insertInto('signing_hits').values({ key_hash: 'k', hit_at_ms: 1 }),
    );
    await expect(UNUSED.execute(t.db, { at: 1 })).rejects.toThrow(/at never passed as a value/);
    expect(await t.db.selectFrom('signing_hits').selectAll().execute()).toEqual([]);
  });
});
