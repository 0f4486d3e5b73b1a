import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { OutboxMessageRow } from '../db/tables.js';
import type { NewOutboxMessage, OutboxMessage, OutboxStatus } from './outbox.js';

function toMessage(row: OutboxMessageRow): OutboxMessage {
  return {
    id: row.id,
    kind: row.kind,
    toAddress: row.to_address,
    subject: row.subject,
    textBody: row.text_body,
    htmlBody: row.html_body,
    headers: JSON.parse(row.headers) as Record<string, string>,
    messageId: row.message_id,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
  };
}

export interface OutboxCounts {
  byStatus: Partial<Record<OutboxStatus, number>>;
}

/** SQL for the mail queue. */
export class OutboxRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): OutboxRepository {
    return new OutboxRepository(tx);
  }

  /** Adds a message to the queue; call in the same transaction as the change that causes it. */
  async enqueue(message: NewOutboxMessage, messageId: string, now: Date): Promise<number> {
    const at = now.toISOString();
    const { id } = await this.db
      .insertInto('outbox_messages')
      .values({
        kind: message.kind,
        priority: message.priority,
        signature_id: message.signatureId,
        to_address: message.toAddress,
        subject: message.subject,
        text_body: message.textBody,
        html_body: message.htmlBody,
        headers: JSON.stringify(message.headers ?? {}),
        message_id: messageId,
        status: 'queued',
        next_attempt_at: at,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  /**
   * Claims up to `limit` messages that are due, and messages whose claim by another worker has expired
   * (that worker died mid-send), in one statement, so two workers never hold the same message.
   * Each claim counts as an attempt. (On Postgres this becomes SELECT … FOR UPDATE SKIP LOCKED.)
   */
  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<OutboxMessage[]> {
    const at = now.toISOString();
    const leaseExpiresAt = new Date(now.getTime() + leaseMs).toISOString();
    const rows = await this.db
      .updateTable('outbox_messages')
      .set((eb) => ({
        status: 'sending',
        claimed_by: workerId,
        lease_expires_at: leaseExpiresAt,
        attempts: eb('attempts', '+', 1),
        updated_at: at,
      }))
      .where(
        'id',
        'in',
        this.db
          .selectFrom('outbox_messages')
          .select('id')
          .where((eb) =>
            eb.or([
              eb.and([eb('status', 'in', ['queued', 'retrying']), eb('next_attempt_at', '<=', at)]),
              eb.and([eb('status', '=', 'sending'), eb('lease_expires_at', '<=', at)]),
            ]),
          )
          .orderBy('priority')
          .orderBy('next_attempt_at')
          .limit(limit),
      )
      .returningAll()
      .execute();
    return rows.map(toMessage);
  }

  /** Records the outcome of a send, but only if this worker still holds the claim (compare-and-set). */
  async finish(
    id: number,
    workerId: string,
    outcome: { status: 'sent' | 'retrying' | 'failed'; reply: string; at: Date; nextAttemptAt?: Date },
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('outbox_messages')
      .set({
        status: outcome.status,
        last_reply: outcome.reply.slice(0, 1000),
        lease_expires_at: null,
        claimed_by: null,
        sent_at: outcome.status === 'sent' ? outcome.at.toISOString() : null,
        next_attempt_at: (outcome.nextAttemptAt ?? outcome.at).toISOString(),
        updated_at: outcome.at.toISOString(),
      })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** Cancels a signature's messages that have not gone yet (e.g. its confirmation, once it is withdrawn). */
  async cancelUnsentForSignature(signatureId: number, now: Date): Promise<number> {
    const result = await this.db
      .updateTable('outbox_messages')
      .set({ status: 'cancelled', updated_at: now.toISOString() })
      .where('signature_id', '=', signatureId)
      .where('status', 'in', ['queued', 'retrying'])
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  async findById(id: number): Promise<(OutboxMessage & { lastReply: string | null }) | undefined> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { ...toMessage(row), lastReply: row.last_reply } : undefined;
  }

  /** When the next message becomes due, so an idle worker can sleep until then. */
  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .select(
        sql<string>`min(case when status = 'sending' then lease_expires_at else next_attempt_at end)`.as(
          'due',
        ),
      )
      .where('status', 'in', ['queued', 'retrying', 'sending'])
      .executeTakeFirst();
    return row?.due ? new Date(row.due) : undefined;
  }

  async countsByStatus(): Promise<OutboxCounts> {
    const rows = await this.db
      .selectFrom('outbox_messages')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return { byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) };
  }
}
