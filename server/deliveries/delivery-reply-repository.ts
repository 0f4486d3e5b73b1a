import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { DeliveryRepliesTable } from '../db/tables.js';
import type { DeliveryReply, NewDeliveryReply, PublishedReply, ReplyInList } from './delivery-reply.js';

function toReply(row: Selectable<DeliveryRepliesTable>): DeliveryReply {
  return {
    id: row.id,
    deliveryId: row.delivery_id,
    letterId: row.letter_id,
    recipientId: row.recipient_id,
    fromAddress: row.from_address,
    fromName: row.from_name,
    subject: row.subject,
    bodyText: row.body_text,
    automatic: row.automatic === 1,
    messageId: row.message_id,
    receivedAt: new Date(row.received_at),
    publishedAt: row.published_at ? new Date(row.published_at) : null,
    publishedBy: row.published_by,
    forwardedOutboxMessageId: row.forwarded_outbox_message_id,
    senderDomain: row.sender_domain,
  };
}

type ListedRow = Selectable<DeliveryRepliesTable> & {
  delivery_round_id: number;
  kind: string;
  round_created_at: string;
  recipient_name: string;
  organisation: string | null;
};

function inList(r: ListedRow): ReplyInList {
  return {
    ...toReply(r),
    roundId: r.delivery_round_id,
    roundKind: r.kind,
    roundAskedAt: new Date(r.round_created_at),
    recipientName: r.recipient_name,
    organisation: r.organisation ?? '',
  };
}

/** SQL for the replies that came back to deliveries' reply addresses (delivery_replies). */
export class DeliveryReplyRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): DeliveryReplyRepository {
    return new DeliveryReplyRepository(tx);
  }

  /**
   * Stores a reply; undefined when this delivery already has this message (a relay that delivered it
   * twice, a sender who sent it again with the same Message-ID): the unique index decides.
   */
  async store(reply: NewDeliveryReply): Promise<DeliveryReply | undefined> {
    const row = await this.db
      .insertInto('delivery_replies')
      .values({
        delivery_id: reply.deliveryId,
        letter_id: reply.letterId,
        recipient_id: reply.recipientId,
        from_address: reply.fromAddress,
        from_name: reply.fromName,
        subject: reply.subject,
        body_text: reply.bodyText,
        automatic: reply.automatic ? 1 : 0,
        message_id: reply.messageId,
        received_at: reply.receivedAt.toISOString(),
        sender_domain: reply.senderDomain,
      })
      .onConflict((oc) => oc.columns(['delivery_id', 'message_id']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? toReply(row) : undefined;
  }

  /** How many replies a delivery has had since a time (its daily cap). */
  async countSince(deliveryId: number, since: Date): Promise<number> {
    const row = await this.db
      .selectFrom('delivery_replies')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('delivery_id', '=', deliveryId)
      .where('received_at', '>=', since.toISOString())
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async find(id: number): Promise<DeliveryReply | undefined> {
    const row = await this.db
      .selectFrom('delivery_replies')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toReply(row) : undefined;
  }

  /**
   * Which of these recipients replied to this letter at or after `since`, in person: an automatic
   * answer (out of office, a bounce) is not a reply, so it never stops an escalation.
   */
  async repliedSince(letterId: number, recipientIds: readonly number[], since: Date): Promise<Set<number>> {
    const replied = new Set<number>();
    for (let i = 0; i < recipientIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('delivery_replies')
        .select('recipient_id')
        .distinct()
        .where('letter_id', '=', letterId)
        .where('recipient_id', 'in', recipientIds.slice(i, i + 500))
        .where('received_at', '>=', since.toISOString())
        .where('automatic', '=', 0)
        .execute();
      for (const r of rows) if (r.recipient_id !== null) replied.add(r.recipient_id);
    }
    return replied;
  }

  private listed() {
    return this.db
      .selectFrom('delivery_replies as y')
      .innerJoin('deliveries as d', 'd.id', 'y.delivery_id')
      .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
      .leftJoin('recipients as p', 'p.id', 'y.recipient_id')
      .selectAll('y')
      .select([
        'd.delivery_round_id',
        'r.kind',
        'r.created_at as round_created_at',
        'd.recipient_name',
        'p.organisation',
      ]);
  }

  /** One reply with the round and recipient it answered. */
  async findInList(id: number): Promise<ReplyInList | undefined> {
    return (await this.listed().where('y.id', '=', id).execute()).map(inList)[0];
  }

  /** A letter's replies, newest first, with the round and recipient each answered (the organizer's list). */
  async listOf(letterId: number): Promise<ReplyInList[]> {
    const rows = await this.listed()
      .where('y.letter_id', '=', letterId)
      .orderBy('y.received_at', 'desc')
      .orderBy('y.id', 'desc')
      .execute();
    return rows.map(inList);
  }

  /** The replies an organizer published on the letter's record, oldest first; never a sender's address. */
  async publishedOf(letterId: number): Promise<PublishedReply[]> {
    const rows = await this.db
      .selectFrom('delivery_replies as y')
      .innerJoin('deliveries as d', 'd.id', 'y.delivery_id')
      .leftJoin('recipients as p', 'p.id', 'y.recipient_id')
      .select([
        'y.id',
        'y.recipient_id',
        'y.subject',
        'y.body_text',
        'y.received_at',
        'd.recipient_name',
        'p.organisation',
      ])
      .where('y.letter_id', '=', letterId)
      .where('y.published_at', 'is not', null)
      .orderBy('y.received_at')
      .orderBy('y.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      recipientId: r.recipient_id,
      recipientName: r.recipient_name,
      institution: r.organisation?.trim() || r.recipient_name,
      subject: r.subject,
      bodyText: r.body_text,
      receivedAt: new Date(r.received_at),
    }));
  }

  /** Publishes a reply (compare-and-set: unpublished and not automatic); true when it moved. */
  async publish(id: number, by: number, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_replies')
      .set({ published_at: now.toISOString(), published_by: by })
      .where('id', '=', id)
      .where('published_at', 'is', null)
      .where('automatic', '=', 0)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Takes a reply off the record (compare-and-set: only a published one); true when it moved. */
  async unpublish(id: number): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_replies')
      .set({ published_at: null, published_by: null })
      .where('id', '=', id)
      .where('published_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records the outbox message that forwards a reply to the organisation (only once). */
  async markForwarded(id: number, outboxMessageId: number): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_replies')
      .set({ forwarded_outbox_message_id: outboxMessageId })
      .where('id', '=', id)
      .where('forwarded_outbox_message_id', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
