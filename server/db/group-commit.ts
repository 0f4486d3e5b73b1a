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
 * loop) run one after another in one transaction and share its commit. A commit writes the log to
 * disk and costs more than the small writes of one signature, so under load this is most of the
 * saving. Each caller is answered only after the commit that holds its writes. If a unit fails, or the
 * commit does, the group is rolled back and each unit runs again alone in its own transaction: only
 * the one that fails again is rejected, the others are stored. A unit may therefore run twice, and
 * must be safe to repeat once rolled back (everything it does is in the transaction).
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
    try {
      const values = await this.db.transaction().execute(async (tx) => {
        const results: unknown[] = [];
        for (const job of group) results.push(await job.work(tx));
        return results;
      });
      group.forEach((job, i) => job.resolve(values[i]));
    } catch {
      // One unit failed (or the commit did): the whole group was rolled back. Each unit runs again in a
      // transaction of its own, so only the one that fails again is refused and the others are stored.
      // No savepoint per unit in the common path: a savepoint held open around a unit's own savepoints
      // made rolled-back writes cost differently from kept ones (see CONSTANT_WORK in signature-service.ts).
      for (const job of group) {
        try {
          job.resolve(await this.db.transaction().execute(job.work));
        } catch (error) {
          job.reject(error);
        }
      }
    }
  }
}
