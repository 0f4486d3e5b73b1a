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
 * saving. Each caller is answered only after the commit that holds its writes. If a unit fails, the
 * group is rolled back, that unit is rejected with its error and the others run again, each alone in
 * its own transaction; if the commit fails, every unit runs again alone. A unit may therefore run
 * twice, and must be safe to repeat once rolled back (everything it does is in the transaction).
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
    let failed: { job: Job; error: unknown } | undefined;
    try {
      const values = await this.db.transaction().execute(async (tx) => {
        const results: unknown[] = [];
        for (const job of group) {
          try {
            results.push(await job.work(tx));
          } catch (error) {
            failed = { job, error };
            throw error;
          }
        }
        return results;
      });
      group.forEach((job, i) => job.resolve(values[i]));
    } catch {
      // The whole group was rolled back. The unit that failed is refused with its error, as it would
      // have been alone; the others run again, each in a transaction of its own, and are stored. When the
      // commit itself failed, no unit is known to blame, so each runs again alone and the culprit fails
      // again. No savepoint per unit in the common path: a savepoint held open around signing's own
      // savepoints made rolled-back writes cost differently from kept ones (CONSTANT_WORK).
      for (const job of group) {
        if (failed?.job === job) {
          job.reject(failed.error);
          continue;
        }
        try {
          job.resolve(await this.db.transaction().execute(job.work));
        } catch (again) {
          job.reject(again);
        }
      }
    }
  }
}
