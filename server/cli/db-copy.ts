import { existsSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { copySqliteToPostgres, DatabaseCopyError } from '../db/database-copy.js';
import { openDatabase, type DatabaseHandle, type SqliteHandle } from '../db/database.js';
import { configOrExit } from '../main-support.js';

const USAGE =
  'Usage: npm run db:copy -- --to postgres://user:password@host:5432/name [--from path/to/undersigned.sqlite]\n' +
  'Copies every table of the SQLite database (DATABASE_PATH unless --from) into an empty PostgreSQL database,\n' +
  'then checks that every table has the same number of rows on both sides.';

/** The target as it may be printed: never its password. */
function shown(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = parsed.password ? '***' : '';
    return parsed.toString();
  } catch {
    return 'the PostgreSQL database';
  }
}

/** `npm run db:copy`: moves an SQLite deployment's data into PostgreSQL, all or nothing. */
async function main(): Promise<number> {
  let values: { to?: string | undefined; from?: string | undefined };
  try {
    ({ values } = parseArgs({ options: { to: { type: 'string' }, from: { type: 'string' } }, strict: true }));
  } catch (error) {
    console.error(`${error instanceof Error ? error.message : String(error)}\n${USAGE}`);
    return 2;
  }
  if (!values.to || !/^postgres(ql)?:\/\/\S+$/.test(values.to)) {
    console.error(USAGE);
    return 2;
  }
  const from = values.from ?? configOrExit().databasePath;
  if (!existsSync(from)) {
    console.error(
      `There is no SQLite database at ${from}. Name it with --from, or set DATA_DIR/DATABASE_PATH.`,
    );
    return 1;
  }
  console.log(`Copying ${from} into ${shown(values.to)} …`);
  let source: SqliteHandle | undefined;
  let target: DatabaseHandle | undefined;
  try {
    source = openDatabase(from);
    target = openDatabase({ dialect: 'postgres', url: values.to, poolSize: 2 });
    const started = Date.now();
    const copied = await copySqliteToPostgres(source, target, ({ table, rows }) =>
      console.log(`  ${table.padEnd(28)} ${String(rows).padStart(10)} rows`),
    );
    const total = copied.reduce((sum, t) => sum + t.rows, 0);
    console.log(
      `Done in ${((Date.now() - started) / 1000).toFixed(1)} s: ${copied.length} tables, ${total} rows, ` +
        'every count checked against the source. Set DATABASE_URL to the target and start the platform.',
    );
    return 0;
  } catch (error) {
    if (error instanceof DatabaseCopyError) {
      console.error(`Nothing was copied: ${error.message}`);
      return 1;
    }
    throw error;
  } finally {
    await target?.close();
    await source?.close();
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    // pg's errors carry no password; the message says what the server refused (no such database, auth…).
    console.error('The copy failed and nothing was kept:', error instanceof Error ? error.message : error);
    process.exit(1);
  },
);
