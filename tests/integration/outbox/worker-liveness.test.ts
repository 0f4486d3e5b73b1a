import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../../server/lib/logger.js';
import { ManualClock } from '../../../server/lib/clock.js';
import type { OutboxMessage } from '../../../server/outbox/outbox.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import {
  OutboxWorker,
  type MailSender,
  type OutboxWorkerOptions,
} from '../../../server/outbox/outbox-worker.js';
import { outboxRow } from '../../support/mail-worker.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

/** A short lease, as the tests move the clock by hand past it. */
const LEASE_MS = 30_000;

/**
 * A mail server the test answers by hand: each send waits until the test lets it through, so a send
 * can last as long as the test wants (a slow server, a large PDF).
 */
class HeldSender implements MailSender {
  readonly started: OutboxMessage[] = [];
  private readonly answers = new Map<number, () => void>();

  send(message: OutboxMessage): Promise<{ reply: string }> {
    this.started.push(message);
    return new Promise((resolve) =>
      this.answers.set(message.id, () => resolve({ reply: `250 2.0.0 queued as ${message.id}` })),
    );
  }

  /** Lets the send of this message through (the server accepts it). */
  accept(id: number): void {
    this.answers.get(id)!();
  }

  async untilStarted(count: number): Promise<void> {
    const deadline = Date.now() + 10_000;
    while (this.started.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} sends, saw ${this.started.length}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }
}

describe('mail worker liveness', () => {
  let t: TestDatabase;
  let clock: ManualClock;
  let outbox: OutboxRepository;
  const stops: (() => Promise<void>)[] = [];

  const worker = (workerId: string, sender: MailSender, options: Partial<OutboxWorkerOptions> = {}) => {
    const w = new OutboxWorker({
      outbox,
      sender,
      clock,
      logger: createLogger('silent'),
      workerId,
      leaseMs: LEASE_MS,
      random: () => 0.5,
      ...options,
    });
    stops.push(() => w.stop());
    return w;
  };
  const enqueue = (toAddress = 'office@ministry.example') =>
    outbox.enqueue(outboxMessage({ toAddress }), testMessageId(), clock.now());
  const row = (id: number) => outboxRow(t.db, id);

  beforeEach(async () => {
    t = await createTestDatabase();
    clock = new ManualClock(new Date('2026-12-05T10:00:00.000Z'));
    outbox = new OutboxRepository(t.db);
  });
  afterEach(async () => {
    for (const stop of stops.splice(0)) await stop();
    await t.close();
  });

  it('never lets another worker take over the claim of a live worker, however long its send lasts', async () => {
    const id = await enqueue();
    const slow = new HeldSender();
    const a = worker('worker-a', slow);
    const sending = a.runOnce();
    await slow.untilStarted(1);

    const other: OutboxMessage[] = [];
    const b = worker('worker-b', {
      send: async (m) => {
        other.push(m);
        return { reply: '250 ok' };
      },
    });
    // Ten leases pass while the send waits on the server; worker A's heartbeat renews its claim.
    for (let beat = 0; beat < 30; beat++) {
      clock.advance(LEASE_MS / 3);
      await a.renewLeases();
      expect(await b.runOnce()).toBe(0);
    }
    expect(await row(id)).toMatchObject({ status: 'sending', claimed_by: 'worker-a', attempts: 1 });
    expect(other).toEqual([]);

    slow.accept(id);
    expect(await sending).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 1, claimed_by: null });
    expect(slow.started.map((m) => m.id)).toEqual([id]);
  });

  it('takes over the claims of a worker that stopped renewing them once its short lease has run out, with the same Message-ID', async () => {
    const [first, second] = [await enqueue(), await enqueue('press@ministry.example')];
    const dead = new HeldSender();
    const a = worker('worker-that-died', dead, { stopGraceMs: 10 });
    void a.runOnce();
    await dead.untilStarted(2);
    const claimedAt = clock.now();
    // Worker A's process is gone: no more heartbeats. Worker B's heartbeat looks for expired claims.
    const b = worker('worker-b', { send: async (m) => ({ reply: `250 ok ${m.id}` }) });
    clock.set(new Date(claimedAt.getTime() + LEASE_MS - 1));
    await b.renewLeases();
    expect(await row(first)).toMatchObject({ status: 'sending', claimed_by: 'worker-that-died' });

    clock.set(new Date(claimedAt.getTime() + LEASE_MS));
    await b.renewLeases();
    expect(await row(first)).toMatchObject({ status: 'retrying', claimed_by: null, lease_expires_at: null });
    const messageIds = [(await row(first)).message_id, (await row(second)).message_id];

    const resent: OutboxMessage[] = [];
    const c = worker('worker-b', {
      send: async (m) => {
        resent.push(m);
        return { reply: '250 ok' };
      },
    });
    expect(await c.runOnce()).toBe(2);
    expect(resent.map((m) => m.messageId).sort()).toEqual([...messageIds].sort());
    expect(dead.started.map((m) => m.messageId).sort()).toEqual([...messageIds].sort());
    expect(await row(first)).toMatchObject({ status: 'sent', attempts: 2 });
    expect(await row(second)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  it('on stop, gives back at once what it has not handed to SMTP, lets a short send finish, and gives back a send that outlasts the grace', async () => {
    const stuck = await enqueue('office@slow.example');
    const paced = await enqueue('press@slow.example');
    const quick = await enqueue('office@quick.example');
    const sender = new HeldSender();
    // Two connections to slow.example, one start every 10 s: the second message waits in the domain's gate.
    const w = worker('worker-a', sender, {
      stopGraceMs: 300,
      politeness: { connectionsPerDomain: 2, messagesPerSecond: 0.1 },
    });
    w.start();
    await sender.untilStarted(2);
    expect(sender.started.map((m) => m.id).sort()).toEqual([stuck, quick].sort());

    setTimeout(() => sender.accept(quick), 100);
    await w.stop();

    // The quick send finished within the grace and was recorded.
    expect(await row(quick)).toMatchObject({ status: 'sent', attempts: 1 });
    // The message waiting for its turn never reached the server: given back, due now, for another worker.
    expect(await row(paced)).toMatchObject({
      status: 'retrying',
      claimed_by: null,
      lease_expires_at: null,
      attempts: 1,
      next_attempt_at: clock.now().toISOString(),
    });
    // The send still talking to the server after the grace: given back too, not left "sending".
    expect(await row(stuck)).toMatchObject({ status: 'retrying', claimed_by: null, lease_expires_at: null });

    // When the cut send's server answers after all, the record stays with the queue, not the stopped worker.
    sender.accept(stuck);
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(await row(stuck)).toMatchObject({ status: 'retrying', claimed_by: null });
    expect(sender.started.map((m) => m.id)).not.toContain(paced);
  });
});
