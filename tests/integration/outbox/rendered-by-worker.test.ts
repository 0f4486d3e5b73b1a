import { createHash } from 'node:crypto';
import type { Transporter } from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../server/lib/clock.js';
import { PRIORITY, type OutboxMessage } from '../../../server/outbox/outbox.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { loopbackTransport, outboxRow, testWorker } from '../../support/mail-worker.js';
import { SmtpSink } from '../../support/smtp-sink.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

describe('messages the worker renders just before sending, and bodies dropped once final', () => {
  let t: TestDatabase;
  let sink: SmtpSink;
  let transport: Transporter;
  let clock: ManualClock;
  let outbox: OutboxRepository;

  beforeEach(async () => {
    t = await createTestDatabase();
    sink = await new SmtpSink().start();
    transport = loopbackTransport(sink.port);
    clock = new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
    outbox = new OutboxRepository(t.db);
  });
  afterEach(async () => {
    transport.close();
    await sink.stop();
    await t.close();
  });

  const queueUnrendered = () =>
    outbox.enqueue(
      {
        kind: 'signature-confirmation',
        priority: PRIORITY.confirmation,
        signatureId: null,
        toAddress: 'sun-hee@example.org',
        renderLanguage: 'en',
      },
      testMessageId(),
      clock.now(),
    );
  const contents = () => t.db.selectFrom('outbox_contents').selectAll().execute();

  it('renders at each attempt what the renderer gives now, with the same Message-ID, and stores no body', async () => {
    const id = await queueUnrendered();
    expect(await contents()).toEqual([]);
    const seen: OutboxMessage[] = [];
    let version = 1;
    const render = async (message: OutboxMessage) => {
      seen.push(message);
      return {
        subject: `Please confirm (${version})`,
        textBody: `Hello, version ${version}`,
        htmlBody: `<p>Hello, version ${version}</p>`,
        headers: { 'Auto-Submitted': 'auto-generated' },
      };
    };
    sink.reply = (attempt) => (attempt === 0 ? { code: 451, message: '4.3.0 Try again later' } : undefined);
    await testWorker({ outbox, clock, transport }, { render }).runOnce();
    expect((await outboxRow(t.db, id)).status).toBe('retrying');
    version = 2;
    clock.advance(3_600_000);
    await testWorker({ outbox, clock, transport }, { render }).runOnce();

    const row = await outboxRow(t.db, id);
    expect(row.status).toBe('sent');
    expect(seen.map((m) => [m.kind, m.signatureId, m.renderLanguage])).toEqual([
      ['signature-confirmation', null, 'en'],
      ['signature-confirmation', null, 'en'],
    ]);
    expect(sink.attempts.map((a) => a.messageId)).toEqual([row.message_id, row.message_id]);
    const [received] = sink.messages;
    expect(received!.parsed.subject).toBe('Please confirm (2)');
    expect(received!.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    expect(row.sent_sha256).toBe(
      createHash('sha256').update(Buffer.from(received!.raw, 'utf8')).digest('hex'),
    );
    expect(await contents()).toEqual([]);
  });

  it('fails a message with nothing left to render (its signature is gone), and sends nothing', async () => {
    const id = await queueUnrendered();
    await testWorker({ outbox, clock, transport }, { render: async () => undefined }).runOnce();
    expect(await outboxRow(t.db, id)).toMatchObject({
      status: 'failed',
      last_reply: 'not sent: nothing to render (its signature is gone or no longer counts)',
    });
    expect(sink.attempts).toEqual([]);
  });

  it('leaves it to another worker, as a temporary failure, when this one has no renderer', async () => {
    const id = await queueUnrendered();
    await testWorker({ outbox, clock, transport }).runOnce();
    expect((await outboxRow(t.db, id)).status).toBe('retrying');
    expect(sink.attempts).toEqual([]);
  });

  it('deletes the body and attachments of a cancelled message, and of a sent one, keeping their rows', async () => {
    const withPdf = (subject: string) =>
      outboxMessage({
        kind: 'letter-delivery',
        priority: PRIORITY.letter,
        subject,
        attachments: [
          { fileName: 'letter.pdf', contentType: 'application/pdf', content: Buffer.from('%PDF-1.7') },
        ],
      });
    const cancelled = await outbox.enqueue(withPdf('To cancel'), testMessageId(), clock.now());
    expect(await outbox.cancel(cancelled, clock.now())).toBe(true);
    const sent = await outbox.enqueue(withPdf('To send'), testMessageId(), clock.now());
    await testWorker({ outbox, clock, transport }).runOnce();

    expect(await contents()).toEqual([]);
    expect(await t.db.selectFrom('outbox_attachments').selectAll().execute()).toEqual([]);
    expect(await outboxRow(t.db, cancelled)).toMatchObject({ status: 'cancelled', sent_sha256: null });
    expect((await outboxRow(t.db, cancelled)).content_removed_at).not.toBeNull();
    const row = await outboxRow(t.db, sent);
    expect(row.status).toBe('sent');
    expect(row.sent_size).toBe(Buffer.byteLength(sink.messages[0]!.raw, 'utf8'));
    // The PDF went with it.
    expect(sink.messages[0]!.parsed.attachments.map((a) => a.filename)).toEqual(['letter.pdf']);
  });
});
