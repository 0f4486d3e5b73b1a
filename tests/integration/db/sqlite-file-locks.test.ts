import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { WalCheckpointer } from '../../../server/db/checkpointer.js';
import { openDatabase } from '../../../server/db/database.js';
import { createLogger } from '../../../server/lib/logger.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';

/**
 * Another process opening the file, reading the rows of `filler` and closing it, as the README's backup
 * does with the sqlite3 tool (.ci/run installs it); answers the count it read.
 */
function countFromAnotherProcess(file: string): number {
  return Number(execFileSync('sqlite3', [file, 'select count(*) from filler'], { encoding: 'utf8' }).trim());
}

/** Which of the database file and its log index this process holds POSIX locks on (/proc/locks). */
function lockedByThisProcess(file: string): string[] {
  const names = new Map([
    [statSync(file).ino, 'database'],
    [statSync(`${file}-shm`).ino, 'log index'],
  ]);
  const held = readFileSync('/proc/locks', 'utf8')
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    // "1: POSIX ADVISORY READ <pid> <major>:<minor>:<inode> <start> <end>"
    .filter((fields) => fields[1] === 'POSIX' && fields[4] === String(process.pid))
    .map((fields) => names.get(Number(fields[5]!.split(':')[2])));
  return [...new Set(held.filter((name) => name !== undefined))].sort();
}

/**
 * SQLite's locks on a file are POSIX record locks, which belong to the process: closing any descriptor
 * of that file in the process drops all of them, the open connections' included. Another process that
 * then closes its own connection finds itself alone, checkpoints and deletes the write-ahead log the web
 * process is still writing into, and the two go on with different databases (SQLITE_NOTADB, lost rows).
 */
describe('the platform never drops its own connections’ locks on the SQLite files', () => {
  let t: TempDatabase;
  let checkpointer: WalCheckpointer | undefined;

  beforeEach(async () => {
    t = await createTempDatabase();
    t.sqlite.exec('create table filler (n integer not null)');
    t.sqlite.prepare('insert into filler (n) values (1)').run();
    expect(lockedByThisProcess(t.file)).toEqual(['database', 'log index']);
  });
  afterEach(async () => {
    await checkpointer?.close();
    await t.close();
    checkpointer?.releaseLogIndex();
    checkpointer = undefined;
  });

  /** The log survives another process's visit, and a row written after it is seen by the next one. */
  function expectOneDatabase(): void {
    expect(lockedByThisProcess(t.file)).toEqual(['database', 'log index']);
    expect(countFromAnotherProcess(t.file)).toBe(1);
    expect(existsSync(`${t.file}-wal`)).toBe(true);
    t.sqlite.prepare('insert into filler (n) values (2)').run();
    expect(countFromAnotherProcess(t.file)).toBe(2);
  }

  it('opening and closing another connection in the process (an export, a delivery’s compiler) keeps them', async () => {
    const other = openDatabase(t.file);
    other.sqlite.prepare('select count(*) from filler').get();
    await other.close();
    expectOneDatabase();
  });

  it('stopping the checkpointer thread while the main connection stays open keeps them', async () => {
    checkpointer = new WalCheckpointer(createLogger('silent'), t.sqlite, t.file, 1, 5);
    // Let the thread read the log's state at least once.
    await new Promise((resolve) => setTimeout(resolve, 50));
    await checkpointer.close();
    expectOneDatabase();
  });
});
