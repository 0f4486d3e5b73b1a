import type { Db } from '../../server/db/database.js';

/** One recipient reached by a sent round, as the record shows them. */
export interface SentRecipient {
  name: string;
  organisation: string;
  language?: string;
}

/**
 * Records a delivery round of `letterId` as sent to these recipients at `sentAt`, straight in the
 * tables (recipients, round, outbox messages marked sent, deliveries): what compiling and sending a
 * round leaves behind, without compiling hundreds of letters. Returns the round's id.
 */
export async function recordSentRound(
  db: Db,
  letterId: number,
  recipients: readonly SentRecipient[],
  at: { createdAt: Date; sentAt: Date; signatureCount: number; kind?: 'delivery' | 'update' | 'test' },
): Promise<number> {
  const letter = await db
    .selectFrom('letters')
    .select('current_version_id')
    .where('id', '=', letterId)
    .executeTakeFirstOrThrow();
  const created = at.createdAt.toISOString();
  const sent = at.sentAt.toISOString();
  const round = await db
    .insertInto('delivery_rounds')
    .values({
      letter_id: letterId,
      letter_version_id: letter.current_version_id!,
      kind: at.kind ?? 'delivery',
      trigger: 'manual',
      status: 'queued',
      signature_count: at.signatureCount,
      milestone: null,
      test_address: null,
      requested_by: null,
      request_key: null,
      notified_at: null,
      created_at: created,
      updated_at: created,
      failure: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow();
  let n = 0;
  for (const r of recipients) {
    n += 1;
    const email = `office-${round.id}-${n}@example.org`;
    const recipient = await db
      .insertInto('recipients')
      .values({
        name: r.name,
        title: '',
        organisation: r.organisation,
        country: null,
        email,
        language: r.language ?? 'en',
        notes: '',
        created_at: created,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const message = await db
      .insertInto('outbox_messages')
      .values({
        kind: 'letter-delivery',
        priority: 1,
        signature_id: null,
        to_address: email,
        message_id: `<round-${round.id}-${n}@example.org>`,
        status: 'sent',
        next_attempt_at: created,
        lease_expires_at: null,
        claimed_by: null,
        last_reply: '250 ok',
        sent_at: sent,
        created_at: created,
        updated_at: sent,
        reply_to: null,
        give_up_at: null,
        delivery_round_id: round.id,
        bounced_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await db
      .insertInto('deliveries')
      .values({
        delivery_round_id: round.id,
        recipient_id: recipient.id,
        recipient_name: r.name,
        language: r.language ?? 'en',
        outbox_message_id: message.id,
        created_at: created,
      })
      .execute();
  }
  return round.id;
}
