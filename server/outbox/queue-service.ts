import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { withoutAddresses, type RetryPolicy } from './outbox.js';
import type { OutboxListItem, OutboxRepository } from './outbox-repository.js';
import type { OutboxStatus } from './outbox.js';

export interface QueueOverview {
  counts: Partial<Record<OutboxStatus, number>>;
  oldestWaitingSince: Date | undefined;
  failed: OutboxListItem[];
  retrying: OutboxListItem[];
}

/** The admin's view of the mail queue: its state, and retrying or cancelling failed messages. */
export class QueueService {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly policy: RetryPolicy,
  ) {}

  async overview(): Promise<QueueOverview> {
    const [counts, oldest, failed, retrying] = await Promise.all([
      this.outbox.countsByStatus(),
      this.outbox.oldestWaitingSince(),
      this.outbox.listByStatus('failed', 100),
      this.outbox.listByStatus('retrying', 100),
    ]);
    // Replies often quote the recipient's address; the page names domains only.
    const shown = (items: OutboxListItem[]) =>
      items.map((item) => ({
        ...item,
        lastReply: item.lastReply === null ? null : withoutAddresses(item.lastReply),
      }));
    return {
      counts: counts.byStatus,
      oldestWaitingSince: oldest,
      failed: shown(failed),
      retrying: shown(retrying),
    };
  }

  /** Puts a failed message back in the queue, due now, with a fresh give-up time. */
  async retry(id: number): Promise<void> {
    const now = this.clock.now();
    if (!(await this.outbox.retryFailed(id, now, new Date(now.getTime() + this.policy.giveUpAfterMs)))) {
      await this.find(id); // 404 when there is no such message
      throw new AppError(409, 'message_not_failed', 'queue.errors.notFailed');
    }
  }

  /** Cancels a message that has not gone: it will never be sent. */
  async cancel(id: number): Promise<void> {
    if (!(await this.outbox.cancel(id, this.clock.now()))) {
      await this.find(id); // 404 when there is no such message
      throw new AppError(409, 'message_not_cancellable', 'queue.errors.notCancellable');
    }
  }

  async find(id: number): Promise<OutboxListItem> {
    const message = await this.outbox.findById(id);
    if (!message) throw new AppError(404, 'message_not_found', 'queue.errors.notFound');
    return {
      id: message.id,
      kind: message.kind,
      domain: message.domain,
      status: message.status,
      attempts: message.attempts,
      lastReply: message.lastReply === null ? null : withoutAddresses(message.lastReply),
      createdAt: message.createdAt,
      updatedAt: message.createdAt,
    };
  }
}
