import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DeliveryReplyRepository } from '../../../server/deliveries/delivery-reply-repository.js';
import type { NewDeliveryReply } from '../../../server/deliveries/delivery-reply.js';
import { UserRepository } from '../../../server/accounts/user-repository.js';
import { createLetter } from '../../support/factories.js';
import { recordSentRound } from '../../support/sent-deliveries.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-12-06T09:00:00Z');
const DAY = 86_400_000;

describe('the replies kept with deliveries', () => {
  let t: TestDatabase;
  let replies: DeliveryReplyRepository;
  let letterId: number;
  let otherLetterId: number;
  /** The two deliveries of the round: [embassy, ministry], with their recipients. */
  let deliveries: { id: number; recipientId: number }[];
  let otherDelivery: { id: number; recipientId: number };

  async function deliveriesOf(roundId: number) {
    const rows = await t.db
      .selectFrom('deliveries')
      .select(['id', 'recipient_id'])
      .where('delivery_round_id', '=', roundId)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({ id: r.id, recipientId: r.recipient_id! }));
  }

  function reply(
    delivery: { id: number; recipientId: number },
    overrides: Partial<NewDeliveryReply> = {},
  ): NewDeliveryReply {
    return {
      deliveryId: delivery.id,
      letterId,
      recipientId: delivery.recipientId,
      fromAddress: 'consul@example.org',
      fromName: 'The Consul',
      subject: 'Re: your letter',
      bodyText: 'We have received your letter.',
      automatic: false,
      messageId: `<${Math.random().toString(36).slice(2)}@example.org>`,
      receivedAt: NOW,
      senderDomain: null,
      ...overrides,
    };
  }

  beforeAll(async () => {
    t = await createTestDatabase();
    replies = new DeliveryReplyRepository(t.db);
    letterId = (await createLetter(t.db, NOW, { slug: 'replies-repository' })).id;
    otherLetterId = (await createLetter(t.db, NOW, { slug: 'replies-repository-other' })).id;
    const round = await recordSentRound(
      t.db,
      letterId,
      [
        { name: 'Embassy of Testland', organisation: 'Embassy of Testland' },
        { name: 'Minister of Testland', organisation: 'Ministry of Testland' },
      ],
      {
        createdAt: new Date(NOW.getTime() - 10 * DAY),
        sentAt: new Date(NOW.getTime() - 10 * DAY),
        signatureCount: 3,
      },
    );
    deliveries = await deliveriesOf(round);
    const otherRound = await recordSentRound(
      t.db,
      otherLetterId,
      [{ name: 'Embassy of Elsewhere', organisation: '' }],
      {
        createdAt: new Date(NOW.getTime() - 10 * DAY),
        sentAt: new Date(NOW.getTime() - 10 * DAY),
        signatureCount: 3,
      },
    );
    otherDelivery = (await deliveriesOf(otherRound))[0]!;
  });
  afterAll(async () => {
    await t?.close();
  });

  it('stores a message once per delivery, however often it arrives', async () => {
    const first = reply(deliveries[0]!, {
      messageId: '<same-message@example.org>',
      receivedAt: new Date(NOW.getTime() - 5 * DAY),
    });
    const stored = await replies.store(first);
    expect(stored).toMatchObject({ deliveryId: deliveries[0]!.id, automatic: false, publishedAt: null });
    expect(await replies.store(first)).toBeUndefined();
    const rows = await t.db
      .selectFrom('delivery_replies')
      .select('id')
      .where('message_id', '=', '<same-message@example.org>')
      .execute();
    expect(rows).toHaveLength(1);
  });

  it('tells which recipients replied in person to this letter since a time', async () => {
    const [embassy, ministry] = deliveries as [
      { id: number; recipientId: number },
      { id: number; recipientId: number },
    ];
    // The embassy replied yesterday; the ministry only sent an out-of-office today.
    await replies.store(reply(embassy, { receivedAt: new Date(NOW.getTime() - DAY) }));
    await replies.store(reply(ministry, { automatic: true, subject: 'Out of office' }));
    // Another letter's recipient replied to that letter, not this one.
    await replies.store({ ...reply(otherDelivery), letterId: otherLetterId });
    const both = [embassy.recipientId, ministry.recipientId, otherDelivery.recipientId];

    expect([...(await replies.repliedSince(letterId, both, new Date(NOW.getTime() - 2 * DAY)))]).toEqual([
      embassy.recipientId,
    ]);
    // A reply before the time does not count: the embassy's came a day before.
    expect((await replies.repliedSince(letterId, both, new Date(NOW.getTime() - DAY / 2))).size).toBe(0);
    // The other letter's reply counts only for that letter.
    expect([...(await replies.repliedSince(otherLetterId, both, new Date(0)))]).toEqual([
      otherDelivery.recipientId,
    ]);
    expect((await replies.repliedSince(letterId, [], new Date(0))).size).toBe(0);
  });

  it('publishes a reply once, never an automatic one, and shows only published ones on the record', async () => {
    const person = (await replies.store(reply(deliveries[1]!, { subject: 'Our answer' })))!;
    const auto = (await replies.store(reply(deliveries[1]!, { automatic: true })))!;
    expect(await replies.publishedOf(letterId)).toEqual([]);

    const organizer = await new UserRepository(t.db).create(
      { email: 'organizer@example.org', role: 'organizer', passwordHash: 'x', mustChangePassword: false },
      NOW,
    );

    expect(await replies.publish(auto.id, organizer.id, NOW)).toBe(false);
    expect(await replies.publish(person.id, organizer.id, NOW)).toBe(true);
    expect(await replies.publish(person.id, organizer.id, NOW)).toBe(false);
    const published = await replies.publishedOf(letterId);
    expect(published).toEqual([
      {
        id: person.id,
        recipientId: deliveries[1]!.recipientId,
        recipientName: 'Minister of Testland',
        institution: 'Ministry of Testland',
        subject: 'Our answer',
        bodyText: 'We have received your letter.',
        receivedAt: NOW,
      },
    ]);
    // The record never carries the sender's address.
    expect(JSON.stringify(published)).not.toContain('consul@example.org');
    expect(await replies.publishedOf(otherLetterId)).toEqual([]);

    expect(await replies.unpublish(person.id)).toBe(true);
    expect(await replies.unpublish(person.id)).toBe(false);
    expect(await replies.publishedOf(letterId)).toEqual([]);
  });

  it("lists a letter's replies newest first with the round and recipient they answered", async () => {
    const list = await replies.listOf(letterId);
    expect(list.length).toBeGreaterThanOrEqual(4);
    expect(list.every((r) => r.letterId === letterId)).toBe(true);
    const times = list.map((r) => r.receivedAt.getTime());
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect(list.find((r) => r.subject === 'Our answer')).toMatchObject({
      recipientName: 'Minister of Testland',
      organisation: 'Ministry of Testland',
      roundKind: 'delivery',
    });
  });

  it('records the forwarding message once', async () => {
    const stored = (await replies.store(reply(deliveries[0]!)))!;
    const message = await t.db.selectFrom('outbox_messages').select('id').executeTakeFirstOrThrow();
    expect(await replies.markForwarded(stored.id, message.id)).toBe(true);
    expect(await replies.markForwarded(stored.id, message.id)).toBe(false);
    expect((await replies.find(stored.id))?.forwardedOutboxMessageId).toBe(message.id);
  });

  it("removes a delivery's replies with the delivery", async () => {
    const stored = (await replies.store(reply(otherDelivery, { letterId: otherLetterId })))!;
    await t.db.deleteFrom('deliveries').where('id', '=', otherDelivery.id).execute();
    expect(await replies.find(stored.id)).toBeUndefined();
  });
});
