import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { Kysely, SqliteDialect, type CompiledQuery } from 'kysely';
import type { Transporter } from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Database } from '../../../server/db/tables.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { createMailSender } from '../../../server/mail/mail-sender.js';
import { DEFAULT_RETRY_POLICY, PRIORITY, type OutboxMessage } from '../../../server/outbox/outbox.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import type { MailSender, OutboxWorkerOptions } from '../../../server/outbox/outbox-worker.js';
import { freePort } from '../../support/free-port.js';
import { LEASE_MS, loopbackTransport, MAIL_FROM, outboxRow, testWorker } from '../../support/mail-worker.js';
import { SmtpSink } from '../../support/smtp-sink.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../../support/test-database.js';

/** A transport to the test's sink, or to a closed port. */
function transportTo(port: number): Transporter {
  return loopbackTransport(port, { connectionTimeout: 5_000 });
}

describe('the outbox and its mail worker', () => {
  let t: TestDatabase;
  let sink: SmtpSink;
  let transport: Transporter;
  let clock: ManualClock;
  let outbox: OutboxRepository;
  const transports: Transporter[] = [];

  const worker = (options: Partial<OutboxWorkerOptions> = {}) =>
    testWorker({ outbox, clock, transport }, options);

  async function enqueue(overrides: Parameters<typeof outboxMessage>[0] = {}): Promise<number> {
    return outbox.enqueue(outboxMessage(overrides), testMessageId(), clock.now());
  }

  const row = (id: number) => outboxRow(t.db, id);

  beforeEach(async () => {
    t = await createTestDatabase();
    sink = await new SmtpSink().start();
    transport = transportTo(sink.port);
    transports.push(transport);
    clock = new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
    outbox = new OutboxRepository(t.db);
  });
  afterEach(async () => {
    for (const tr of transports.splice(0)) tr.close();
    await sink.stop();
    await t.close();
  });

  describe('sending', () => {
    it('marks an accepted message sent, keeping the 250 reply and the time', async () => {
      const id = await enqueue({ toAddress: 'ji-hoon@example.org', subject: 'Please confirm' });
      clock.advance(5_000);
      expect(await worker().runOnce()).toBe(1);

      const stored = await row(id);
      expect(stored).toMatchObject({
        status: 'sent',
        attempts: 1,
        sent_at: clock.now().toISOString(),
        claimed_by: null,
        lease_expires_at: null,
      });
      expect(stored.last_reply).toMatch(/^250\b/);

      expect(sink.messages).toHaveLength(1);
      const [mail] = sink.messages;
      expect(mail!.envelopeTo).toEqual(['ji-hoon@example.org']);
      expect(mail!.parsed.subject).toBe('Please confirm');
      expect(mail!.parsed.messageId).toBe(stored.message_id);
      expect(mail!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    });

    it('never sends a sent message again', async () => {
      await enqueue();
      const w = worker();
      expect(await w.runOnce()).toBe(1);
      clock.advance(30 * 86_400_000);
      expect(await w.runOnce()).toBe(0);
      expect(sink.messages).toHaveLength(1);
    });

    it('does not send a message before it is due', async () => {
      const id = await enqueue();
      clock.advance(-1_000);
      expect(await worker().runOnce()).toBe(0);
      expect((await row(id)).status).toBe('queued');
      expect(sink.messages).toHaveLength(0);
    });
  });

  describe('temporary failures', () => {
    it('retries after a 451 with backoff, and sends once the clock reaches the retry time', async () => {
      let replies = 0;
      sink.reply = () =>
        replies++ === 0 ? { code: 451, message: 'Greylisted, try again later' } : undefined;
      const id = await enqueue();
      const w = worker();
      const failedAt = clock.now();

      expect(await w.runOnce()).toBe(1);
      const retrying = await row(id);
      expect(retrying).toMatchObject({
        status: 'retrying',
        attempts: 1,
        sent_at: null,
        claimed_by: null,
        lease_expires_at: null,
      });
      expect(retrying.last_reply).toMatch(/^451\b.*Greylisted/);
      // First retry after the base delay (random 0.5 means no jitter).
      expect(retrying.next_attempt_at).toBe(
        new Date(failedAt.getTime() + DEFAULT_RETRY_POLICY.baseDelayMs).toISOString(),
      );
      expect(sink.messages).toHaveLength(0);

      expect(await w.runOnce()).toBe(0);
      clock.advance(DEFAULT_RETRY_POLICY.baseDelayMs - 1);
      expect(await w.runOnce()).toBe(0);
      expect(replies).toBe(1);

      clock.advance(1);
      expect(await w.runOnce()).toBe(1);
      const sent = await row(id);
      expect(sent).toMatchObject({ status: 'sent', attempts: 2, sent_at: clock.now().toISOString() });
      expect(sent.last_reply).toMatch(/^250\b/);
      expect(sink.messages).toHaveLength(1);
    });

    it('waits twice as long after a second temporary failure', async () => {
      sink.reply = () => ({ code: 421, message: 'Too busy' });
      const id = await enqueue();
      const w = worker();
      await w.runOnce();
      clock.set(new Date((await row(id)).next_attempt_at));
      const secondFailure = clock.now();
      expect(await w.runOnce()).toBe(1);
      const stored = await row(id);
      expect(stored).toMatchObject({ status: 'retrying', attempts: 2 });
      expect(stored.next_attempt_at).toBe(
        new Date(secondFailure.getTime() + 2 * DEFAULT_RETRY_POLICY.baseDelayMs).toISOString(),
      );
    });

    it('retries when the mail server cannot be reached at all', async () => {
      const closed = transportTo(await freePort());
      transports.push(closed);
      const id = await enqueue();
      expect(await worker({ sender: createMailSender(closed, MAIL_FROM) }).runOnce()).toBe(1);
      const stored = await row(id);
      expect(stored).toMatchObject({ status: 'retrying', attempts: 1, sent_at: null });
      expect(stored.last_reply).toMatch(/ECONNREFUSED/);
      expect(new Date(stored.next_attempt_at).getTime()).toBeGreaterThan(clock.now().getTime());
    });

    it('gives up, as failed, once a message has been failing for longer than giveUpAfterMs', async () => {
      sink.reply = () => ({ code: 451, message: 'Still down' });
      const policy = { baseDelayMs: 60_000, maxDelayMs: 600_000, giveUpAfterMs: 3_600_000 };
      const id = await enqueue();
      const queuedAt = clock.now().getTime();
      const w = worker({ policy });

      const seen: string[] = [];
      for (let round = 0; round < 50; round++) {
        const before = await row(id);
        if (before.status === 'failed') break;
        clock.set(new Date(before.next_attempt_at));
        expect(await w.runOnce()).toBe(1);
        const after = await row(id);
        seen.push(after.status);
        if (after.status === 'failed') {
          expect(clock.now().getTime() - queuedAt).toBeGreaterThanOrEqual(policy.giveUpAfterMs);
        } else {
          expect(clock.now().getTime() - queuedAt).toBeLessThan(policy.giveUpAfterMs);
        }
      }
      expect(seen.at(-1)).toBe('failed');
      expect(seen.slice(0, -1).every((s) => s === 'retrying')).toBe(true);
      expect(seen.length).toBeGreaterThan(2);
      expect((await row(id)).last_reply).toMatch(/^451\b/);

      clock.advance(30 * 86_400_000);
      expect(await w.runOnce()).toBe(0);
    });
  });

  describe('permanent failures', () => {
    it('marks a message refused with 550 as failed, keeps the reply, and never claims it again', async () => {
      let replies = 0;
      sink.reply = () => {
        replies += 1;
        return { code: 550, message: 'No such user here' };
      };
      const id = await enqueue();
      const w = worker();
      expect(await w.runOnce()).toBe(1);
      const stored = await row(id);
      expect(stored).toMatchObject({ status: 'failed', attempts: 1, sent_at: null, claimed_by: null });
      expect(stored.last_reply).toMatch(/^550\b.*No such user here/);

      for (const days of [1, 10, 100]) {
        clock.advance(days * 86_400_000);
        expect(await w.runOnce()).toBe(0);
        expect(await outbox.claimDue('another-worker', clock.now(), LEASE_MS, 10)).toEqual([]);
      }
      expect(replies).toBe(1);
      expect((await row(id)).attempts).toBe(1);
    });
  });

  it('sends the same Message-ID on every attempt of a message', async () => {
    sink.reply = (attempt) => (attempt === 0 ? { code: 451, message: 'Try later' } : undefined);
    const id = await enqueue({ toAddress: 'olena@example.org' });
    const w = worker();
    await w.runOnce();
    clock.set(new Date((await row(id)).next_attempt_at));
    await w.runOnce();

    const stored = await row(id);
    expect(stored.status).toBe('sent');
    expect(sink.attempts.map((a) => a.code)).toEqual([451, 250]);
    expect(sink.attempts.map((a) => a.messageId)).toEqual([stored.message_id, stored.message_id]);
    expect(stored.message_id).toMatch(/^<.+@.+>$/);
  });

  describe('claims and leases', () => {
    it('lets another worker take over a message once the claim of a worker that died has expired, but not before', async () => {
      const id = await enqueue();
      const [claimed] = await outbox.claimDue('worker-that-died', clock.now(), LEASE_MS, 10);
      expect(claimed!.id).toBe(id);
      expect(await row(id)).toMatchObject({ status: 'sending', claimed_by: 'worker-that-died', attempts: 1 });

      const other = worker({ workerId: 'worker-b' });
      clock.advance(LEASE_MS - 1);
      expect(await other.runOnce()).toBe(0);
      expect(sink.messages).toHaveLength(0);

      clock.advance(1);
      expect(await other.runOnce()).toBe(1);
      expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(sink.messages).toHaveLength(1);

      // The first worker comes back to life: its claim is gone, so it cannot overwrite the outcome.
      expect(
        await outbox.finish(id, 'worker-that-died', { status: 'retrying', reply: 'late', at: clock.now() }),
      ).toBe(false);
      expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
    });

    it('records an outcome only for the worker that holds the claim', async () => {
      const id = await enqueue();
      await outbox.claimDue('worker-a', clock.now(), LEASE_MS, 10);
      expect(await outbox.finish(id, 'worker-b', { status: 'sent', reply: '250 ok', at: clock.now() })).toBe(
        false,
      );
      expect((await row(id)).status).toBe('sending');
      expect(await outbox.finish(id, 'worker-a', { status: 'sent', reply: '250 ok', at: clock.now() })).toBe(
        true,
      );
      expect(await outbox.finish(id, 'worker-a', { status: 'sent', reply: '250 ok', at: clock.now() })).toBe(
        false,
      );
    });

    it('claims a confirmation (priority 0) before a priority-10 message queued earlier', async () => {
      const letterId = await enqueue({ priority: PRIORITY.letter, subject: 'The compiled letter' });
      clock.advance(1_000);
      const confirmationId = await enqueue({ priority: PRIORITY.confirmation, subject: 'Please confirm' });
      clock.advance(1_000);

      expect((await outbox.claimDue('w', clock.now(), LEASE_MS, 1)).map((m) => m.id)).toEqual([
        confirmationId,
      ]);
      expect((await outbox.claimDue('w', clock.now(), LEASE_MS, 1)).map((m) => m.id)).toEqual([letterId]);
    });

    it('sends the oldest message first among equal priorities', async () => {
      const first = await enqueue({ subject: 'first' });
      clock.advance(1_000);
      await enqueue({ subject: 'second' });
      const w = worker({ batchSize: 1 });
      await w.runOnce();
      expect(sink.messages.map((m) => m.parsed.subject)).toEqual(['first']);
      expect((await row(first)).status).toBe('sent');
    });

    it('never gives two workers the same message when they claim at the same time from separate connections', async () => {
      const ids: number[] = [];
      for (let i = 0; i < 60; i++) ids.push(await enqueue());
      const a = t.connect();
      const b = t.connect();
      const repoA = new OutboxRepository(a.db);
      const repoB = new OutboxRepository(b.db);
      const got: Record<string, number[]> = { a: [], b: [] };
      for (;;) {
        const [fromA, fromB] = await Promise.all([
          repoA.claimDue('a', clock.now(), LEASE_MS, 7),
          repoB.claimDue('b', clock.now(), LEASE_MS, 7),
        ]);
        got.a!.push(...fromA.map((m) => m.id));
        got.b!.push(...fromB.map((m) => m.id));
        if (fromA.length === 0 && fromB.length === 0) break;
      }
      expect(got.a!.filter((id) => got.b!.includes(id))).toEqual([]);
      expect([...got.a!, ...got.b!].sort((x, y) => x - y)).toEqual(ids);
      for (const [workerId, claimed] of Object.entries(got)) {
        for (const id of claimed) expect((await row(id)).claimed_by).toBe(workerId);
      }
    });

    // Threads with SQLite connections of their own; on PostgreSQL the test above claims from two pools at once.
    it.skipIf(testDialect() === 'postgres')(
      'never gives two threads the same message when they run the claim statement in parallel',
      async () => {
        const sqlite = t.handle.sqlite!;
        // Capture the exact statement the repository runs (on the empty queue, so it claims nothing), then
        // replay it from two threads, each with its own connection, as two worker processes would run it.
        const captured: CompiledQuery[] = [];
        const logging = new Kysely<Database>({
          dialect: new SqliteDialect({ database: sqlite }),
          log: (event) => void captured.push(event.query),
        });
        expect(await new OutboxRepository(logging).claimDue('__worker__', clock.now(), LEASE_MS, 5)).toEqual(
          [],
        );
        const claim = captured.find((q) =>
          /^\s*update "?outbox_messages"?\s+(not indexed\s+)?set status = .sending./.test(q.sql),
        )!;
        expect(claim).toBeDefined();
        const ids: number[] = [];
        for (let i = 0; i < 200; i++) ids.push(await enqueue());
        const betterSqlite = createRequire(import.meta.url).resolve('better-sqlite3');
        const gate = new SharedArrayBuffer(4);
        const runThread = (workerId: string) =>
          new Promise<number[]>((resolve, reject) => {
            const thread = new Worker(
              `
            const { parentPort, workerData } = require('node:worker_threads');
            const Database = require(workerData.module);
            const db = new Database(workerData.file);
            db.pragma('journal_mode = WAL');
            db.pragma('busy_timeout = 10000');
            const params = workerData.params.map((p) => (p === '__worker__' ? workerData.workerId : p));
            const statement = db.prepare(workerData.sql);
            // Start together: each thread checks in, then waits until both have.
            const gate = new Int32Array(workerData.gate);
            Atomics.add(gate, 0, 1);
            Atomics.notify(gate, 0);
            while (Atomics.load(gate, 0) < 2) Atomics.wait(gate, 0, 1, 50);
            const claimed = [];
            for (;;) {
              const rows = statement.all(...params);
              if (rows.length === 0) break;
              for (const row of rows) claimed.push(row.id);
            }
            db.close();
            parentPort.postMessage(claimed);
            `,
              {
                eval: true,
                workerData: {
                  module: betterSqlite,
                  file: sqlite.name,
                  sql: claim.sql,
                  params: claim.parameters,
                  workerId,
                  gate,
                },
              },
            );
            thread.once('message', resolve);
            thread.once('error', reject);
            thread.once('exit', (code) =>
              reject(new Error(`claiming thread exited with code ${code} before answering`)),
            );
          });
        const [fromA, fromB] = await Promise.all([runThread('thread-a'), runThread('thread-b')]);
        expect(fromA.filter((id) => fromB.includes(id))).toEqual([]);
        expect([...fromA, ...fromB].sort((x, y) => x - y)).toEqual(ids);
        const owners = await t.db
          .selectFrom('outbox_messages')
          .select(['id', 'claimed_by', 'attempts'])
          .execute();
        for (const owner of owners) {
          expect(owner.attempts).toBe(1);
          expect(owner.claimed_by).toBe(fromA.includes(owner.id) ? 'thread-a' : 'thread-b');
        }
      },
    );

    it('sends every message exactly once when two workers run side by side', async () => {
      for (let i = 0; i < 20; i++) await enqueue();
      const second = t.connect();
      const a = worker({ workerId: 'worker-a', batchSize: 3 });
      const b = worker({ workerId: 'worker-b', batchSize: 3, outbox: new OutboxRepository(second.db) });
      for (;;) {
        const [na, nb] = await Promise.all([a.runOnce(), b.runOnce()]);
        if (na + nb === 0) break;
      }
      expect(sink.messages).toHaveLength(20);
      expect(new Set(sink.messages.map((m) => m.parsed.messageId)).size).toBe(20);
      expect(await outbox.countsByStatus()).toEqual({ byStatus: { sent: 20 } });
    });
  });

  describe('running in the background', () => {
    it('sends mail queued while it sleeps once woken, and stop() waits for a send in flight', async () => {
      let release: (() => void) | undefined;
      const started: OutboxMessage[] = [];
      const slowSender: MailSender = {
        send: (message) =>
          new Promise((resolve) => {
            started.push(message);
            release = () => resolve({ reply: '250 2.0.0 Ok: queued' });
          }),
      };
      const w = worker({ sender: slowSender, pollMs: 60_000 });
      w.start();
      const id = await enqueue();
      w.wake();
      await expect.poll(() => started.length).toBe(1);

      let stopped = false;
      const stopping = w.stop().then(() => {
        stopped = true;
      });
      for (let i = 0; i < 10; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(stopped).toBe(false);
      expect((await row(id)).status).toBe('sending');

      release!();
      await stopping;
      expect(await row(id)).toMatchObject({ status: 'sent', last_reply: '250 2.0.0 Ok: queued' });
    });
  });
});
