import { statSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MAIN_CHECKPOINT_FRAMES, WalCheckpointer } from '../../../server/db/checkpointer.js';
import { flushWriteAheadLog } from '../../../server/db/database.js';
import { createLogger } from '../../../server/lib/logger.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';
import { createTestPlatform } from '../../support/test-platform.js';

/** Small thresholds, so a few megabytes of writes are enough to need checkpoints. */
const BATCH_FRAMES = 50;
const INTERVAL_MS = 10;
const MAIN_FRAMES = 400;

describe('the checkpointer thread', () => {
  let t: TempDatabase;
  let checkpointer: WalCheckpointer | undefined;

  beforeEach(async () => {
    t = await createTempDatabase();
    t.sqlite.exec('create table filler (body blob not null)');
  });
  afterEach(async () => {
    await checkpointer?.close();
    await t.close();
    checkpointer?.releaseLogIndex();
    checkpointer = undefined;
  });

  const autocheckpoint = () => t.sqlite.pragma('wal_autocheckpoint', { simple: true });
  const start = (file = t.file, mainFrames = MAIN_FRAMES) =>
    (checkpointer = new WalCheckpointer(
      createLogger('silent'),
      t.sqlite,
      file,
      BATCH_FRAMES,
      INTERVAL_MS,
      mainFrames,
    ));
  /** One commit of ~11 pages of log. */
  const writeRow = () => t.sqlite.prepare('insert into filler (body) values (randomblob(40000))').run();
  const walBytes = () => statSync(`${t.file}-wal`).size;
  const pageSize = () => t.sqlite.pragma('page_size', { simple: true }) as number;

  it('copies the log from its thread while the main connection’s own checkpoint waits', async () => {
    // The main connection would not checkpoint before 100,000 frames: whatever is copied, the thread copied.
    const thread = start(t.file, 100_000);
    expect(autocheckpoint()).toBe(100_000);
    for (let commit = 0; commit < 30; commit++) writeRow();
    await vi.waitFor(
      () => {
        expect(thread.lastReport?.checkpointed).toBeGreaterThan(300);
        expect(thread.lastReport!.log - thread.lastReport!.checkpointed).toBeLessThan(BATCH_FRAMES);
      },
      { timeout: 10_000 },
    );
  });

  it('keeps the log bounded under a steady stream of commits', async () => {
    const thread = start();
    expect(autocheckpoint()).toBe(MAIN_FRAMES);
    // ~3,300 frames of log in all if nothing checkpointed it.
    for (let commit = 0; commit < 300; commit++) {
      writeRow();
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    expect(thread.checkpoints).toBeGreaterThan(0);
    expect(walBytes() / (pageSize() + 24)).toBeLessThan(1000);
  });

  it('gives the main connection its own checkpoints back when the thread dies', async () => {
    const thread = start();
    expect(autocheckpoint()).toBe(MAIN_FRAMES);
    await thread.thread.terminate();
    await vi.waitFor(() => expect(autocheckpoint()).toBe(1000), { timeout: 10_000 });
  });

  it('gives the main connection its own checkpoints back when the thread cannot open the file', async () => {
    start(path.join(path.dirname(t.file), 'missing.sqlite'));
    await vi.waitFor(() => expect(autocheckpoint()).toBe(1000), { timeout: 10_000 });
  });
});

describe('a wired platform', () => {
  it('checkpoints from a thread, its main connection only at MAIN_CHECKPOINT_FRAMES', async () => {
    const t = await createTestPlatform();
    try {
      expect(t.platform.checkpointer).toBeDefined();
      const { rows } = await sql<{ wal_autocheckpoint: number }>`pragma wal_autocheckpoint`.execute(
        t.platform.db,
      );
      expect(rows[0]!.wal_autocheckpoint).toBe(MAIN_CHECKPOINT_FRAMES);
    } finally {
      await t.close();
    }
  });
});

describe('flushWriteAheadLog beside the checkpointer', () => {
  it('tries again when another checkpoint makes its TRUNCATE answer busy', async () => {
    const t = await createTempDatabase();
    try {
      t.sqlite.exec('create table filler (body blob not null)');
      t.sqlite.prepare('insert into filler (body) values (randomblob(40000))').run();
      expect(statSync(`${t.file}-wal`).size).toBeGreaterThan(0);
      // The thread's pass holding the checkpoint lock, as SQLite reports it: busy, nothing copied.
      const executor = Object.getPrototypeOf(t.db.getExecutor()) as {
        executeQuery: (...args: unknown[]) => Promise<unknown>;
      };
      const run = vi
        .spyOn(executor, 'executeQuery')
        .mockResolvedValueOnce({ rows: [{ busy: 1, log: 10, checkpointed: 0 }] });
      await flushWriteAheadLog(t.db);
      expect(run).toHaveBeenCalledTimes(2);
      expect(statSync(`${t.file}-wal`).size).toBe(0);
    } finally {
      vi.restoreAllMocks();
      await t.close();
    }
  });
});
