import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { inject } from 'vitest';
import type { DatabaseLocation } from '../../server/config.js';
import type { DatabaseHandle } from '../../server/db/database.js';

/** A platform's open database and where it lives: what the searches below need (a test platform has both). */
export interface OnDisk {
  platform: { database: DatabaseHandle };
  config: { database: DatabaseLocation };
}

/**
 * Every byte the database keeps on disk, searched to find data wherever it lies, in live rows, indexes
 * or free space.
 * - SQLite: the file itself, its write-ahead log and the log's index, as they are now.
 * - PostgreSQL: every file of the test's own database (tables, indexes, TOAST), after a checkpoint has
 *   written the server's memory out to them. Not the write-ahead log: the test cluster's log is shared
 *   by every test database at once (and holds history by design; the README says how long).
 */
export async function bytesOnDisk(t: OnDisk): Promise<Buffer> {
  const location = t.config.database;
  if (location.dialect === 'sqlite') {
    const file = location.path;
    return Buffer.concat(
      [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
  }
  const db = t.platform.database.db;
  await sql`checkpoint`.execute(db);
  const { rows } = await sql<{ file: string }>`
    select pg_relation_filepath(oid) as file from pg_class
    where relkind in ('r', 'i', 't', 'm') and pg_relation_filepath(oid) is not null`.execute(db);
  const data = path.join(inject('postgresDir'), 'data');
  const files = rows.map((r) => ({ ...r, path: path.join(data, r.file) })).filter((f) => existsSync(f.path));
  return Buffer.concat(files.map((f) => readFileSync(f.path)));
}

/**
 * Whether an erasure leaves no byte of the erased data in the database's files as they stand, before any
 * rebuild. SQLite: yes (secure_delete zeroes freed space, and the erasure empties the log). PostgreSQL:
 * no. The VACUUM after an erasure frees the old row versions and their index entries, but their bytes
 * stay in the pages' free space until new rows overwrite them; only a rebuild (VACUUM FULL) takes them
 * out of the files. The README's PostgreSQL section says so.
 */
export function erasureClearsFreeSpace(t: OnDisk): boolean {
  return t.config.database.dialect === 'sqlite';
}

/**
 * PostgreSQL only: how many row versions, live or dead (an update's or delete's leftovers that VACUUM has
 * not removed yet), in any of the database's own tables, hold `text` in any letter case. Read from the
 * pages themselves with pageinspect (the test cluster's superuser may).
 */
export async function rowVersionsMentioning(t: OnDisk, text: string): Promise<number> {
  const db = t.platform.database.db;
  await sql`create extension if not exists pageinspect`.execute(db);
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n
    from pg_class c
    cross join lateral generate_series(0, (pg_relation_size(c.oid) / 8192)::int - 1) as block
    cross join lateral heap_page_items(get_raw_page(c.oid::regclass::text, block)) as item
    where c.relkind = 'r' and c.relnamespace = current_schema()::regnamespace
      and item.t_data is not null
      and position(${text.toLowerCase()} in lower(encode(item.t_data, 'escape'))) > 0`.execute(db);
  return rows[0]?.n ?? 0;
}

/**
 * Copies what the write-ahead log holds into the database file, then returns the bytes on disk. SQLite's
 * log keeps its old frames (to be searched too) unless `truncate` empties it. With `vacuum`, the files are
 * rebuilt first, as an erasure test asks (SQLite's VACUUM, PostgreSQL's VACUUM FULL): free space goes,
 * so only what rows still hold remains.
 */
export async function bytesAfterCheckpoint(
  t: OnDisk,
  options: { vacuum?: boolean; truncate?: boolean } = {},
): Promise<Buffer> {
  const db = t.platform.database.db;
  if (t.config.database.dialect === 'postgres') {
    if (options.vacuum) await sql`vacuum full`.execute(db);
    return bytesOnDisk(t);
  }
  if (options.vacuum) await sql`vacuum`.execute(db);
  if (options.truncate) await sql`pragma wal_checkpoint(truncate)`.execute(db);
  else await sql`pragma wal_checkpoint(full)`.execute(db);
  return bytesOnDisk(t);
}

/** Whether `text` occurs in `bytes` as UTF-8 (how both databases store text here). */
export function containsText(bytes: Buffer, text: string): boolean {
  return bytes.includes(Buffer.from(text, 'utf8'));
}
