import type { JobLeases } from '../lib/scheduler.js';
import type { Executor } from './database.js';

/**
 * SQL for the periodic jobs' leases (lib/scheduler.ts): which process runs a job this period. Every
 * statement is a compare-and-set on the job's row, in SQL SQLite and PostgreSQL both accept.
 */
export class JobLeaseRepository implements JobLeases {
  /** Jobs whose row exists (rows are never deleted): their claim is a plain update. */
  private readonly known = new Set<string>();

  constructor(private readonly db: Executor) {}

  /**
   * Takes the job's lease for `owner` until `until` if nobody holds it (or its holder's lease has ended)
   * and the job is due. A compare-and-set update, so of several processes asking at once exactly one
   * wins: the row lock (PostgreSQL) or the single writer (SQLite) checks the condition against the
   * latest row. An update that matches nothing writes nothing, so the many looks that find a job not due
   * leave the database's write mark alone; only a job's first run ever inserts its row.
   */
  async claim(name: string, owner: string, now: Date, until: Date): Promise<boolean> {
    const at = now.toISOString();
    const updated = await this.db
      .updateTable('scheduled_job_leases')
      .set({ leased_by: owner, leased_until: until.toISOString() })
      .where('name', '=', name)
      .where((eb) =>
        eb.and([
          eb.or([eb('leased_by', 'is', null), eb('leased_until', '<', at)]),
          eb.or([eb('next_run_at', 'is', null), eb('next_run_at', '<=', at)]),
        ]),
      )
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 1) return true;
    if (this.known.has(name)) return false;
    // Not taken: the row may not exist yet. The primary key lets one process's insert through.
    const inserted = await this.db
      .insertInto('scheduled_job_leases')
      .values({ name, leased_by: owner, leased_until: until.toISOString() })
      .onConflict((oc) => oc.column('name').doNothing())
      .returning('name')
      .executeTakeFirst();
    this.known.add(name);
    return inserted !== undefined;
  }

  /** Extends a lease `owner` still holds; false when it lost it (its lease ended and another took the job). */
  async renew(name: string, owner: string, until: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('scheduled_job_leases')
      .set({ leased_until: until.toISOString() })
      .where('name', '=', name)
      .where('leased_by', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Gives the lease back after a run, with the time the job is next due; false when `owner` no longer held it. */
  async release(name: string, owner: string, finishedAt: Date, nextRunAt: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('scheduled_job_leases')
      .set({
        leased_by: null,
        leased_until: null,
        next_run_at: nextRunAt.toISOString(),
        last_finished_at: finishedAt.toISOString(),
      })
      .where('name', '=', name)
      .where('leased_by', '=', owner)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
