import type { JobLeases } from '../lib/scheduler.js';
import type { Executor } from './database.js';

/**
 * SQL for the periodic jobs' leases (lib/scheduler.ts): which process runs a job this period. Every
 * statement is a compare-and-set on the job's row, in SQL SQLite and PostgreSQL both accept.
 */
export class JobLeaseRepository implements JobLeases {
  constructor(private readonly db: Executor) {}

  /**
   * Takes the job's lease for `owner` until `until` if nobody holds it (or its holder's lease has ended)
   * and the job is due; creates the row on a job's first run. One statement, so of several processes
   * asking at once exactly one wins: the insert's conflict on the name turns into an update whose
   * condition the row lock (PostgreSQL) or the single writer (SQLite) checks against the latest row.
   */
  async claim(name: string, owner: string, now: Date, until: Date): Promise<boolean> {
    const at = now.toISOString();
    const claimed = await this.db
      .insertInto('scheduled_job_leases')
      .values({ name, leased_by: owner, leased_until: until.toISOString() })
      .onConflict((oc) =>
        oc
          .column('name')
          .doUpdateSet({ leased_by: owner, leased_until: until.toISOString() })
          .where((eb) =>
            eb.and([
              eb.or([
                eb('scheduled_job_leases.leased_by', 'is', null),
                eb('scheduled_job_leases.leased_until', '<', at),
              ]),
              eb.or([
                eb('scheduled_job_leases.next_run_at', 'is', null),
                eb('scheduled_job_leases.next_run_at', '<=', at),
              ]),
            ]),
          ),
      )
      .returning('name')
      .executeTakeFirst();
    return claimed !== undefined;
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
