import { spawn, type ChildProcess } from 'node:child_process';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { projectRoot } from '../../../server/lib/paths.js';
import { PRIORITY } from '../../../server/outbox/outbox.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { SmtpSink, type SinkMessage } from '../../support/smtp-sink.js';
import { outboxMessage } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const MESSAGES = 1_200;
const DOMAINS = 60;
const KILLS = 6;
const LEASE_MS = 1_500;

interface WorkerProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<void>;
}

/** Starts tests/support/crash-worker.ts in a process of its own and waits until its worker runs. */
async function startWorker(file: string, port: number): Promise<WorkerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'tests/support/crash-worker.ts'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      CRASH_DATABASE: file,
      CRASH_SMTP_PORT: String(port),
      CRASH_LEASE_MS: String(LEASE_MS),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 20_000;
  while (!output.includes('ready')) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`the worker exited before it was ready:\n${output}`);
    if (Date.now() > deadline) throw new Error(`the worker did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { child, output: () => output, exited };
}

/** What CRASH_DATABASE names: the SQLite file or the PostgreSQL URL. */
const databaseOf = (t: TestDatabase) => (t.location.dialect === 'sqlite' ? t.location.path : t.location.url);

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('a mail worker killed at random moments', () => {
  let t: TestDatabase | undefined;
  let sink: SmtpSink | undefined;
  const running: WorkerProcess[] = [];

  afterEach(async () => {
    for (const w of running.splice(0)) {
      if (w.child.exitCode === null && w.child.signalCode === null) w.child.kill('SIGKILL');
      await w.exited;
    }
    await sink?.stop();
    await t?.close();
  });

  it('sends every message at least once, or fails it with a reason, and every duplicate carries the same Message-ID', async () => {
    const startedAt = Date.now();
    t = await createTestDatabase();
    const outbox = new OutboxRepository(t.db);
    const now = new Date();
    await t.db.transaction().execute(async (tx) => {
      for (let i = 0; i < MESSAGES; i++) {
        await outbox.with(tx).enqueue(
          outboxMessage({
            kind: 'letter-delivery',
            priority: PRIORITY.letter,
            toAddress: `office-${i}@ministry-${i % DOMAINS}.example`,
            subject: `Open letter ${i}`,
          }),
          `<crash-${i}-${now.getTime()}@undersigned.example.org>`,
          now,
        );
      }
    });

    // Now and then the sink refuses: a 451 comes back later, a 550 is final.
    sink = await new SmtpSink().start();
    sink.reply = (attempt) =>
      attempt % 97 === 5
        ? { code: 550, message: '5.1.1 Mailbox unavailable' }
        : attempt % 41 === 7
          ? { code: 451, message: '4.3.0 Busy, try again later' }
          : undefined;

    const countWithStatus = async (status: 'sent' | 'sending') =>
      Number(
        (
          await t!.db
            .selectFrom('outbox_messages')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('status', '=', status)
            .executeTakeFirstOrThrow()
        ).n,
      );

    const kills: { afterMs: number; sentBefore: number; sinkBefore: number; leftClaimed: number }[] = [];
    for (let k = 0; k < KILLS; k++) {
      const received = sink.messages.length;
      const worker = await startWorker(databaseOf(t), sink.port);
      running.push(worker);
      // Killed at work, not while it starts: once it has sent something (a loaded machine can take
      // longer than any fixed delay to get there), at a random moment within the next 400 ms.
      const readyAt = Date.now();
      while (sink.messages.length === received && Date.now() - readyAt < 20_000) await sleep(10);
      await sleep(Math.floor(Math.random() * 400));
      const afterMs = Date.now() - readyAt;
      worker.child.kill('SIGKILL');
      await worker.exited;
      running.splice(running.indexOf(worker), 1);
      kills.push({
        afterMs,
        sentBefore: await countWithStatus('sent'),
        sinkBefore: sink.messages.length,
        // Claims the dead worker still held: only their leases running out can bring them back.
        leftClaimed: await countWithStatus('sending'),
      });
    }

    const last = await startWorker(databaseOf(t), sink.port);
    running.push(last);
    const lastReadyAt = Date.now();
    let mostOverdueMs = 0;
    for (;;) {
      const at = Date.now();
      const waiting = await t.db
        .selectFrom('outbox_messages')
        .select(['status', 'lease_expires_at'])
        .where('status', 'in', ['queued', 'retrying', 'sending'])
        .execute();
      // Once the worker has had a moment to look, a claim is never left past its lease for long.
      if (at - lastReadyAt > 500) {
        for (const row of waiting) {
          if (row.status === 'sending' && row.lease_expires_at)
            mostOverdueMs = Math.max(mostOverdueMs, at - new Date(row.lease_expires_at).getTime());
        }
      }
      if (waiting.length === 0) break;
      if (Date.now() - startedAt > 90_000)
        throw new Error(`the queue did not drain: ${waiting.length} left\n${last.output()}`);
      await sleep(100);
    }
    last.child.kill('SIGTERM');
    await last.exited;
    running.splice(running.indexOf(last), 1);

    const rows = await t.db
      .selectFrom('outbox_messages')
      .select([
        'outbox_messages.id',
        'outbox_messages.to_address',
        'outbox_messages.message_id',
        'outbox_messages.status',
        'outbox_messages.attempts',
        'outbox_messages.last_reply',
        'outbox_messages.lease_expires_at',
      ])
      .orderBy('outbox_messages.id')
      .execute();
    expect(rows).toHaveLength(MESSAGES);

    const byMessageId = new Map<string, SinkMessage[]>();
    for (const message of sink.messages) {
      const id = message.parsed.messageId ?? '';
      byMessageId.set(id, [...(byMessageId.get(id) ?? []), message]);
    }
    const known = new Set(rows.map((r) => r.message_id));
    expect(
      [...byMessageId.keys()].filter((id) => !known.has(id)),
      'mail the queue did not send',
    ).toEqual([]);

    let duplicates = 0;
    const failed: string[] = [];
    for (const row of rows) {
      const copies = byMessageId.get(row.message_id) ?? [];
      expect(['sent', 'failed'], `message ${row.id}`).toContain(row.status);
      expect(row.lease_expires_at).toBeNull();
      if (row.status === 'sent')
        expect(copies.length, `message ${row.id} reached the sink`).toBeGreaterThan(0);
      if (row.status === 'failed') {
        expect(row.last_reply, `message ${row.id} failed with a reason`).toMatch(/^\d{3}\b./);
        failed.push(row.last_reply!);
      }
      // A duplicate is the same e-mail again, never a new one: one claim at most sends one copy.
      // (The queue keeps no body once sent: the subject is known from the Message-ID it was queued with.)
      const number = /^<crash-(\d+)-/.exec(row.message_id)![1];
      for (const copy of copies) {
        expect(copy.envelopeTo).toEqual([row.to_address]);
        expect(copy.parsed.subject).toBe(`Open letter ${number}`);
      }
      expect(copies.length).toBeLessThanOrEqual(row.attempts);
      duplicates += Math.max(0, copies.length - 1);
    }
    expect(mostOverdueMs, 'a claim left past its lease').toBeLessThan(1_000);

    const withDuplicates = [...byMessageId.values()].filter((copies) => copies.length > 1).length;
    console.log(
      `crash test: ${MESSAGES} messages to ${DOMAINS} domains, ${KILLS} kills ` +
        `(after ${kills.map((k) => `${k.afterMs} ms`).join(', ')}; sent so far: ${kills.map((k) => k.sentBefore).join(', ')}; ` +
        `claims left behind: ${kills.map((k) => k.leftClaimed).join(', ')}), ` +
        `${sink.messages.length} received, ${duplicates} duplicates (${withDuplicates} messages), ` +
        `${failed.length} failed (${[...new Set(failed)].join('; ')}), ` +
        `most overdue claim ${mostOverdueMs} ms, ${((Date.now() - startedAt) / 1000).toFixed(1)} s`,
    );
    // The kills must have hit a worker at work, or the test proves nothing: at least one left claims
    // behind, which the queue then took back and sent (every message ended sent or failed, above).
    expect(kills.filter((k) => k.sentBefore > 0 && k.sentBefore < MESSAGES).length).toBeGreaterThan(0);
    expect(kills.filter((k) => k.leftClaimed > 0).length, 'a kill that left claims behind').toBeGreaterThan(
      0,
    );
    expect(
      (await sql<{ n: number }>`select count(*) as n from outbox_messages where attempts > 1`.execute(t.db))
        .rows[0]!.n,
    ).toBeGreaterThan(0);
  }, 120_000);
});
