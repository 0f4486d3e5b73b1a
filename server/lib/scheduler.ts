import type { Logger } from './logger.js';

/** A job that runs every `everyMs`; it must be safe to run twice (compare-and-set), as a lease can end mid-run. */
export interface PeriodicJob {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/**
 * Where the processes sharing a database agree which of them runs a job this period (one row per job,
 * db/job-lease-repository.ts). Each call is one compare-and-set and says whether it moved.
 */
export interface JobLeases {
  /** Takes the job for `owner` until `until` if nobody holds it and it is due at `now`. */
  claim(name: string, owner: string, now: Date, until: Date): Promise<boolean>;
  /** Extends the lease `owner` holds; false when it lost it. */
  renew(name: string, owner: string, until: Date): Promise<boolean>;
  /** Gives the lease back, the job not due again before `nextRunAt`. */
  release(name: string, owner: string, finishedAt: Date, nextRunAt: Date): Promise<boolean>;
}

export interface SchedulerOptions {
  leases: JobLeases;
  /** This process's name in the leases (unique per process: pid and a random part). */
  owner: string;
  /** Real time by default: periods and leases pace timers, and other processes read them. */
  now?: () => Date;
  /** How long a lease holds unless renewed: a process that dies mid-run holds its job this long. */
  leaseMs?: number;
}

/** How long a job's lease holds unless renewed (renewed every third of it while the job runs). */
export const DEFAULT_JOB_LEASE_MS = 60_000;

/**
 * How much earlier than a whole period after its start a job is due again: the next timer tick of the
 * process that ran it fires about one period after that start, sometimes a few milliseconds sooner, and
 * must not find the job still a hair short of due (it would then run every other period).
 */
function earlyMs(everyMs: number): number {
  return Math.min(everyMs / 10, 1_000);
}

/**
 * Runs periodic housekeeping in the background. Every process on the database (web processes, mail
 * workers) runs one, and each job runs once per period across all of them: whichever process's timer
 * finds the job due first takes its lease. A run never overlaps the previous run of the same job in this
 * process, and stop() waits for runs in progress, so shutdown never cuts a job in half.
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private readonly busy = new Set<string>();
  private readonly now: () => Date;
  private readonly leaseMs: number;
  private stopped = false;

  constructor(
    private readonly jobs: readonly PeriodicJob[],
    private readonly logger: Logger,
    private readonly options: SchedulerOptions,
  ) {
    this.now = options.now ?? (() => new Date());
    this.leaseMs = options.leaseMs ?? DEFAULT_JOB_LEASE_MS;
  }

  /** Looks at every job now and then every period on its timer; a job runs where its claim wins. */
  start(): void {
    this.stopped = false;
    for (const job of this.jobs) {
      const tick = () => void this.tick(job);
      tick();
      const timer = setInterval(tick, job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  /**
   * Runs every job that is due and that no process holds; resolves with the names of those this process
   * ran. The timers call tick() per job; tests call this with their own clock.
   */
  async runDue(): Promise<string[]> {
    const ran = await Promise.all(
      this.jobs.map(async (job) => ((await this.tick(job)) ? job.name : undefined)),
    );
    return ran.filter((name): name is string => name !== undefined);
  }

  /** Stops the timers and waits for the runs in progress, which give their leases back. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    this.timers.length = 0;
    await Promise.all([...this.running]);
  }

  /** One look at one job: claims it if due, runs it, gives it back. Resolves with whether it ran here. */
  private tick(job: PeriodicJob): Promise<boolean> {
    if (this.busy.has(job.name) || this.stopped) return Promise.resolve(false);
    this.busy.add(job.name);
    const run = this.runIfDue(job)
      .catch((error: unknown) => {
        this.logger.error(
          { err: error, job: job.name },
          'scheduled job: could not claim or release its lease',
        );
        return false;
      })
      .finally(() => {
        this.busy.delete(job.name);
        this.running.delete(run);
      });
    this.running.add(run);
    return run;
  }

  private async runIfDue(job: PeriodicJob): Promise<boolean> {
    const { leases, owner } = this.options;
    const startedAt = this.now();
    if (!(await leases.claim(job.name, owner, startedAt, this.leaseUntil()))) return false;
    // Renewed while the run goes on, so a long run (compiling a large round) is never taken over.
    const renewal = setInterval(() => {
      leases.renew(job.name, owner, this.leaseUntil()).then(
        (held) => {
          if (!held)
            this.logger.warn(
              { job: job.name },
              'scheduled job: lease lost mid-run; another process may run it too',
            );
        },
        (error: unknown) =>
          this.logger.error({ err: error, job: job.name }, 'scheduled job: could not renew its lease'),
      );
    }, this.leaseMs / 3);
    renewal.unref();
    try {
      await job.run();
    } catch (error) {
      this.logger.error({ err: error, job: job.name }, 'scheduled job failed');
    } finally {
      clearInterval(renewal);
      const nextRunAt = new Date(startedAt.getTime() + job.everyMs - earlyMs(job.everyMs));
      // A failed run waits for its next period too: a job failing at once must not spin.
      await leases.release(job.name, owner, this.now(), nextRunAt);
    }
    return true;
  }

  private leaseUntil(): Date {
    return new Date(this.now().getTime() + this.leaseMs);
  }
}
