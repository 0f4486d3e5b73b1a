import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import { withoutAddresses, type RetryPolicy } from './outbox.js';
import type { OutboxListItem, OutboxRepository } from './outbox-repository.js';
import type { OutboxStatus } from './outbox.js';

export interface QueueOverview {
  counts: Partial<Record<OutboxStatus, number>>;
  oldestWaitingSince: Date | undefined;
  failed: OutboxListItem[];
  retrying: OutboxListItem[];
}

/**
 * The admin's view of the mail queue: its state, and retrying or cancelling failed messages. Every use
 * case asserts the admin's right itself; retrying and cancelling are in the audit log.
 */
export class QueueService {
  constructor(
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly policy: RetryPolicy,
    private readonly log: { db: Db; audit: AuditRepository },
  ) {}

  async overview(user: User): Promise<QueueOverview> {
    authorize(user, 'queue.manage');
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
  async retry(user: User, id: number): Promise<void> {
    authorize(user, 'queue.manage');
    const now = this.clock.now();
    const giveUpAt = new Date(now.getTime() + this.policy.giveUpAfterMs);
    const moved = await this.log.db.transaction().execute(async (tx) => {
      if (!(await this.outbox.with(tx).retryFailed(id, now, giveUpAt))) return false;
      await this.record(tx, user, 'message-retried', id, now);
      return true;
    });
    if (!moved) {
      await this.find(user, id); // 404 when there is no such message
      throw new AppError(409, 'message_not_failed', 'queue.errors.notFailed');
    }
  }

  /**
   * Cancels a message that has not gone: it will never be sent. A returned message (sent, then bounced)
   * is only dismissed from the failed list; says which of the two it was.
   */
  async cancel(user: User, id: number): Promise<'cancelled' | 'dismissed'> {
    authorize(user, 'queue.manage');
    const now = this.clock.now();
    const outcome = await this.log.db.transaction().execute(async (tx) => {
      const outbox = this.outbox.with(tx);
      const bounced = (await outbox.findById(id))?.bouncedAt != null;
      if (!(await outbox.cancel(id, now))) return undefined;
      const outcome = bounced ? 'dismissed' : 'cancelled';
      await this.record(tx, user, `message-${outcome}`, id, now);
      return outcome;
    });
    if (!outcome) {
      await this.find(user, id); // 404 when there is no such message
      throw new AppError(409, 'message_not_cancellable', 'queue.errors.notCancellable');
    }
    return outcome;
  }

  private async record(
    tx: Parameters<AuditRepository['with']>[0],
    user: User,
    action: 'message-retried' | 'message-cancelled' | 'message-dismissed',
    id: number,
    now: Date,
  ): Promise<void> {
    await this.log.audit
      .with(tx)
      .record(
        { actor: { id: user.id, email: user.email }, action, targetType: 'outbox-message', targetId: id },
        now,
      );
  }

  async find(user: User, id: number): Promise<OutboxListItem> {
    authorize(user, 'queue.manage');
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
      bouncedAt: message.bouncedAt,
    };
  }
}
