import type { Socket } from 'node:net';
import { simpleParser } from 'mailparser';
import type { Transporter } from 'nodemailer';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock, systemClock, type Clock } from '../../../server/lib/clock.js';
import { createMailSender } from '../../../server/mail/mail-sender.js';
import { DEFAULT_RETRY_POLICY, PRIORITY, type OutboxKind } from '../../../server/outbox/outbox.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import type { MailSender, OutboxWorker, OutboxWorkerOptions } from '../../../server/outbox/outbox-worker.js';
import { LEASE_MS, loopbackTransport, MAIL_FROM, outboxRow, testWorker } from '../../support/mail-worker.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

/** Short timeouts, so a silent server fails an attempt in half a second. */
const TIMEOUTS = { connectionTimeout: 1_000, greetingTimeout: 500, socketTimeout: 500 };
/** Politeness that never gets in the way, except in the tests about politeness. */
const NO_PACING = { connectionsPerDomain: 10, messagesPerSecond: 1_000 };

type Refusal = { code: number; message: string };
/** How the server answers a connection: greet it, refuse it with a reply, or never say anything. */
type ConnectAnswer = 'greet' | 'hang' | Refusal;
/** How the server answers the end of a message: accept, refuse, hang up without a word, or never answer. */
type DataAnswer = 'accept' | 'drop' | 'hang' | Refusal;

/** A message as the server received it, whatever it then answered. */
interface Received {
  messageId: string;
  subject: string;
  envelopeFrom: string;
  envelopeTo: string[];
  raw: string;
  answer: DataAnswer;
  at: number;
}

/**
 * A real SMTP server on loopback whose every answer the test scripts, and which counts the sessions
 * open at once, as a receiving domain would see them.
 */
class ScriptedSmtpServer {
  /** Answer to the n-th connection (0-based). */
  connectAnswer: (connection: number) => ConnectAnswer = () => 'greet';
  /** Answer to the n-th message received (0-based, refused ones included). */
  dataAnswer: (attempt: number) => DataAnswer = () => 'accept';
  /** How long the server thinks before it accepts a message. */
  replyDelayMs = 0;
  readonly received: Received[] = [];
  readonly connectedAt: number[] = [];
  open = 0;
  mostOpen = 0;
  port = 0;
  private readonly sockets = new Map<number, Socket>();
  private readonly server: SMTPServer;

  constructor() {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      closeTimeout: 100,
      onConnect: (_session, callback) => {
        const answer = this.connectAnswer(this.connectedAt.length);
        this.connectedAt.push(Date.now());
        this.open += 1;
        this.mostOpen = Math.max(this.mostOpen, this.open);
        if (answer === 'hang') return;
        if (answer === 'greet') return callback();
        callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
      },
      onClose: () => {
        this.open -= 1;
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => this.answerData(Buffer.concat(chunks).toString('utf8'), session, callback));
      },
    });
    // Clients that time out reset their connections: no failure of the server.
    this.server.on('error', () => undefined);
    this.server.server.on('connection', (socket: Socket) => {
      const port = socket.remotePort ?? 0;
      this.sockets.set(port, socket);
      socket.once('close', () => this.sockets.delete(port));
    });
  }

  private answerData(raw: string, session: SMTPServerSession, callback: (error?: Error) => void): void {
    const answer = this.dataAnswer(this.received.length);
    const header = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'im').exec(raw)?.[1]?.trim() ?? '';
    this.received.push({
      messageId: header('Message-ID'),
      subject: header('Subject'),
      envelopeFrom: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
      envelopeTo: session.envelope.rcptTo.map((r) => r.address),
      raw,
      answer,
      at: Date.now(),
    });
    if (answer === 'hang') return;
    if (answer === 'drop') {
      // The message arrived whole; the connection dies before the server says whether it took it.
      this.sockets.get(session.remotePort)?.destroy();
      return;
    }
    const reply = () =>
      answer === 'accept'
        ? callback()
        : callback(Object.assign(new Error(answer.message), { responseCode: answer.code }));
    if (this.replyDelayMs > 0) setTimeout(reply, this.replyDelayMs);
    else reply();
  }

  /** The messages the server accepted with a 250. */
  get accepted(): Received[] {
    return this.received.filter((r) => r.answer === 'accept');
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', () => resolve()));
    const address = this.server.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets.values()) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Resolves once `predicate` holds, or fails after `timeoutMs`. */
async function until(predicate: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('the mail worker against a scripted SMTP server', () => {
  let t: TestDatabase;
  let server: ScriptedSmtpServer;
  let clock: ManualClock;
  let outbox: OutboxRepository;
  const servers: ScriptedSmtpServer[] = [];
  const transports: Transporter[] = [];
  const workers: OutboxWorker[] = [];

  function transportTo(port: number): Transporter {
    const transport = loopbackTransport(port, TIMEOUTS);
    transports.push(transport);
    return transport;
  }

  async function startServer(): Promise<ScriptedSmtpServer> {
    const started = await new ScriptedSmtpServer().start();
    servers.push(started);
    return started;
  }

  function worker(options: Partial<OutboxWorkerOptions> = {}): OutboxWorker {
    const created = testWorker(
      { outbox, clock, transport: transportTo(server.port) },
      { politeness: NO_PACING, ...options },
    );
    workers.push(created);
    return created;
  }

  async function enqueue(
    overrides: Parameters<typeof outboxMessage>[0] = {},
    at: Clock = clock,
  ): Promise<number> {
    return outbox.enqueue(outboxMessage(overrides), testMessageId(), at.now());
  }

  const row = (id: number) => outboxRow(t.db, id);

  /** Moves the clock to the message's next attempt and lets the worker run once. */
  async function retryWhenDue(w: OutboxWorker, id: number): Promise<number> {
    clock.set(new Date((await row(id)).next_attempt_at));
    return w.runOnce();
  }

  beforeEach(async () => {
    t = await createTestDatabase();
    server = await startServer();
    clock = new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
    outbox = new OutboxRepository(t.db);
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const transport of transports.splice(0)) transport.close();
    for (const s of servers.splice(0)) await s.stop();
    await t.close();
  });

  it('sends an accepted message from the platform address, with a per-message return path, the Reply-To and the attachment', async () => {
    const pdf = Buffer.from('%PDF-1.7 the letter and its annex');
    const id = await enqueue({
      kind: 'letter-delivery',
      priority: PRIORITY.letter,
      toAddress: 'registry@ministry.example',
      subject: 'Do not repatriate captured soldiers',
      replyTo: 'campaigns@ngo.example',
      attachments: [{ fileName: 'letter.pdf', contentType: 'application/pdf', content: pdf }],
    });
    const w = worker({
      sender: createMailSender(
        transportTo(server.port),
        MAIL_FROM,
        (messageId) => `bounces+${messageId}@undersigned.example.org`,
      ),
    });
    expect(await w.runOnce()).toBe(1);

    const stored = await row(id);
    expect(stored).toMatchObject({ status: 'sent', attempts: 1, claimed_by: null, lease_expires_at: null });
    expect(stored.last_reply).toMatch(/^250\b/);
    expect(server.received).toHaveLength(1);
    const [received] = server.received;
    expect(received!.envelopeFrom).toBe(`bounces+${id}@undersigned.example.org`);
    expect(received!.envelopeTo).toEqual(['registry@ministry.example']);
    expect(received!.messageId).toBe(stored.message_id);
    const parsed = await simpleParser(received!.raw);
    expect(parsed.from?.value[0]?.address).toBe('letters@undersigned.example.org');
    expect(parsed.replyTo?.value[0]?.address).toBe('campaigns@ngo.example');
    expect(parsed.attachments.map((a) => [a.filename, a.contentType])).toEqual([
      ['letter.pdf', 'application/pdf'],
    ]);
    expect(parsed.attachments[0]!.content.equals(pdf)).toBe(true);
  });

  it('retries a message refused with 421 at the greeting, and sends it once the server has recovered', async () => {
    let down = true;
    server.connectAnswer = () =>
      down ? { code: 421, message: 'mx.ministry.example Service not available, closing channel' } : 'greet';
    const id = await enqueue();
    const w = worker();

    expect(await w.runOnce()).toBe(1);
    const retrying = await row(id);
    expect(retrying).toMatchObject({ status: 'retrying', attempts: 1, sent_at: null, claimed_by: null });
    expect(retrying.last_reply).toMatch(/^421\b.*Service not available/);
    expect(new Date(retrying.next_attempt_at).getTime()).toBeGreaterThan(clock.now().getTime());
    expect(server.received).toHaveLength(0);

    // Still down at the next attempt: still retrying, a little later each time.
    expect(await retryWhenDue(w, id)).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'retrying', attempts: 2 });

    down = false;
    expect(await retryWhenDue(w, id)).toBe(1);
    const sent = await row(id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 3 });
    expect(sent.last_reply).toMatch(/^250\b/);
    expect(server.accepted.map((r) => r.messageId)).toEqual([sent.message_id]);
    expect(server.connectedAt).toHaveLength(3);
  });

  it('keeps retrying while the server answers 451, then sends on the next try with the same Message-ID, by itself', async () => {
    server.dataAnswer = (attempt) =>
      attempt === 0 ? { code: 451, message: '4.7.1 Greylisted, please come back later' } : 'accept';
    // Real time and a short backoff: the running worker must come back to the message on its own.
    const id = await enqueue({}, systemClock);
    const w = worker({
      clock: systemClock,
      pollMs: 50,
      policy: { ...DEFAULT_RETRY_POLICY, baseDelayMs: 200 },
    });
    w.start();
    await until(() => server.accepted.length === 1, 'the second attempt');
    await w.stop();

    const stored = await row(id);
    expect(stored).toMatchObject({ status: 'sent', attempts: 2 });
    expect(server.received.map((r) => r.answer)).toEqual([
      { code: 451, message: '4.7.1 Greylisted, please come back later' },
      'accept',
    ]);
    expect(server.received.map((r) => r.messageId)).toEqual([stored.message_id, stored.message_id]);
    expect(server.received[1]!.at - server.received[0]!.at).toBeGreaterThanOrEqual(150);
  });

  it('fails a message refused with 550, keeping the reply, and never sends it again by itself', async () => {
    server.dataAnswer = () => ({ code: 550, message: '5.1.1 Mailbox unavailable' });
    const id = await enqueue({ toAddress: 'nobody@ministry.example' });
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    const failed = await row(id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 1, sent_at: null, claimed_by: null });
    expect(failed.last_reply).toMatch(/^550\b.*Mailbox unavailable/);

    server.dataAnswer = () => 'accept';
    for (const days of [1, 5, 30]) {
      clock.advance(days * 86_400_000);
      expect(await w.runOnce()).toBe(0);
    }
    expect(server.received).toHaveLength(1);
    expect(server.connectedAt).toHaveLength(1);
    expect(await row(id)).toMatchObject({ status: 'failed', attempts: 1, last_reply: failed.last_reply });
  });

  it('fails a message whose recipient the server refuses with 550 at RCPT TO', async () => {
    const strict = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onRcptTo: (address, _session, callback) =>
        callback(
          Object.assign(new Error(`5.1.1 <${address.address}>: Recipient address rejected`), {
            responseCode: 550,
          }),
        ),
    });
    await new Promise<void>((resolve) => strict.listen(0, '127.0.0.1', () => resolve()));
    try {
      const address = strict.server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      const id = await enqueue({ toAddress: 'gone@embassy.example' });
      const w = worker({ sender: createMailSender(transportTo(port), MAIL_FROM) });
      expect(await w.runOnce()).toBe(1);
      const failed = await row(id);
      expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
      expect(failed.last_reply).toMatch(/^550\b.*Recipient address rejected/);
      clock.advance(10 * 86_400_000);
      expect(await w.runOnce()).toBe(0);
    } finally {
      await new Promise<void>((resolve) => strict.close(() => resolve()));
    }
  });

  it('retries a message whose connection dropped after the data, before any reply, and resends it with the same Message-ID', async () => {
    server.dataAnswer = (attempt) => (attempt === 0 ? 'drop' : 'accept');
    const id = await enqueue();
    const w = worker();

    expect(await w.runOnce()).toBe(1);
    const retrying = await row(id);
    expect(retrying).toMatchObject({
      status: 'retrying',
      attempts: 1,
      claimed_by: null,
      lease_expires_at: null,
    });
    expect(retrying.last_reply).toMatch(/ECONNECTION|closed/i);
    // The server may well have kept the message: sending again is the at-least-once promise.
    expect(server.received).toHaveLength(1);

    expect(await retryWhenDue(w, id)).toBe(1);
    const sent = await row(id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    expect(server.received.map((r) => r.answer)).toEqual(['drop', 'accept']);
    expect(server.received.map((r) => r.messageId)).toEqual([sent.message_id, sent.message_id]);
    // The same e-mail both times (only MIME boundaries and the Date may differ).
    const [first, second] = await Promise.all(server.received.map((r) => simpleParser(r.raw)));
    expect([second!.subject, second!.text, second!.html]).toEqual([first!.subject, first!.text, first!.html]);
  });

  it('times out an attempt the server never answers after the data, leaving the message to retry, not stuck in sending', async () => {
    server.dataAnswer = (attempt) => (attempt === 0 ? 'hang' : 'accept');
    // Every timeout is shorter than the test's lease (runOnce renews nothing), so the claim holds until the attempt fails.
    expect(Math.max(...Object.values(TIMEOUTS))).toBeLessThan(LEASE_MS);
    const id = await enqueue();
    const w = worker();

    const startedAt = Date.now();
    expect(await w.runOnce()).toBe(1);
    const tookMs = Date.now() - startedAt;
    expect(tookMs).toBeGreaterThanOrEqual(TIMEOUTS.socketTimeout - 50);
    expect(tookMs).toBeLessThan(LEASE_MS);

    const retrying = await row(id);
    expect(retrying).toMatchObject({
      status: 'retrying',
      attempts: 1,
      claimed_by: null,
      lease_expires_at: null,
    });
    expect(retrying.last_reply).toMatch(/ETIMEDOUT|timeout/i);

    expect(await retryWhenDue(w, id)).toBe(1);
    const sent = await row(id);
    expect(sent).toMatchObject({ status: 'sent', attempts: 2 });
    expect(server.received.map((r) => r.messageId)).toEqual([sent.message_id, sent.message_id]);
  });

  it('times out an attempt the server never greets, leaving the message to retry', async () => {
    server.connectAnswer = (connection) => (connection === 0 ? 'hang' : 'greet');
    const id = await enqueue();
    const w = worker();
    expect(await w.runOnce()).toBe(1);
    const retrying = await row(id);
    expect(retrying).toMatchObject({ status: 'retrying', attempts: 1, claimed_by: null });
    expect(retrying.last_reply).toMatch(/ETIMEDOUT|Greeting never received/i);

    expect(await retryWhenDue(w, id)).toBe(1);
    expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
  });

  describe('"try again in N seconds"', () => {
    it('waits at least as long as a 451 after the data asks', async () => {
      server.dataAnswer = (attempt) =>
        attempt === 0 ? { code: 451, message: '4.7.1 Greylisted, try again in 600 seconds' } : 'accept';
      const id = await enqueue();
      const w = worker();
      const failedAt = clock.now().getTime();
      expect(await w.runOnce()).toBe(1);
      const retrying = await row(id);
      expect(retrying.status).toBe('retrying');
      expect(new Date(retrying.next_attempt_at).getTime() - failedAt).toBeGreaterThanOrEqual(600_000);

      clock.advance(DEFAULT_RETRY_POLICY.baseDelayMs * 2);
      expect(await w.runOnce()).toBe(0);
      clock.set(new Date(failedAt + 600_000 - 1));
      expect(await w.runOnce()).toBe(0);
      clock.set(new Date(failedAt + 600_000));
      expect(await w.runOnce()).toBe(1);
      expect(await row(id)).toMatchObject({ status: 'sent', attempts: 2 });
      expect(server.received).toHaveLength(2);
    });

    it('waits at least as long as a 421 at the greeting asks', async () => {
      server.connectAnswer = (connection) =>
        connection === 0 ? { code: 421, message: 'Too many connections, try again in 5 minutes' } : 'greet';
      const id = await enqueue();
      const w = worker();
      const failedAt = clock.now().getTime();
      expect(await w.runOnce()).toBe(1);
      expect(new Date((await row(id)).next_attempt_at).getTime() - failedAt).toBeGreaterThanOrEqual(300_000);
      clock.set(new Date(failedAt + 299_999));
      expect(await w.runOnce()).toBe(0);
      clock.set(new Date(failedAt + 300_000));
      expect(await w.runOnce()).toBe(1);
      expect((await row(id)).status).toBe('sent');
    });
  });

  it('gives up after five days of temporary failures by default, as failed with the last reply', async () => {
    let refusals = 0;
    server.connectAnswer = () => ({ code: 421, message: `4.3.2 Still down (${++refusals})` });
    const id = await enqueue();
    const queuedAt = clock.now().getTime();
    const w = worker({ policy: DEFAULT_RETRY_POLICY });
    expect(DEFAULT_RETRY_POLICY.giveUpAfterMs).toBe(5 * 86_400_000);

    expect(await w.runOnce()).toBe(1);
    let lastTryBeforeGivingUp = queuedAt;
    for (let round = 0; round < 100 && (await row(id)).status === 'retrying'; round++) {
      lastTryBeforeGivingUp = clock.now().getTime();
      expect(await retryWhenDue(w, id)).toBe(1);
    }
    const failed = await row(id);
    expect(failed.status).toBe('failed');
    expect(failed.last_reply).toMatch(new RegExp(`^421\\b.*Still down \\(${refusals}\\)`));
    expect(clock.now().getTime() - queuedAt).toBeGreaterThanOrEqual(DEFAULT_RETRY_POLICY.giveUpAfterMs);
    expect(lastTryBeforeGivingUp - queuedAt).toBeLessThan(DEFAULT_RETRY_POLICY.giveUpAfterMs);
    // The backoff grows to its cap: some 30 attempts over five days, not thousands.
    expect(failed.attempts).toBeGreaterThan(10);
    expect(failed.attempts).toBeLessThan(40);

    clock.advance(30 * 86_400_000);
    expect(await w.runOnce()).toBe(0);
    expect(server.connectedAt).toHaveLength(failed.attempts);
  });

  it('gives up sooner when the policy says so', async () => {
    server.dataAnswer = () => ({ code: 452, message: '4.2.2 Mailbox full' });
    const id = await enqueue();
    const w = worker({ policy: { ...DEFAULT_RETRY_POLICY, giveUpAfterMs: 3_600_000 } });
    expect(await w.runOnce()).toBe(1);
    while ((await row(id)).status === 'retrying') await retryWhenDue(w, id);
    const failed = await row(id);
    expect(failed.status).toBe('failed');
    expect(failed.last_reply).toMatch(/^452\b.*Mailbox full/);
    expect(new Date(failed.updated_at).getTime() - new Date(failed.created_at).getTime()).toBeLessThan(
      3_600_000 + DEFAULT_RETRY_POLICY.maxDelayMs,
    );
  });

  it('sends a confirmation first, then a letter, then a notification, whatever order they were queued in', async () => {
    const queued: [OutboxKind, number, string][] = [
      ['letter-sent', PRIORITY.notification, 'Your letter was sent'],
      ['letter-delivery', PRIORITY.letter, 'The compiled letter'],
      ['signature-confirmation', PRIORITY.confirmation, 'Please confirm your signature'],
    ];
    for (const [kind, priority, subject] of queued) {
      await enqueue({ kind, priority, subject });
      clock.advance(1_000);
    }
    const w = worker({ batchSize: 1 });
    while ((await w.runOnce()) > 0);
    expect(server.accepted.map((r) => r.subject)).toEqual([
      'Please confirm your signature',
      'The compiled letter',
      'Your letter was sent',
    ]);
  });

  it('keeps at most 2 connections open to a domain and spaces their starts, without holding up other domains', async () => {
    const busy = server;
    busy.replyDelayMs = 300;
    const elsewhere = await startServer();
    const toBusy = createMailSender(transportTo(busy.port), MAIL_FROM);
    const toElsewhere = createMailSender(transportTo(elsewhere.port), MAIL_FROM);
    // Each domain has its own mail server, as on the Internet. The worker starts a send when its gate
    // lets it: that moment is what the pace spaces (the connection follows after composing the message,
    // whose time varies with the machine's load, the first one's most).
    const busyStarts: number[] = [];
    const sender: MailSender = {
      send: (message, attachments) => {
        if (message.domain === 'busy.example') busyStarts.push(Date.now());
        return (message.domain === 'busy.example' ? toBusy : toElsewhere).send(message, attachments);
      },
    };
    for (let i = 0; i < 10; i++) await enqueue({ toAddress: `office-${i}@busy.example` }, systemClock);
    for (let i = 0; i < 6; i++) await enqueue({ toAddress: `office@other-${i}.example` }, systemClock);

    const w = worker({
      sender,
      clock: systemClock,
      pollMs: 100,
      batchSize: 20,
      politeness: { connectionsPerDomain: 2, messagesPerSecond: 5 },
    });
    w.start();
    await until(() => busy.accepted.length === 10 && elsewhere.accepted.length === 6, 'all 16 messages');
    await w.stop();

    expect(await outbox.countsByStatus()).toEqual({ byStatus: { sent: 16 } });
    expect(busy.mostOpen).toBe(2);
    expect(busy.connectedAt).toHaveLength(10);
    expect(busyStarts).toHaveLength(10);
    const gaps = busyStarts.slice(1).map((at, i) => at - busyStarts[i]!);
    // 5 a second: starts 200 ms apart, less a little for a timer that fired late on a busy event loop.
    expect(Math.min(...gaps), `gaps ${gaps.join(', ')}`).toBeGreaterThanOrEqual(170);
    expect(busyStarts.at(-1)! - busyStarts[0]!).toBeGreaterThanOrEqual(9 * 170);
    // The other domains' mail went out while the busy domain was still being paced: before its fifth
    // send had even started.
    const otherDoneAt = Math.max(...elsewhere.accepted.map((r) => r.at));
    expect(otherDoneAt).toBeLessThan(busyStarts[4]!);
  });

  it('sends mail queued while it was claiming at once, not after the poll interval', async () => {
    // On Postgres a claim is a round trip; here the worker's second claim is held open while the web
    // process queues a confirmation and wakes the worker, as it does after each signature.
    await enqueue({ subject: 'A' }, systemClock);
    await enqueue({ subject: 'B' }, systemClock);
    const real = createMailSender(transportTo(server.port), MAIL_FROM);
    let releaseB!: () => void;
    const bHeld = new Promise<void>((resolve) => (releaseB = resolve));
    const sender: MailSender = {
      async send(message, attachments) {
        if (message.subject === 'B') await bHeld;
        return real.send(message, attachments);
      },
    };
    let claiming!: () => void;
    const secondClaimStarted = new Promise<void>((resolve) => (claiming = resolve));
    let finishClaim!: () => void;
    const secondClaimMayEnd = new Promise<void>((resolve) => (finishClaim = resolve));
    const heldOutbox = Object.create(outbox) as OutboxRepository;
    let claims = 0;
    heldOutbox.claimDue = async (...args) => {
      const claimed = await outbox.claimDue(...args);
      if (++claims === 2) {
        claiming();
        await secondClaimMayEnd;
      }
      return claimed;
    };
    const w = worker({ outbox: heldOutbox, sender, clock: systemClock, batchSize: 2, pollMs: 60_000 });
    w.start();
    try {
      // A was sent and made room; the worker is claiming again while B is still in flight.
      await secondClaimStarted;
      await enqueue({ subject: 'C' }, systemClock);
      w.wake();
      finishClaim();

      await until(() => server.accepted.length === 2, 'C to be sent while B is still in flight', 3_000);
      expect(server.accepted.map((r) => r.subject)).toEqual(['A', 'C']);
    } finally {
      finishClaim();
      releaseB();
    }
    await until(() => server.accepted.length === 3, 'B');
  });

  it('sends each message once when two running workers claim from their own connections to the same file', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 40; i++)
      ids.push(await enqueue({ toAddress: `office@ministry-${i % 8}.example` }, systemClock));
    const finishedBy: Record<string, number[]> = { 'worker-a': [], 'worker-b': [] };
    const [a, b] = ['worker-a', 'worker-b'].map((workerId) =>
      worker({
        workerId,
        outbox: new OutboxRepository(t.connect().db),
        clock: systemClock,
        pollMs: 50,
        batchSize: 5,
        onFinished: (id) => finishedBy[workerId]!.push(id),
      }),
    );
    a!.start();
    b!.start();
    await until(() => server.accepted.length >= 40, '40 messages');
    // Give a wrongly double-claimed message the time to arrive a second time.
    await new Promise((resolve) => setTimeout(resolve, 300));
    await Promise.all([a!.stop(), b!.stop()]);

    const stored = await t.db.selectFrom('outbox_messages').selectAll().orderBy('id').execute();
    expect(stored.map((r) => [r.status, r.attempts])).toEqual(ids.map(() => ['sent', 1]));
    expect(server.received.map((r) => r.messageId).sort()).toEqual(stored.map((r) => r.message_id).sort());
    expect([...finishedBy['worker-a']!, ...finishedBy['worker-b']!].sort((x, y) => x - y)).toEqual(ids);
    expect(finishedBy['worker-a']!.length).toBeGreaterThan(0);
    expect(finishedBy['worker-b']!.length).toBeGreaterThan(0);
  });
});
