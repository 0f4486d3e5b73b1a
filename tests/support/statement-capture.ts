import SQLite from 'better-sqlite3';
import pg from 'pg';
import { WRITE_MARK_SQL } from '../../server/db/database.js';

/** One distinct SQL text a connection ran, with the parameters of its first run. */
export interface CapturedStatement {
  sql: string;
  parameters: unknown[];
}

type StatementMethod = (this: SQLite.Statement, ...args: unknown[]) => unknown;
type QueryMethod = (this: pg.Client, ...args: unknown[]) => unknown;

/** The SQL text of what pg's Client.query was given: a text, a config object, or a cursor. */
function textOf(query: unknown): string | undefined {
  if (typeof query === 'string') return query;
  if (typeof query === 'object' && query !== null && 'text' in query) return String(query.text);
  return undefined;
}

/**
 * Calls `listener` with every statement any connection in this process runs, on either database, by
 * wrapping the shared prototypes: better-sqlite3's Statement (each run is seen, not each prepare, so
 * statements taken from a cache count too) and pg's Client.query (Kysely's queries, cursors, begin and
 * commit). Nothing is missed: statements Kysely builds, raw ones in repositories, the export's own reader;
 * only PostgreSQL's write-mark read (WRITE_MARK_SQL) is left out.
 * Returns the function that puts the prototypes back.
 */
export function onEveryStatement(listener: (sql: string, parameters: unknown[]) => void): () => void {
  const probe = new SQLite(':memory:');
  const statement = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  const statementOriginals = new Map<string, StatementMethod>();
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = statement[name]!;
    statementOriginals.set(name, original);
    statement[name] = function (this: SQLite.Statement, ...args: unknown[]) {
      listener(this.source, args);
      return original.apply(this, args);
    };
  }
  const client = pg.Client.prototype as unknown as Record<string, QueryMethod>;
  const query = client.query!;
  client.query = function (this: pg.Client, ...args: unknown[]) {
    const text = textOf(args[0]);
    // The write mark's own read (after each commit, and polled) is the connection layer's bookkeeping,
    // the same whatever the use case did: a trace of the use case's statements leaves it out.
    if (text !== undefined && text !== WRITE_MARK_SQL) {
      const values = Array.isArray(args[1]) ? args[1] : ((args[0] as { values?: unknown[] }).values ?? []);
      listener(text, values);
    }
    return query.apply(this, args);
  };
  return () => {
    for (const [name, original] of statementOriginals) statement[name] = original;
    client.query = query;
  };
}

/**
 * Records every distinct statement any connection in this process runs (onEveryStatement), with the
 * parameters of its first run. Call `stop()` to put the prototypes back.
 */
export function captureStatements(): {
  statements: () => CapturedStatement[];
  clear: () => void;
  stop: () => void;
} {
  const seen = new Map<string, CapturedStatement>();
  const stop = onEveryStatement((sql, parameters) => {
    if (!seen.has(sql)) seen.set(sql, { sql, parameters });
  });
  return {
    statements: () => [...seen.values()],
    clear: () => seen.clear(),
    stop,
  };
}
