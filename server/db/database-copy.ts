import { sql, type Kysely, type Transaction } from 'kysely';
import type { DatabaseHandle, SqliteHandle } from './database.js';
import { migrateToLatest } from './migrate.js';

/** One table copied: its name and the rows it holds on both sides afterwards. */
export interface TableCopied {
  table: string;
  rows: number;
}

/** Why a copy was refused or undone; the message says what to do. Nothing is left half-written. */
export class DatabaseCopyError extends Error {}

/**
 * PostgreSQL's bind-parameter limit is 65,535 per statement; a batch stays well under it whatever the
 * table's width, and large enough that a million signatures take a few hundred statements.
 */
const PARAMETERS_PER_BATCH = 30_000;
const MAX_ROWS_PER_BATCH = 1_000;

/**
 * Copies every table of an SQLite database into an empty PostgreSQL database (`npm run db:copy`):
 * both are brought to the latest schema first; the PostgreSQL side must hold no rows. The SQLite side is
 * read in one read transaction (a consistent snapshot even if a platform is still writing), the
 * PostgreSQL side written in one transaction: either everything arrives and every table's count matches
 * the source's, or nothing is kept. Identity sequences are moved past the copied ids, so the next insert
 * gets a new one. Rows are streamed in batches, so memory stays flat at a million signatures.
 */
export async function copySqliteToPostgres(
  source: SqliteHandle,
  target: DatabaseHandle,
  onTable: (copied: TableCopied) => void = () => {},
): Promise<TableCopied[]> {
  if (target.dialect !== 'postgres') throw new DatabaseCopyError('The target must be a PostgreSQL database.');
  await migrateToLatest(source.db);
  await migrateToLatest(target.db);
  // Repositories are typed by the schema; a copy walks tables by name, whatever they are.
  const pg = target.db as unknown as Kysely<Record<string, Record<string, unknown>>>;

  const order = await tablesInDependencyOrder(pg);
  const sourceTables = source.sqlite
    .prepare<[], { name: string }>(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' and name not like 'kysely\\_%' escape '\\'",
    )
    .all()
    .map((r) => r.name);
  const missing = sourceTables.filter((t) => !order.includes(t));
  const extra = order.filter((t) => !sourceTables.includes(t));
  if (missing.length > 0 || extra.length > 0) {
    throw new DatabaseCopyError(
      `The two schemas differ (only in SQLite: ${missing.join(', ') || 'none'}; only in PostgreSQL: ${extra.join(', ') || 'none'}). Both run this version's migrations; is the target another application's database?`,
    );
  }
  const notEmpty = [];
  for (const table of order) {
    const { rows } = await sql<{
      found: boolean;
    }>`select exists (select 1 from ${sql.table(table)}) as found`.execute(pg);
    if (rows[0]?.found) notEmpty.push(table);
  }
  if (notEmpty.length > 0) {
    throw new DatabaseCopyError(
      `The target already holds data (${notEmpty.join(', ')}). Copy into a new, empty database (createdb), so nothing there is mixed with or overwritten by the copy.`,
    );
  }

  const copied: TableCopied[] = [];
  // One snapshot of the source: a platform still writing cannot make the tables disagree with each other.
  source.sqlite.exec('begin');
  try {
    await pg.transaction().execute(async (tx) => {
      for (const table of order) {
        const rows = await copyTable(source, tx, table);
        copied.push({ table, rows });
        onTable({ table, rows });
      }
      await moveIdentitiesPastCopiedIds(tx);
    });
  } finally {
    source.sqlite.exec('commit');
  }
  return copied;
}

/** Copies one table in batches and checks, inside the target's transaction, that the counts agree. */
async function copyTable(
  source: SqliteHandle,
  tx: Transaction<Record<string, Record<string, unknown>>>,
  table: string,
): Promise<number> {
  const quoted = `"${table.replaceAll('"', '""')}"`;
  const targetColumns = (
    await sql<{ column_name: string }>`
      select column_name from information_schema.columns
      where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(tx)
  ).rows.map((r) => r.column_name);
  const sourceColumns = source.sqlite
    .prepare<[], { name: string }>(`select name from pragma_table_info('${table.replaceAll("'", "''")}')`)
    .all()
    .map((r) => r.name);
  const onlyInSource = sourceColumns.filter((c) => !targetColumns.includes(c));
  if (onlyInSource.length > 0 || sourceColumns.length !== targetColumns.length) {
    throw new DatabaseCopyError(
      `The table ${table} has different columns on the two sides (SQLite: ${sourceColumns.join(', ')}; PostgreSQL: ${targetColumns.join(', ')}).`,
    );
  }
  const expected = source.sqlite.prepare<[], { n: number }>(`select count(*) as n from ${quoted}`).get()!.n;
  const perBatch = Math.max(
    1,
    Math.min(MAX_ROWS_PER_BATCH, Math.floor(PARAMETERS_PER_BATCH / sourceColumns.length)),
  );
  // In rowid order, the order rows were written in: ids arrive ascending, as the originals did.
  const rows = source.sqlite.prepare(`select * from ${quoted} order by rowid`).iterate() as IterableIterator<
    Record<string, unknown>
  >;
  let batch: Record<string, unknown>[] = [];
  for (const row of rows) {
    batch.push(row);
    if (batch.length === perBatch) {
      await tx.insertInto(table).values(batch).execute();
      batch = [];
    }
  }
  if (batch.length > 0) await tx.insertInto(table).values(batch).execute();

  const { rows: counted } = await sql<{ n: number }>`select count(*) as n from ${sql.table(table)}`.execute(
    tx,
  );
  const actual = Number(counted[0]?.n ?? 0);
  if (actual !== expected) {
    throw new DatabaseCopyError(
      `The table ${table} has ${expected} rows in SQLite but ${actual} arrived; nothing was kept.`,
    );
  }
  return actual;
}

/**
 * Tables ordered so that each comes after every table its foreign keys point to: rows are inserted with
 * their references already present, with no need to switch constraints off (which takes a superuser).
 */
async function tablesInDependencyOrder(
  pg: Kysely<Record<string, Record<string, unknown>>>,
): Promise<string[]> {
  const tables = (
    await sql<{ table_name: string }>`
      select table_name from information_schema.tables
      where table_schema = current_schema() and table_type = 'BASE TABLE' and table_name not like 'kysely\\_%'
      order by table_name`.execute(pg)
  ).rows.map((r) => r.table_name);
  const references = (
    await sql<{ child: string; parent: string }>`
      select child.relname as child, parent.relname as parent
      from pg_constraint c
      join pg_class child on child.oid = c.conrelid
      join pg_class parent on parent.oid = c.confrelid
      where c.contype = 'f' and c.connamespace = current_schema()::regnamespace`.execute(pg)
  ).rows;
  const ordered: string[] = [];
  const placed = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = tables.filter(
      (t) =>
        !placed.has(t) && references.every((r) => r.child !== t || r.parent === t || placed.has(r.parent)),
    );
    if (ready.length === 0) {
      throw new DatabaseCopyError(
        `The foreign keys between ${tables.filter((t) => !placed.has(t)).join(', ')} form a cycle; this copy cannot order them.`,
      );
    }
    for (const t of ready) {
      ordered.push(t);
      placed.add(t);
    }
  }
  return ordered;
}

/** Each identity column's sequence continues after the largest copied id. */
async function moveIdentitiesPastCopiedIds(
  tx: Transaction<Record<string, Record<string, unknown>>>,
): Promise<void> {
  const { rows } = await sql<{ table_name: string; column_name: string }>`
    select table_name, column_name from information_schema.columns
    where table_schema = current_schema() and is_identity = 'YES'`.execute(tx);
  for (const { table_name: table, column_name: column } of rows) {
    await sql`select setval(pg_get_serial_sequence(${table}, ${column}), coalesce(max(${sql.ref(column)}), 0) + 1, false) from ${sql.table(table)}`.execute(
      tx,
    );
  }
}
