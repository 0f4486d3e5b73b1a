import { afterEach, describe, expect, it } from 'vitest';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import {
  exitWithin,
  killIfRunning,
  startPlatformProcess,
  until,
  type PlatformProcess,
} from '../../support/platform-process.js';
import { SmtpSink } from '../../support/smtp-sink.js';
import { outboxMessage } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

/**
 * `npm run worker` (server/worker-main.ts) as a real process against a real, slow SMTP server: killed
 * with SIGKILL mid-send, run twice at once on one database, stopped with SIGTERM.
 */
describe('the mail worker process', () => {
  let t: TestDatabase | undefined;
  let sink: SmtpSink | undefined;
  const processes: PlatformProcess[] = [];

  afterEach(async () => {
    for (const p of processes.splice(0)) await killIfRunning(p);
    await sink?.stop();
    await t?.close();
    t = undefined;
    sink = undefined;
  });

  async function queue(count: number, tag: string): Promise<string[]> {
    t = await createTestDatabase();
    const outbox = new OutboxRepository(t.db);
    const ids: string[] = [];
    for (let i = 0; i < count; i++) {
      const messageId = `<${tag}-${i}-${Date.now()}@undersigned.example.org>`;
      await outbox.enqueue(
        outboxMessage({ toAddress: `office-${i}@ministry-${i % 3}.example`, subject: `Letter ${i}` }),
        messageId,
        new Date(),
      );
      ids.push(messageId);
    }
    return ids;
  }

  async function worker(env: Record<string, string> = {}): Promise<PlatformProcess> {
    const running = await startPlatformProcess('server/worker-main.ts', {
      DATA_DIR: t!.dir,
      ...t!.env,
      SMTP_URL: `smtp://127.0.0.1:${sink!.port}`,
      SMTP_POOL_CONNECTIONS: '10',
      MAIL_DOMAIN_CONNECTIONS: '10',
      MAIL_DOMAIN_RATE: '1000',
      ...env,
    });
    processes.push(running);
    return running;
  }

  const rows = () =>
    t!.db
      .selectFrom('outbox_messages')
      .select(['message_id', 'status', 'attempts', 'claimed_by', 'lease_expires_at'])
      .orderBy('id')
      .execute();
  const acceptedIds = () => sink!.messages.map((m) => m.parsed.messageId ?? '');

  it(
    'sends again, with the same Message-ID, every message a worker killed with SIGKILL had claimed, once a new worker runs',
    { timeout: 120_000 },
    async () => {
      const messageIds = await queue(12, 'killed');
      sink = await new SmtpSink().start();
      // A slow server: each message is held 2 s after its data, so the kill finds sends in flight.
      sink.holdMs = 2_000;
      // A short lease keeps the test short; the default (30 s) brings them back within 40 s (lease.test.ts).
      const first = await worker({ MAIL_LEASE_SECONDS: '3' });
      await until(first, () => sink!.holding >= 4, 'sends in flight');
      first.child.kill('SIGKILL');
      await first.exited;

      const claimedByTheDead = (await rows()).filter((r) => r.status === 'sending');
      expect(claimedByTheDead.length, 'claims left behind by the killed worker').toBeGreaterThan(0);
      expect(sink.messages, 'nothing was accepted before the kill').toEqual([]);

      const killedAt = Date.now();
      const restarted = await worker({ MAIL_LEASE_SECONDS: '3' });
      const restartedAt = Date.now();
      // The bound: within 60 s of the restart (a correctness bound, not a speed figure).
      await until(
        restarted,
        () => messageIds.every((id) => acceptedIds().includes(id)),
        'every message accepted',
        60_000,
      );
      console.log(
        `worker killed with ${claimedByTheDead.length} claims (lease 3 s, sends held 2 s): all accepted ` +
          `${Date.now() - restartedAt} ms after the restart (${restartedAt - killedAt} ms to start it)`,
      );
      await until(
        restarted,
        async () => (await rows()).every((r) => r.status === 'sent'),
        'every message recorded as sent',
        10_000,
      );

      // The cut sends reached the server and were not accepted; each went again with its own Message-ID.
      expect(sink.cutOff.length).toBeGreaterThan(0);
      for (const id of sink.cutOff) expect(acceptedIds()).toContain(id);
      for (const row of claimedByTheDead) {
        expect(acceptedIds().filter((id) => id === row.message_id)).toHaveLength(1);
      }
      expect(acceptedIds().sort()).toEqual([...messageIds].sort());
      for (const row of await rows()) {
        expect(row).toMatchObject({ status: 'sent', claimed_by: null, lease_expires_at: null });
      }
      restarted.child.kill('SIGTERM');
      expect(await exitWithin(restarted, 10_000)).toEqual({ code: 0, signal: null });
    },
  );

  it(
    'never takes over the claims of a live worker whose sends outlast the lease several times: each message goes once',
    { timeout: 120_000 },
    async () => {
      const messageIds = await queue(6, 'slow');
      sink = await new SmtpSink().start();
      // Each send lasts 8 s; the lease is 3 s: without renewal, the other worker would take them over.
      sink.holdMs = 8_000;
      const a = await worker({ MAIL_LEASE_SECONDS: '3' });
      await until(a, () => sink!.holding >= 1, 'a send in flight');
      const b = await worker({ MAIL_LEASE_SECONDS: '3' });
      await until(
        a,
        () => messageIds.every((id) => acceptedIds().includes(id)),
        'every message accepted',
        60_000,
      );
      // B has had well over a lease to look for expired claims while A's sends were held.
      await until(b, async () => (await rows()).every((r) => r.status === 'sent'), 'all recorded', 10_000);

      expect(sink.attempts.map((x) => x.messageId).sort()).toEqual([...messageIds].sort());
      expect(acceptedIds().sort()).toEqual([...messageIds].sort());
      for (const row of await rows()) expect(row).toMatchObject({ status: 'sent', attempts: 1 });
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect(await exitWithin(a, 10_000)).toEqual({ code: 0, signal: null });
      expect(await exitWithin(b, 10_000)).toEqual({ code: 0, signal: null });
    },
  );

  it(
    'on SIGTERM exits with code 0 within 10 s, giving back a claim whose send outlasts the grace instead of leaving it to expire',
    { timeout: 60_000 },
    async () => {
      const [messageId] = await queue(1, 'stopped');
      sink = await new SmtpSink().start();
      sink.holdMs = 60_000;
      const running = await worker();
      await until(running, () => sink!.holding >= 1, 'the send in flight');

      const signalledAt = Date.now();
      running.child.kill('SIGTERM');
      expect(await exitWithin(running, 10_000), running.output()).toEqual({ code: 0, signal: null });
      console.log(
        `worker with a send held by the server: exited ${Date.now() - signalledAt} ms after SIGTERM`,
      );
      expect(running.output()).toContain('SIGTERM: finishing requests and mail in flight');
      // Given back, due now for the next worker: not "sending" under a lease nobody renews.
      const [row] = await rows();
      expect(row).toMatchObject({
        message_id: messageId,
        status: 'retrying',
        claimed_by: null,
        lease_expires_at: null,
        attempts: 1,
      });
      expect(sink.messages).toEqual([]);
    },
  );
});
