import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../../server/lib/clock.js';
import { createLogger } from '../../../server/lib/logger.js';
import type { PolitenessPolicy } from '../../../server/outbox/outbox.js';
import { DomainPacingRepository } from '../../../server/outbox/domain-pacing-repository.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { OutboxWorker, type MailSender } from '../../../server/outbox/outbox-worker.js';
import { LEASE_MS } from '../../support/mail-worker.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const RATE = 10;

describe('the pace and connections per receiving domain, across mail workers', () => {
  let t: TestDatabase;
  const workers: OutboxWorker[] = [];

  beforeEach(async () => {
    t = await createTestDatabase();
  });
  afterEach(async () => {
    await Promise.all(workers.splice(0).map((w) => w.stop()));
    await t.close();
  });

  async function enqueue(total: number, domain: string): Promise<void> {
    const outbox = new OutboxRepository(t.db);
    for (let i = 0; i < total; i++)
      await outbox.enqueue(
        outboxMessage({ toAddress: `supporter-${i}@${domain}` }),
        testMessageId(),
        systemClock.now(),
      );
  }

  /**
   * Three workers, as three processes would be: each its own connection, repositories and gate, at most
   * two messages in hand (batchSize), each send holding its connection `sendMs`. Resolves with every
   * send's start and the most sends that were ever in flight at once, over all three.
   */
  async function threeWorkers(total: number, politeness: PolitenessPolicy, sendMs: number) {
    const starts: { at: number; worker: string }[] = [];
    let inFlight = 0;
    let mostInFlight = 0;
    let finished = 0;
    let allSent!: () => void;
    const done = new Promise<void>((resolve) => (allSent = resolve));
    for (const name of ['worker-a', 'worker-b', 'worker-c']) {
      const { db } = t.connect();
      const sender: MailSender = {
        send: async () => {
          starts.push({ at: Date.now(), worker: name });
          mostInFlight = Math.max(mostInFlight, ++inFlight);
          await new Promise((resolve) => setTimeout(resolve, sendMs));
          inFlight -= 1;
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
          batchSize: 2,
          politeness,
          onFinished: () => {
            finished += 1;
            if (finished === total) allSent();
          },
        }),
      );
    }
    for (const worker of workers) worker.start();
    await done;
    return { starts, mostInFlight };
  }

  it('keeps the rate of three workers together within the policy', async () => {
    const total = 25;
    await enqueue(total, 'paced.example.org');
    // Each worker holds at most two sends of 300 ms: 6.7 a second, under the rate, so no worker can keep
    // the domain to itself and the others must send too. Three together could carry twice the rate
    // (six connections): the pace, not the connections, is what holds them.
    const { starts } = await threeWorkers(total, { connectionsPerDomain: 6, messagesPerSecond: RATE }, 300);

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

  it("keeps a domain's connections for the whole deployment: three workers together send at most that many at once", async () => {
    const total = 15;
    await enqueue(total, 'narrow.example.org');
    // No pacing to speak of: only the connections hold them. Each worker alone may hold two sends; three
    // counting only their own would have up to six in flight.
    const { starts, mostInFlight } = await threeWorkers(
      total,
      { connectionsPerDomain: 2, messagesPerSecond: 10_000 },
      100,
    );
    expect(starts).toHaveLength(total);
    expect(mostInFlight).toBe(2);
  });

  it('claims for a domain only the connections other workers leave free', async () => {
    const a = new OutboxRepository(t.connect().db);
    const b = new OutboxRepository(t.connect().db);
    await enqueue(5, 'narrow.example.org');
    await enqueue(1, 'other.example.org');
    const claim = (outbox: OutboxRepository, worker: string) =>
      outbox.claimDue(worker, systemClock.now(), LEASE_MS, 10, { perDomain: 2, excludeDomains: [] });
    const domains = (claimed: { domain: string }[]) => claimed.map((m) => m.domain).sort();

    const first = await claim(a, 'worker-a');
    expect(domains(first)).toEqual(['narrow.example.org', 'narrow.example.org', 'other.example.org']);
    // Worker b's own gate is empty, but the domain's two connections are worker a's.
    expect(await claim(b, 'worker-b')).toEqual([]);
    // One of a's sends ends: one connection is free for anyone.
    const narrow = first.find((m) => m.domain === 'narrow.example.org')!;
    await a.finishSent('worker-a', [{ id: narrow.id, reply: '250 accepted' }], systemClock.now());
    expect(domains(await claim(b, 'worker-b'))).toEqual(['narrow.example.org']);
    expect(await claim(b, 'worker-b')).toEqual([]);
  });

  it('never hands out more than the free connections when workers claim at the same moment', async () => {
    await enqueue(12, 'narrow.example.org');
    const repositories = [0, 1, 2, 3].map(() => new OutboxRepository(t.connect().db));
    const claims = await Promise.all(
      repositories.map((outbox, i) =>
        outbox.claimDue(`worker-${i}`, systemClock.now(), LEASE_MS, 10, { perDomain: 3, excludeDomains: [] }),
      ),
    );
    expect(claims.flat()).toHaveLength(3);
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
