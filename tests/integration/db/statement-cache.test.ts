import SQLite from 'better-sqlite3';
import { Kysely, SqliteDialect, sql, type Generated } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { withStatementCache } from '../../../server/db/statement-cache.js';

interface Tables {
  items: { id: Generated<number>; name: string };
}

describe('the prepared-statement cache under Kysely', () => {
  let sqlite: SQLite.Database;
  let prepare: ReturnType<typeof vi.spyOn>;

  beforeEach(() => {
    sqlite = new SQLite(':memory:');
    sqlite.exec('create table items (id integer primary key, name text not null)');
    const insert = sqlite.prepare('insert into items (name) values (?)');
    for (let i = 0; i < 5; i++) insert.run(`item ${i}`);
    prepare = vi.spyOn(sqlite, 'prepare');
  });

  afterEach(() => {
    prepare.mockRestore();
    if (sqlite.open) sqlite.close();
  });

  it('prepares a query text once and reuses it for later runs with other parameters', async () => {
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    const names: string[] = [];
    for (const id of [1, 2, 3]) {
      const row = await db.selectFrom('items').select('name').where('id', '=', id).executeTakeFirstOrThrow();
      names.push(row.name);
    }
    await db.insertInto('items').values({ name: 'new' }).execute();
    await db.insertInto('items').values({ name: 'newer' }).execute();

    expect(names).toEqual(['item 0', 'item 1', 'item 2']);
    expect(prepare).toHaveBeenCalledTimes(2);
    const { count } = await db
      .selectFrom('items')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    expect(count).toBe(7);
  });

  it('keeps at most its bound of statements, dropping the least recently used first', () => {
    const cache = withStatementCache(sqlite, 2);
    const first = cache.prepare('select 1');
    cache.prepare('select 2');
    expect(cache.prepare('select 1')).toBe(first);
    cache.prepare('select 3');

    expect(cache.cachedStatements).toBe(2);
    expect(cache.prepare('select 1')).toBe(first);
    prepare.mockClear();
    cache.prepare('select 2');
    expect(prepare).toHaveBeenCalledTimes(1);
  });

  it('gives a fresh statement while the cached one is busy iterating, and never hands out a busy one', () => {
    const cache = withStatementCache(sqlite);
    const text = 'select name from items order by id';
    const streaming = cache.prepare(text);
    const iterator = streaming.iterate([]);
    const first = iterator.next();
    // Kysely serialises the queries of one connection, so this is what an export streaming on a
    // connection would meet if anything else reached the same text: better-sqlite3 refuses to run a
    // busy statement again ("This statement is busy executing a query").
    const beside = cache.prepare(text);

    expect(beside).not.toBe(streaming);
    expect(beside.all([])).toHaveLength(5);
    expect(first.value).toEqual({ name: 'item 0' });
    expect([...{ [Symbol.iterator]: () => iterator }]).toHaveLength(4);
    // Once the iteration has ended the cached statement is free again, and it is the one reused.
    expect(cache.prepare(text)).toBe(streaming);
  });

  it('streams through Kysely and then reuses the streamed statement', async () => {
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    const names: string[] = [];
    for await (const row of db.selectFrom('items').select('name').orderBy('id').stream())
      names.push(row.name);
    prepare.mockClear();
    const again = await db.selectFrom('items').select('name').orderBy('id').execute();

    expect(names).toEqual(['item 0', 'item 1', 'item 2', 'item 3', 'item 4']);
    expect(again.map((r) => r.name)).toEqual(names);
    expect(prepare).not.toHaveBeenCalled();
  });

  it('closes the connection when Kysely is destroyed', async () => {
    const db = new Kysely<Tables>({ dialect: new SqliteDialect({ database: withStatementCache(sqlite) }) });
    await sql`select 1`.execute(db);
    await db.destroy();
    expect(sqlite.open).toBe(false);
  });
});
