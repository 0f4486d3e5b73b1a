import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import {
  classifySendError,
  DEFAULT_RETRY_POLICY,
  nextAttemptAt,
  shouldGiveUp,
  type OutboxMessage,
  type RetryPolicy,
} from './outbox.js';
import type { OutboxRepository } from './outbox-repository.js';

/** Hands one message to SMTP and returns the server's reply; throws what nodemailer throws. */
export interface MailSender {
  send(message: OutboxMessage): Promise<{ reply: string }>;
}

export interface OutboxWorkerOptions {
  outbox: OutboxRepository;
  sender: MailSender;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** How long a claim holds; longer than any SMTP timeout, so a live send is never taken over. */
  leaseMs?: number;
  batchSize?: number;
  /** The longest the worker sleeps before looking again, even if nothing woke it. */
  pollMs?: number;
  policy?: RetryPolicy;
  random?: () => number;
}

/**
 * The in-process mail worker: claims due messages with a lease, sends them, records the reply.
 * At-least-once: a worker that dies mid-send leaves a claim that expires, and the message is sent again
 * with the same Message-ID, so receivers can recognise the duplicate.
 */
export class OutboxWorker {
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.leaseMs = options.leaseMs ?? 5 * 60_000;
    this.batchSize = options.batchSize ?? 10;
    this.pollMs = options.pollMs ?? 5_000;
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.random = options.random ?? Math.random;
  }

  /** Starts the loop in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Tells a sleeping worker that new mail is waiting. */
  wake(): void {
    this.wakeUp?.();
  }

  /** Stops claiming new messages and waits for the sends in flight to finish. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /** Claims one batch of due messages and sends them; returns how many it handled. */
  async runOnce(): Promise<number> {
    const { outbox, clock, workerId } = this.options;
    const claimed = await outbox.claimDue(workerId, clock.now(), this.leaseMs, this.batchSize);
    await Promise.all(claimed.map((message) => this.deliver(message)));
    return claimed.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      let handled = 0;
      try {
        handled = await this.runOnce();
      } catch (error) {
        this.options.logger.error({ err: error }, 'mail worker: claiming failed');
      }
      if (handled === 0 && this.running) await this.sleep();
    }
  }

  private async sleep(): Promise<void> {
    let delay = this.pollMs;
    try {
      const due = await this.options.outbox.nextDueAt();
      if (due) delay = Math.max(0, Math.min(delay, due.getTime() - this.options.clock.now().getTime()));
    } catch {
      // The next loop logs database trouble; here a plain poll interval is the safe fallback.
    }
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(resolve, delay);
    });
    clearTimeout(this.timer);
    this.wakeUp = undefined;
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { outbox, sender, clock, logger, workerId } = this.options;
    const log = logger.child({ outboxMessageId: message.id, kind: message.kind, attempt: message.attempts });
    try {
      const { reply } = await sender.send(message);
      const recorded = await outbox.finish(message.id, workerId, { status: 'sent', reply, at: clock.now() });
      if (!recorded)
        log.warn('mail worker: sent, but the claim had expired; another attempt may duplicate it');
      log.info('mail worker: sent');
    } catch (error) {
      const outcome = classifySendError(error);
      const now = clock.now();
      if (outcome.kind === 'permanent' || shouldGiveUp(message.createdAt, now, this.policy)) {
        await outbox.finish(message.id, workerId, { status: 'failed', reply: outcome.reply, at: now });
        log.warn({ reply: outcome.reply }, 'mail worker: failed');
      } else {
        const retryAt = nextAttemptAt(message.attempts, now, this.policy, this.random());
        await outbox.finish(message.id, workerId, {
          status: 'retrying',
          reply: outcome.reply,
          at: now,
          nextAttemptAt: retryAt,
        });
        log.info({ reply: outcome.reply, retryAt }, 'mail worker: will retry');
      }
    }
  }
}
