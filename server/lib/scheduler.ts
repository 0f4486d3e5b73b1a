import type { Logger } from './logger.js';

/** A job that runs every `everyMs`; it must be safe to run in several processes at once (compare-and-set). */
export interface PeriodicJob {
  name: string;
  everyMs: number;
  run(): Promise<unknown>;
}

/**
 * Runs periodic housekeeping in the background. A run never overlaps the previous run of the same job,
 * and stop() waits for runs in progress, so shutdown never cuts a job in half.
 */
export class Scheduler {
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly running = new Set<Promise<unknown>>();
  private stopped = false;

  constructor(
    private readonly jobs: readonly PeriodicJob[],
    private readonly logger: Logger,
  ) {}

  start(): void {
    for (const job of this.jobs) {
      let busy = false;
      const tick = () => {
        if (busy || this.stopped) return;
        busy = true;
        const run = job
          .run()
          .catch((error: unknown) => this.logger.error({ err: error, job: job.name }, 'scheduled job failed'))
          .finally(() => {
            busy = false;
            this.running.delete(run);
          });
        this.running.add(run);
      };
      tick();
      const timer = setInterval(tick, job.everyMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.running]);
  }
}
