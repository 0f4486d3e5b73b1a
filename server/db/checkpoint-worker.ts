import { readSync } from 'node:fs';
import { endianness } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import SQLite from 'better-sqlite3';
import type { CheckpointerData, CheckpointReport } from './checkpointer.js';

/**
 * The checkpointer's thread: copies the write-ahead log into the database file (and fsyncs it) through
 * its own connection, so the web process's commits do not do it on the event loop. PASSIVE never waits
 * for or blocks a reader or a writer: it copies what no reader still needs.
 */
if (!parentPort) throw new Error('checkpoint-worker.ts runs as a worker thread (see checkpointer.ts)');
const port = parentPort;
const { databasePath, batchFrames, intervalMs, logIndex } = workerData as CheckpointerData;

const sqlite = new SQLite(databasePath, { fileMustExist: true });
// The pragmas that matter to a checkpoint: the file is already in WAL mode (persistent), NORMAL syncs at
// checkpoints, and a moment of lock (a second process starting) is waited for rather than an error.
sqlite.pragma('journal_mode = WAL');
sqlite.pragma('synchronous = NORMAL');
sqlite.pragma('busy_timeout = 5000');
// This connection only checkpoints; it never writes, so it never checkpoints on its own either.
sqlite.pragma('wal_autocheckpoint = 0');
const checkpoint = sqlite.prepare<[], CheckpointReport>('pragma wal_checkpoint(PASSIVE)');
const header = Buffer.alloc(104);

/**
 * How many frames of the log are not yet copied into the database file, read from
 * the shared-memory index every connection keeps up to date (https://sqlite.org/walformat.html: mxFrame
 * at byte 16 of the header, nBackfill at byte 96, native byte order). One small read, where asking SQLite
 * would mean running the checkpoint. If it cannot be read, the answer is "many": the thread checkpoints.
 */
function logState(): { waiting: number } {
  // The main thread opens the index and closes it (WalCheckpointer.releaseLogIndex): a descriptor closed
  // here, while the main connection is open, would drop the process's locks on the file.
  if (logIndex === undefined) return UNKNOWN;
  try {
    if (readSync(logIndex, header, 0, header.length, 0) < header.length) return UNKNOWN;
    const little = endianness() === 'LE';
    const frames = little ? header.readUInt32LE(16) : header.readUInt32BE(16);
    const backfilled = little ? header.readUInt32LE(96) : header.readUInt32BE(96);
    return { waiting: frames - backfilled };
  } catch {
    return UNKNOWN;
  }
}
const UNKNOWN = { waiting: Infinity };

/**
 * Passes follow each other while a batch waits: the commits made during one pass are copied by the next,
 * so the main connection's own checkpoint (see MAIN_CHECKPOINT_FRAMES) finds little left to do. At most
 * MAX_PASSES a tick, so a stream of commits never keeps the thread from closing.
 */
const MAX_PASSES = 16;

const timer = setInterval(() => {
  let state = logState();
  for (let pass = 0; pass < MAX_PASSES && state.waiting >= batchFrames; pass++) {
    port.postMessage(checkpoint.get()!);
    state = logState();
  }
}, intervalMs);

port.on('message', (message: 'close') => {
  if (message !== 'close') return;
  clearInterval(timer);
  sqlite.close();
  port.close();
});
