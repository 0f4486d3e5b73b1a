import { sql } from 'kysely';
import type { Db, Tx } from './database.js';

/** The most units of work one shared transaction holds. */
export const GROUP_COMMIT_MAX = 64;

interface Job {
  work: (tx: Tx) => Promise<unknown>;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: units of work that arrive together (the signing requests of one turn of the event
 * loop) run one after another in one transaction, each inside its own savepoint, and share its
 * commit. A commit writes the log to disk and costs more than the small writes of one signature, so
 * under load this is most of the saving. Each caller is answered only after the commit that holds its
 * writes: a unit that fails is rolled back to its savepoint and rejected alone, the others still
 * commit; if the commit itself fails, every unit of that group is rejected and none is stored.
 *
 * The work given must only touch the database (no network, no timers): the shared transaction holds
 * SQLite's one connection while it runs.
 */
export class GroupCommit {
  private waiting: Job[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly max = GROUP_COMMIT_MAX,
  ) {}

  /** Runs `work` in the next shared transaction; resolves with its result once that transaction has committed. */
  run<T>(work: (tx: Tx) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.waiting.push({ work, resolve: resolve as (value: unknown) => void, reject });
      this.schedule();
    });
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // After the I/O of this turn: every request whose body arrived in it has joined the group by then.
    setImmediate(() => {
      this.scheduled = false;
      this.running = this.drain().finally(() => {
        this.running = undefined;
        if (this.waiting.length > 0) this.schedule();
      });
    });
  }

  private async drain(): Promise<void> {
    const group = this.waiting.splice(0, this.max);
    const settle: Array<() => void> = [];
    try {
      await this.db.transaction().execute(async (tx) => {
        for (const job of group) {
          await sql`savepoint group_commit`.execute(tx);
          try {
            const value = await job.work(tx);
            await sql`release savepoint group_commit`.execute(tx);
            settle.push(() => job.resolve(value));
          } catch (error) {
            await sql`rollback to savepoint group_commit`.execute(tx);
            await sql`release savepoint group_commit`.execute(tx);
            settle.push(() => job.reject(error));
          }
        }
      });
    } catch (error) {
      // The commit failed (or the rollback of a savepoint did): nothing of the group is stored.
      for (const job of group) job.reject(error);
      return;
    }
    for (const done of settle) done();
  }
}
