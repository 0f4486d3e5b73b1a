import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../server/lib/clock.js';
import { createLogger } from '../../../server/lib/logger.js';
import { DomainPacingRepository } from '../../../server/outbox/domain-pacing-repository.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { OutboxWorker, type MailSender } from '../../../server/outbox/outbox-worker.js';
import { LEASE_MS } from '../../support/mail-worker.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const RATE = 10;
/** How long each send takes: 2 connections / 300 ms = 6.7 a second per worker, under RATE. */
const SEND_MS = 300;

describe('the pace per receiving domain, across mail workers', () => {
  let t: TestDatabase;
  const workers: OutboxWorker[] = [];

  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await t.close();
  });

  it('keeps the rate of three workers together within the policy, each on its own connection', async () => {
    const outbox = new OutboxRepository(t.db);
    const total = 25;
    for (let i = 0; i < total; i++)
      await outbox.enqueue(
        outboxMessage({ toAddress: `supporter-${i}@paced.example.org` }),
        testMessageId(),
        systemClock.now(),
      );

    const starts: { at: number; worker: string }[] = [];
    let finished = 0;
    let allSent!: () => void;
    const done = new Promise<void>((resolve) => (allSent = resolve));
    for (const name of ['worker-a', 'worker-b', 'worker-c']) {
      // Another process: its own connection, repositories and gate.
      const { db } = t.connect();
      // Each send holds its connection SEND_MS: one worker's two connections carry at most 2 / SEND_MS,
      // below the policy's rate, so no worker can keep the domain to itself and the others must send too.
      // Three together could carry twice the rate: the pace, not the connections, is what holds them.
      const sender: MailSender = {
        send: async () => {
          starts.push({ at: Date.now(), worker: name });
          await new Promise((resolve) => setTimeout(resolve, SEND_MS));
          return { reply: '250 accepted' };
        },
      };
      workers.push(
        new OutboxWorker({
          outbox: new OutboxRepository(db),
          pacing: new DomainPacingRepository(db),
          sender,
          clock: systemClock,
          logger: createLogger('silent'),
          workerId: name,
          leaseMs: LEASE_MS,
          pollMs: 20,
          politeness: { connectionsPerDomain: 2, messagesPerSecond: RATE },
          onFinished: () => {
            finished += 1;
            if (finished === total) allSent();
          },
        }),
      );
    }
    for (const worker of workers) worker.start();
    await done;

    expect(starts).toHaveLength(total);
    // More than one worker sent: the pace held across processes, not inside one.
    expect(new Set(starts.map((s) => s.worker)).size).toBeGreaterThan(1);
    // Within any second, at most the policy's rate and two more: one for the second's edge, one for a send
    // whose timer fired late (a busy event loop) into the next one's second. Three workers each
    // keeping their own pace would start all 25 within a second.
    const times = starts.map((s) => s.at).sort((a, b) => a - b);
    const mostInOneSecond = Math.max(
      ...times.map((from) => times.filter((at) => at >= from && at < from + 1000).length),
    );
    expect(mostInOneSecond).toBeLessThanOrEqual(RATE + 2);
  });

  it('gives reservations for one domain at the same moment different starts, one spacing apart', async () => {
    const first = new DomainPacingRepository(t.connect().db);
    const second = new DomainPacingRepository(t.connect().db);
    const now = Date.parse('2026-11-23T10:00:00.000Z');
    const reserve = (repository: DomainPacingRepository, counts: Record<string, number>, at = now) =>
      repository.reserveStarts(new Map(Object.entries(counts)), at, 500);
    const [a, b] = await Promise.all([
      reserve(first, { 'paced.example.org': 2, 'other.example.org': 1 }),
      reserve(second, { 'paced.example.org': 1 }),
    ]);
    // Three starts for paced.example.org, whichever statement went first: now, +500, +1000.
    const paced = [
      a.get('paced.example.org')!,
      a.get('paced.example.org')! + 500,
      b.get('paced.example.org')!,
    ];
    expect(paced.sort((x, y) => x - y)).toEqual([now, now + 500, now + 1000]);
    // Another domain keeps its own pace; a reservation after a quiet spell starts at once.
    expect(a.get('other.example.org')).toBe(now);
    expect((await reserve(first, { 'paced.example.org': 1 }, now + 10_000)).get('paced.example.org')).toBe(
      now + 10_000,
    );
    expect(await first.reservedBeyond(now + 10_000)).toEqual(['paced.example.org']);
    expect(await first.forgetQuietSince(now + 1_000)).toBe(1);
  });
});
