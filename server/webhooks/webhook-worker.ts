import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { nextAttemptAt, type WebhookDelivery } from './webhook.js';
import type { WebhookRepository } from './webhook-repository.js';
import type { WebhookSender } from './webhook-sender.js';
import { signedHeaders } from './webhook.js';

export interface WebhookWorkerOptions {
  webhooks: WebhookRepository;
  send: WebhookSender;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /** How long a claim holds unless the heartbeat renews it (a dead worker's claims come back after it). */
  leaseMs?: number;
  batchSize?: number;
  pollMs?: number;
  random?: () => number;
}

/**
 * The webhook worker, beside the mail worker in the same process: claims due deliveries with a lease a
 * heartbeat renews, signs and posts each (webhook-sender.ts: the SSRF guard, no redirects, a time
 * limit), records every attempt in the log, and retries failures with exponential backoff and jitter
 * for a day. At-least-once with a stable webhook-id: a worker that dies mid-send stops renewing, its
 * claims come back within a lease, and the receiver may get the event twice under the same id.
 */
export class WebhookWorker {
  private readonly leaseMs: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly random: () => number;
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private woken = false;
  private timer: NodeJS.Timeout | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: WebhookWorkerOptions) {
    this.leaseMs = options.leaseMs ?? 60_000;
    this.batchSize = options.batchSize ?? 10;
    this.pollMs = options.pollMs ?? 5_000;
    this.random = options.random ?? Math.random;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    this.heartbeat = setInterval(
      () => void this.renewLeases().catch(() => undefined),
      Math.floor(this.leaseMs / 3),
    );
    this.heartbeat.unref();
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
  }

  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /** Renews this worker's claims and puts those of dead workers back in line. */
  async renewLeases(): Promise<void> {
    const { webhooks, clock, workerId } = this.options;
    await webhooks.renewClaims(workerId, clock.now(), this.leaseMs);
    if ((await webhooks.releaseExpiredClaims(clock.now())) > 0) this.wake();
  }

  /** Claims one batch of due deliveries (taking over expired claims first) and sends them; returns how many. */
  async runOnce(): Promise<number> {
    const { webhooks, clock, workerId } = this.options;
    await webhooks.releaseExpiredClaims(clock.now());
    const claimed = await webhooks.claimDue(workerId, clock.now(), this.leaseMs, this.batchSize);
    await Promise.all(claimed.map((delivery) => this.deliver(delivery)));
    return claimed.length;
  }

  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let handled = 0;
      try {
        handled = await this.runOnce();
      } catch (error) {
        this.options.logger.error({ err: error }, 'webhook worker: claiming failed');
      }
      if (handled === 0 && this.running) await this.sleep();
    }
  }

  private async sleep(): Promise<void> {
    let delay = this.pollMs;
    try {
      const due = await this.options.webhooks.nextDueAt();
      if (due) delay = Math.max(50, Math.min(delay, due.getTime() - this.options.clock.now().getTime()));
    } catch {
      // The next round logs database trouble; the poll interval is the safe fallback.
    }
    if (this.woken) return;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(resolve, delay);
    });
    clearTimeout(this.timer);
    this.wakeUp = undefined;
  }

  private async deliver(delivery: WebhookDelivery): Promise<void> {
    const { webhooks, clock, logger, workerId, send } = this.options;
    const log = logger.child({ webhookDeliveryId: delivery.id, attempt: delivery.attempts });
    try {
      const endpoint = await webhooks.findEndpoint(delivery.endpointId);
      const now = clock.now();
      if (!endpoint || !endpoint.enabled) {
        // Disabled since it was queued: not sent, and not tried again.
        await webhooks.finishAttempt(
          delivery,
          workerId,
          {
            outcome: 'refused-address',
            statusCode: null,
            excerpt: 'not sent: the endpoint is disabled',
            durationMs: 0,
          },
          { status: 'failed' },
          now,
        );
        return;
      }
      const result = await send(
        endpoint.url,
        delivery.payload,
        signedHeaders(endpoint, delivery.eventId, delivery.payload, now),
      );
      const after = clock.now();
      if (result.outcome === 'delivered') {
        await webhooks.finishAttempt(delivery, workerId, result, { status: 'succeeded' }, after);
        log.info({ status: result.statusCode }, 'webhook worker: delivered');
        return;
      }
      // A refused destination is not tried again: the guard would refuse it again.
      const next =
        result.outcome === 'refused-address'
          ? null
          : nextAttemptAt(delivery.attempts, delivery.createdAt, after, this.random());
      await webhooks.finishAttempt(
        delivery,
        workerId,
        result,
        next ? { status: 'waiting', nextAttemptAt: next } : { status: 'failed' },
        after,
      );
      log.info(
        { outcome: result.outcome, status: result.statusCode, retryAt: next },
        'webhook worker: not delivered',
      );
    } catch (error) {
      // The claim expires and the delivery is tried again: at-least-once, never lost.
      log.error({ err: error }, 'webhook worker: could not record an attempt');
    }
  }
}
