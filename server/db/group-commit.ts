import { performance } from 'node:perf_hooks';
import type { Db, Tx } from './database.js';
import { queriesHoldEventLoop } from './dialect.js';

/** The most units of work one shared transaction holds. */
export const GROUP_COMMIT_MAX = 64;

/**
 * How long one shared transaction goes on taking more waiting units, in milliseconds. On SQLite a group
 * runs in one turn of the event loop, and every request that arrives meanwhile (the 503s of load shedding
 * too) waits for the turn to end: 64 signings took ~30 ms of a turn, so under a surge a refusal waited
 * behind them. Past this budget the rest wait for the next group, after the loop has read what arrived
 * (issue 12). On PostgreSQL the group waits on the network and holds no turn, so only the size bounds it
 * (each statement there is a round trip: a time budget would cut groups to a few units).
 */
export const GROUP_COMMIT_MAX_MS = 8;

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
 * A group is bounded by size (GROUP_COMMIT_MAX) and by time (GROUP_COMMIT_MAX_MS): what is left waits
 * for the next group, so no turn of the event loop runs long enough to keep refusals waiting.
 *
 * The work given must only touch the database (no network, no timers): the shared transaction holds
 * SQLite's one connection, or one of PostgreSQL's pooled connections and the rows it wrote, while it runs.
 */
export class GroupCommit {
  private waiting: Job[] = [];
  private scheduled = false;
  private running: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly max = GROUP_COMMIT_MAX,
    private readonly maxMs = queriesHoldEventLoop(db) ? GROUP_COMMIT_MAX_MS : Infinity,
    /** Milliseconds from any fixed origin; tests pass their own. */
    private readonly now: () => number = () => performance.now(),
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
    // Units are taken one at a time while the group is within its size and time: the first always runs.
    const group: Job[] = [];
    const started = this.now();
    const takesMore = () =>
      this.waiting.length > 0 &&
      group.length < this.max &&
      (group.length === 0 || this.now() - started < this.maxMs);
    let failed: { job: Job; error: unknown } | undefined;
    try {
      const values = await this.db.transaction().execute(async (tx) => {
        const results: unknown[] = [];
        while (takesMore()) {
          const job = this.waiting.shift()!;
          group.push(job);
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
      // savepoints made rolled-back writes cost differently from kept ones (CONSTANT_WORK). A transaction
      // that could not even begin took no unit: the first waiting one runs alone, so a lasting failure
      // refuses the waiting units one by one rather than retrying forever.
      if (group.length === 0 && this.waiting.length > 0) group.push(this.waiting.shift()!);
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
