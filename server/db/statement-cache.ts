import type SQLite from 'better-sqlite3';
import type { SqliteDatabase, SqliteStatement } from 'kysely';

/** How many prepared statements one connection keeps; the app's queries are a few hundred distinct texts. */
export const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely's SQLite driver sees it, with prepared statements kept by SQL text. The driver
 * calls `prepare()` for every query, and preparing costs more than running the small queries a page or a
 * signature makes. Least recently used statements are dropped past `size`, so texts that vary (an `in`
 * list of any length) cannot grow it without bound. A statement in the middle of `iterate()` (a streamed
 * export) is busy and better-sqlite3 refuses to run it again: that caller gets a fresh, uncached one.
 */
export function withStatementCache(
  sqlite: SQLite.Database,
  size = STATEMENT_CACHE_SIZE,
): SqliteDatabase & { readonly cachedStatements: number } {
  const statements = new Map<string, SQLite.Statement>();
  return {
    prepare(text: string): SqliteStatement {
      const cached = statements.get(text);
      if (cached) {
        if (cached.busy) return sqlite.prepare(text);
        // A Map iterates in insertion order: moving a hit to the end keeps the oldest use first.
        statements.delete(text);
        statements.set(text, cached);
        return cached;
      }
      const statement = sqlite.prepare(text);
      statements.set(text, statement);
      if (statements.size > size) {
        const oldest = statements.keys().next().value as string;
        statements.delete(oldest);
      }
      return statement;
    },
    close(): void {
      statements.clear();
      sqlite.close();
    },
    get cachedStatements(): number {
      return statements.size;
    },
  };
}
