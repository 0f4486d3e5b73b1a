import SQLite from 'better-sqlite3';

/** One distinct SQL text a connection ran, with the parameters of its first run. */
export interface CapturedStatement {
  sql: string;
  parameters: unknown[];
}

type StatementMethod = (this: SQLite.Statement, ...args: unknown[]) => unknown;

/**
 * Records every statement any better-sqlite3 connection in this process runs, by wrapping the shared
 * Statement prototype, so nothing is missed: statements Kysely builds, raw ones in repositories, the
 * export's own reader connection, and statements taken from a cache (each run is seen, not each prepare).
 * Call `stop()` to put the prototype back.
 */
export function captureStatements(): {
  statements: () => CapturedStatement[];
  clear: () => void;
  stop: () => void;
} {
  const probe = new SQLite(':memory:');
  const prototype = Object.getPrototypeOf(probe.prepare('select 1')) as Record<string, StatementMethod>;
  probe.close();
  const seen = new Map<string, CapturedStatement>();
  const originals = new Map<string, StatementMethod>();
  for (const name of ['run', 'get', 'all', 'iterate']) {
    const original = prototype[name]!;
    originals.set(name, original);
    prototype[name] = function (this: SQLite.Statement, ...args: unknown[]) {
      if (!seen.has(this.source)) seen.set(this.source, { sql: this.source, parameters: args });
      return original.apply(this, args);
    };
  }
  return {
    statements: () => [...seen.values()],
    clear: () => seen.clear(),
    stop: () => {
      for (const [name, original] of originals) prototype[name] = original;
    },
  };
}
