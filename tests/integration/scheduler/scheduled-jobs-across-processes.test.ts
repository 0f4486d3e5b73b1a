import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { JobLeaseRepository } from '../../../server/db/job-lease-repository.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { createLogger } from '../../../server/lib/logger.js';
import { Scheduler, type PeriodicJob } from '../../../server/lib/scheduler.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../../support/test-database.js';

const MINUTE = 60_000;

/** A job that counts its runs; `hold` makes a run wait until the test lets it end. */
class CountedJob implements PeriodicJob {
  runs = 0;
  private ending: (() => void) | undefined;
  hold = false;

  constructor(
    readonly name: string,
    readonly everyMs: number,
  ) {}

  run(): Promise<void> {
    this.runs += 1;
    if (!this.hold) return Promise.resolve();
    return new Promise((resolve) => (this.ending = resolve));
  }

  /** Ends the run that is being held. */
  end(): void {
    this.ending?.();
    this.ending = undefined;
  }
}

describe('scheduled jobs across processes', () => {
  let t: TestDatabase;
  let clock: ManualClock;
  const schedulers: Scheduler[] = [];

  /** A scheduler as another process would run it: its own connection to the database, its own name. */
  function processWith(jobs: PeriodicJob[], leaseMs = 5 * MINUTE): Scheduler {
    const { db } = t.connect();
    const scheduler = new Scheduler(jobs, createLogger('silent'), {
      leases: new JobLeaseRepository(db),
      owner: `process-${schedulers.length + 1}`,
      now: () => clock.now(),
      leaseMs,
    });
    schedulers.push(scheduler);
    return scheduler;
  }

  /** Every process looks at its jobs at the same moment, as their timers would. */
  async function tickAll(): Promise<string[]> {
    return (await Promise.all(schedulers.map((s) => s.runDue()))).flat();
  }

  beforeEach(async () => {
    t = await createTestDatabase();
    clock = new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
  });
  afterEach(async () => {
    await Promise.all(schedulers.splice(0).map((s) => s.stop()));
    await t.close();
  });

  it('runs each due job exactly once per period, whichever of three processes looks', async () => {
    const close = new CountedJob('close-due-letters', MINUTE);
    const prune = new CountedJob('prune-sessions', 15 * MINUTE);
    // The same two jobs in three processes, as three web/worker processes each wire them.
    const jobsOf = [0, 1, 2].map(() => [
      new CountedJob(close.name, close.everyMs),
      new CountedJob(prune.name, prune.everyMs),
    ]);
    for (const jobs of jobsOf) processWith(jobs);
    const runsOf = (name: string) =>
      jobsOf
        .flat()
        .filter((j) => j.name === name)
        .reduce((sum, j) => sum + j.runs, 0);

    // Thirty minutes, looked at every 20 seconds by every process at once.
    for (let second = 0; second <= 30 * 60; second += 20) {
      clock.set(new Date(Date.parse('2026-11-23T10:00:00.000Z') + second * 1000));
      await tickAll();
    }
    // Minutes 0, 1, ..., 30 and minutes 0, 15, 30.
    expect(runsOf(close.name)).toBe(31);
    expect(runsOf(prune.name)).toBe(3);
  });

  it('does not run a job again within its period, however often the processes look', async () => {
    const jobs = [0, 1, 2].map(() => new CountedJob('retention', 60 * MINUTE));
    jobs.forEach((job) => processWith([job]));

    expect(await tickAll()).toEqual(['retention']);
    for (let i = 0; i < 5; i++) {
      clock.advance(10 * MINUTE);
      expect(await tickAll()).toEqual([]);
    }
    clock.advance(10 * MINUTE);
    expect(await tickAll()).toEqual(['retention']);
    expect(jobs.reduce((sum, job) => sum + job.runs, 0)).toBe(2);
  });

  it('lets another process take over a job whose process died mid-run, once its lease has ended', async () => {
    const dying = new CountedJob('compile-deliveries', 5_000);
    dying.hold = true;
    const survivor = new CountedJob('compile-deliveries', 5_000);
    const first = processWith([dying], MINUTE);
    const second = processWith([survivor], MINUTE);

    // The first process takes the job and never finishes (no release, no renewal: it is gone).
    const stuck = first.runDue();
    await vi.waitFor(() => expect(dying.runs).toBe(1));

    // Periods pass, but the lease holds: nobody runs the job twice at once.
    clock.advance(30_000);
    expect(await second.runDue()).toEqual([]);
    clock.advance(29_000);
    expect(await second.runDue()).toEqual([]);

    // The lease has ended: the job is the survivor's.
    clock.advance(2_000);
    expect(await second.runDue()).toEqual(['compile-deliveries']);
    expect(survivor.runs).toBe(1);

    // The first process's run ends late: its release finds the lease taken over and changes nothing,
    // so the job is not due again before the survivor's period is over.
    dying.end();
    expect(await stuck).toEqual(['compile-deliveries']);
    clock.advance(2_000);
    expect(await second.runDue()).toEqual([]);
    clock.advance(3_000);
    expect(await second.runDue()).toEqual(['compile-deliveries']);
  });

  it('keeps a long run its own while it renews its lease', async () => {
    const long = new CountedJob('retention', 60 * MINUTE);
    long.hold = true;
    const other = new CountedJob('retention', 60 * MINUTE);
    // A lease of 30 ms renewed every 10 ms (real time) while the manual clock moves 20 ms a step.
    const running = processWith([long], 30).runDue();
    const watcher = processWith([other], 30);
    await vi.waitFor(() => expect(long.runs).toBe(1));
    for (let step = 0; step < 6; step++) {
      clock.advance(20);
      await new Promise((resolve) => setTimeout(resolve, 30));
      expect(await watcher.runDue()).toEqual([]);
    }
    long.end();
    expect(await running).toEqual(['retention']);
    expect(other.runs).toBe(0);
  });

  it('writes nothing when it looks at a job that is not due', async () => {
    const jobs = [0, 1, 2].map(() => new CountedJob('prune-sessions', 15 * MINUTE));
    jobs.forEach((job) => processWith([job]));
    expect(await tickAll()).toEqual(['prune-sessions']);
    const mark = t.handle.writeMark();
    for (let i = 0; i < 3; i++) {
      clock.advance(MINUTE);
      expect(await tickAll()).toEqual([]);
    }
    if (testDialect() === 'sqlite') {
      // Other connections' commits move SQLite's mark for this one: none came.
      expect(t.handle.writeMark()).toBe(mark);
    } else {
      // PostgreSQL's mark is the whole cluster's (other test files' databases move it); the row says it:
      // an upsert that found the job not due would still have locked it, leaving its xmax behind.
      const { rows } = await sql<{
        xmax: string;
      }>`select xmax::text as xmax from scheduled_job_leases`.execute(t.db);
      expect(rows).toEqual([{ xmax: '0' }]);
    }
  });
});
