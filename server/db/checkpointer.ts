import { once } from 'node:events';
import { closeSync, openSync } from 'node:fs';
import type { Worker } from 'node:worker_threads';
import type SQLite from 'better-sqlite3';
import type { Logger } from '../lib/logger.js';
import { startWorkerFile } from '../lib/worker-file.js';

/** Frames of log waiting to be copied that make the thread copy them (small: it keeps up as it goes). */
export const CHECKPOINT_BATCH_FRAMES = 100;
/** How often the thread looks at the log: one 104-byte read of the shared-memory index each time. */
export const CHECKPOINT_INTERVAL_MS = 50;
/**
 * The main connection's own automatic checkpoint, kept as the log's bound. The log starts again from its
 * beginning only when a commit finds all of it copied, which a thread racing a steady stream of commits
 * almost never sees (the commits made while it copies are left over): without this the log grows for
 * ever under load. When the main connection reaches it, the thread has already copied and synced all but
 * the last few frames, so the commit that runs it only finishes the tail and the log starts again.
 */
export const MAIN_CHECKPOINT_FRAMES = 2000;
/** SQLite's default, which the main connection gets back if the thread fails. */
const SQLITE_AUTOCHECKPOINT_FRAMES = 1000;

/** What the thread is started with. */
export interface CheckpointerData {
  databasePath: string;
  batchFrames: number;
  intervalMs: number;
  /** A descriptor of the log's shared-memory index (`-shm`), read by the thread, closed by WalCheckpointer. */
  logIndex: number | undefined;
}

/** The shared-memory index of the log, opened for reading; undefined when there is none yet. */
function openLogIndex(databasePath: string): number | undefined {
  try {
    return openSync(`${databasePath}-shm`, 'r');
  } catch {
    return undefined;
  }
}

/** One checkpoint's result, as `pragma wal_checkpoint` returns it (frames in the log, frames copied). */
export interface CheckpointReport {
  busy: number;
  log: number;
  checkpointed: number;
}

/** The checkpointer's thread (checkpoint-worker.ts next to this file). */
function startWorker(workerData: CheckpointerData): Worker {
  return startWorkerFile(import.meta.url, 'checkpoint-worker', 'checkpointer', workerData);
}

/**
 * Copies the write-ahead log into the database file from a worker thread. SQLite's automatic checkpoint
 * runs inside the commit that takes the log past 1,000 pages, on the thread that commits: under signing
 * load that was every ~20 group commits copying ~1,000 pages and fsyncing the file on the event loop, half
 * of all commit time. The thread copies (and syncs) the log as it grows; the main connection's own
 * checkpoint, moved to MAIN_CHECKPOINT_FRAMES, only finishes the tail so the log can start again. If the
 * thread cannot start or stops, the main connection gets SQLite's default back. The thread does not keep
 * the process alive.
 */
export class WalCheckpointer {
  private readonly worker: Worker;
  private closing = false;
  private logIndex: number | undefined;
  /** Checkpoints the thread has run (tests wait for one). */
  checkpoints = 0;
  /** The last one's result. */
  lastReport: CheckpointReport | undefined;

  /**
   * `sqlite`: the process's main connection to `databasePath`, a file (`:memory:` has no log to share).
   * Thresholds (frames and milliseconds): tests pass smaller ones.
   */
  constructor(
    private readonly logger: Logger,
    private readonly sqlite: SQLite.Database,
    databasePath: string,
    batchFrames = CHECKPOINT_BATCH_FRAMES,
    intervalMs = CHECKPOINT_INTERVAL_MS,
    mainFrames = MAIN_CHECKPOINT_FRAMES,
  ) {
    sqlite.pragma(`wal_autocheckpoint = ${mainFrames}`);
    // A read makes SQLite create the log index (-shm) if this connection has not read yet: opened once
    // here, it must exist, or the thread would checkpoint blindly for the life of the process.
    sqlite.pragma('schema_version');
    this.logIndex = openLogIndex(databasePath);
    this.worker = startWorker({ databasePath, batchFrames, intervalMs, logIndex: this.logIndex });
    this.worker.unref();
    this.worker.on('message', (report: CheckpointReport) => {
      this.checkpoints++;
      this.lastReport = report;
    });
    this.worker.on('error', (error) => this.failed(error));
    this.worker.on('exit', (code) => this.failed(new Error(`the checkpointer stopped (exit code ${code})`)));
  }

  /** The thread failed or ended on its own: the main connection checkpoints for itself again. */
  private failed(error: Error): void {
    if (this.closing) return;
    this.closing = true;
    this.logger.error({ err: error }, 'the checkpointer failed: SQLite checkpoints on commits again');
    if (this.sqlite.open) this.sqlite.pragma(`wal_autocheckpoint = ${SQLITE_AUTOCHECKPOINT_FRAMES}`);
  }

  /**
   * Ends the thread (at shutdown), letting a checkpoint in progress finish and its connection close. The
   * log index's descriptor stays open: releaseLogIndex closes it once every connection is closed.
   */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const exited = once(this.worker, 'exit');
    this.worker.postMessage('close');
    const timer = setTimeout(() => void this.worker.terminate(), 5_000);
    await exited.catch(() => undefined);
    clearTimeout(timer);
  }

  /**
   * Closes the descriptor the thread read the log index through. Only once every connection of this
   * process to the file is closed (the main one, an export's reader, the compiler's thread), after
   * close(): the platform's shutdown calls it last. Not before: closing any descriptor of a file drops
   * every POSIX lock the process holds on it, SQLite's too, and another process would take the log index
   * for unused and start it anew under the connections still writing (see makePrivate in database.ts).
   */
  releaseLogIndex(): void {
    if (this.logIndex === undefined) return;
    closeSync(this.logIndex);
    this.logIndex = undefined;
  }

  /** The thread, for tests that make it fail. */
  get thread(): Worker {
    return this.worker;
  }
}
