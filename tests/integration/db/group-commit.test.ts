import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GROUP_COMMIT_MAX, GroupCommit } from '../../../server/db/group-commit.js';
import { createLetter } from '../../support/factories.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');

describe('group commit of signing writes', () => {
  let t: TempDatabase;
  let letterId: number;

  beforeEach(async () => {
    t = await createTempDatabase();
    ({ id: letterId } = await createLetter(t.db, NOW));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

  /** One unit of work: a signing hit under its own key (any small write will do). */
  const hit = (key: string) => async (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
    await tx.insertInto('signing_hits').values({ key_hash: key, hit_at_ms: NOW.getTime() }).execute();
    return key;
  };
  const stored = async () =>
    (await t.db.selectFrom('signing_hits').select('key_hash').orderBy('key_hash').execute()).map(
      (r) => r.key_hash,
    );

  it('runs the work that arrives together in one transaction and answers each after its commit', async () => {
    // No time budget: on a busy machine one unit can outlast GROUP_COMMIT_MAX_MS and end the group early
    // (the budget has its own test below).
    const group = new GroupCommit(t.db, GROUP_COMMIT_MAX, Infinity);
    const probe = new SQLite(':memory:');
    const statement = Object.getPrototypeOf(probe.prepare('select 1')) as SQLite.Statement;
    probe.close();
    const runs = vi.spyOn(statement, 'run');
    const answered: string[] = [];

    const results = await Promise.all(
      ['a', 'b', 'c'].map((key) =>
        group.run(hit(key)).then(async (value) => {
          // Acknowledged only when its row is committed: another connection already reads it.
          const other = t.connect().db;
          const seen = await other
            .selectFrom('signing_hits')
            .select('key_hash')
            .where('key_hash', '=', key)
            .execute();
          answered.push(`${value}:${seen.length}`);
          return value;
        }),
      ),
    );

    expect(results).toEqual(['a', 'b', 'c']);
    expect(answered.sort()).toEqual(['a:1', 'b:1', 'c:1']);
    const commits = runs.mock.contexts.filter((s) => (s as SQLite.Statement).source === 'commit');
    expect(commits).toHaveLength(1);
    expect(await stored()).toEqual(['a', 'b', 'c']);
  });

  it('rejects only the work that failed, leaving nothing of it; the others in its group are stored', async () => {
    const group = new GroupCommit(t.db);
    const failing = async (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
      await tx.insertInto('signing_hits').values({ key_hash: 'half-done', hit_at_ms: 1 }).execute();
      throw new Error('refused');
    };

    const outcomes = await Promise.allSettled([group.run(hit('a')), group.run(failing), group.run(hit('c'))]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((outcomes[1] as PromiseRejectedResult).reason).toEqual(new Error('refused'));
    expect(await stored()).toEqual(['a', 'c']);
  });

  it('stores the rest of a group whose commit fails, running each unit alone, and rejects the one that breaks it', async () => {
    const group = new GroupCommit(t.db);
    // A deferred foreign key is checked at commit: one bad row makes the commit itself fail.
    const deferredBreak = async (tx: Parameters<Parameters<GroupCommit['run']>[0]>[0]) => {
      await sql`pragma defer_foreign_keys = on`.execute(tx);
      await tx
        .insertInto('letter_country_counts')
        .values({ letter_id: letterId + 1000, country: 'KR', count: 1 })
        .execute();
    };

    const outcomes = await Promise.allSettled([
      group.run(hit('a')),
      group.run(deferredBreak),
      group.run(hit('c')),
    ]);

    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(await stored()).toEqual(['a', 'c']);
    // The next group is not affected.
    await group.run(hit('d'));
    expect(await stored()).toEqual(['a', 'c', 'd']);
  });

  it('keeps no group waiting: work handed in while a group commits runs in the next one', async () => {
    const group = new GroupCommit(t.db, 2);

    const results = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((key) => group.run(hit(key))));

    expect(results).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(await stored()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('ends a group once its time is up, and lets the event loop turn before the rest commit in the next', async () => {
    // A clock that moves 3 ms each time the group looks at it: with 8 ms, a group takes three units.
    let clock = 0;
    const group = new GroupCommit(t.db, 64, 8, () => (clock += 3));
    const order: string[] = [];
    const answered = (key: string) => {
      order.push(key);
      // Once the first group is answered, a callback of the event loop's next turn: it must come before
      // the second group, not after every group (one long turn).
      if (key === 'a') setImmediate(() => order.push('loop turned'));
      return key;
    };

    const results = await Promise.all(
      ['a', 'b', 'c', 'd', 'e'].map((key) => group.run(hit(key)).then(answered)),
    );

    expect(results).toEqual(['a', 'b', 'c', 'd', 'e']);
    expect(order.indexOf('loop turned')).toBeGreaterThan(-1);
    expect(order.indexOf('loop turned')).toBeLessThan(order.indexOf('d'));
    expect(order.slice(0, 3)).toEqual(['a', 'b', 'c']);
    expect(await stored()).toEqual(['a', 'b', 'c', 'd', 'e']);
  });

  it('refuses waiting work one unit at a time when no transaction can begin, instead of retrying forever', async () => {
    const group = new GroupCommit(t.db);
    const realTransaction = t.db.transaction.bind(t.db);
    // Kysely's begin is deferred and succeeds even under another connection's write lock, so the failure
    // is made at begin itself: execute rejects without ever calling the work. After a bound number of
    // failures the real transaction returns, so a drain that retried instead of refusing ends (and fails
    // the assertions) rather than hanging the test.
    let begins = 0;
    vi.spyOn(t.db, 'transaction').mockImplementation(() => {
      begins += 1;
      if (begins > 20) return realTransaction();
      return { execute: () => Promise.reject(new Error('cannot begin')) } as unknown as ReturnType<
        typeof realTransaction
      >;
    });

    const outcomes = await Promise.allSettled([group.run(hit('a')), group.run(hit('b'))]);

    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([
      new Error('cannot begin'),
      new Error('cannot begin'),
    ]);
    // Each unit: one shared begin that failed, then one alone that failed too.
    expect(begins).toBe(4);
    expect(await stored()).toEqual([]);
  });

  it('refuses work while another connection holds the write lock, and stores the next once it is free', async () => {
    const group = new GroupCommit(t.db);
    const other = t.connect().sqlite;
    // Begin is deferred, so each unit fails at its first write, under the busy timeout of 0.
    other.pragma('busy_timeout = 0');
    t.sqlite.pragma('busy_timeout = 0');
    other.exec('begin immediate');
    try {
      const outcomes = await Promise.allSettled([group.run(hit('a')), group.run(hit('b'))]);
      expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    } finally {
      other.exec('rollback');
    }
    expect(await group.run(hit('c'))).toBe('c');
  });
});
