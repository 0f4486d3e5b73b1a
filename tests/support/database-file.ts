import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import type { Db } from '../../server/db/database.js';

/**
 * Every byte SQLite keeps on disk for a database: the file itself, its write-ahead log and the log's
 * index. Searching these finds data wherever it lies, in live rows, indexes or free pages.
 */
export function bytesOnDisk(file: string): Buffer {
  return Buffer.concat(
    [file, `${file}-wal`, `${file}-shm`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
  );
}

/**
 * Copies what the write-ahead log holds into the database file, then returns the bytes on disk. The
 * log keeps its old frames (to be searched too) unless `truncate` empties it. With `vacuum`, the file
 * is rebuilt first, as an erasure test asks: free pages go, so only what rows still hold remains.
 */
export async function bytesAfterCheckpoint(
  db: Db,
  file: string,
  options: { vacuum?: boolean; truncate?: boolean } = {},
): Promise<Buffer> {
  if (options.vacuum) await sql`vacuum`.execute(db);
  if (options.truncate) await sql`pragma wal_checkpoint(truncate)`.execute(db);
  else await sql`pragma wal_checkpoint(full)`.execute(db);
  return bytesOnDisk(file);
}

/** Whether `text` occurs in `bytes` as UTF-8 (how SQLite stores text here). */
export function containsText(bytes: Buffer, text: string): boolean {
  return bytes.includes(Buffer.from(text, 'utf8'));
}
