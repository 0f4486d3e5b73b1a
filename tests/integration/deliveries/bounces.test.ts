import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { startBounceServer, type BounceServer } from '../../../server/deliveries/bounce-server.js';
import { createLogger } from '../../../server/lib/logger.js';
import { signedIn } from '../../support/accounts.js';
import { addRecipient, createDraft, postForm } from '../../support/admin-forms.js';
import { freePort } from '../../support/free-port.js';
import { startTags, textOf, innerHtml, textsByClass } from '../../support/html.js';
import { loopbackTransport } from '../../support/mail-worker.js';
import type { Visitor } from '../../support/http.js';
import { createTestPlatform, type CaptureTestPlatform } from '../../support/test-platform.js';

const RECIPIENTS = [
  { name: 'Embassy of Ukraine in Seoul', email: 'seoul-embassy@example.org', language: 'ko' },
  { name: 'Ministry of Foreign Affairs', email: 'mfa-office@example.org', language: 'en' },
  { name: 'UN Refugee Agency', email: 'unhcr-desk@example.org', language: 'en' },
];

/** A letter the capture server stored: who it went to and its return path (the envelope sender). */
interface Captured {
  to: string;
  returnPath: string;
  messageId: string;
  subject: string;
}

async function capturedLetters(mailboxDir: string): Promise<Captured[]> {
  const names = (await readdir(mailboxDir)).filter((n) => n.endsWith('.eml'));
  const letters: Captured[] = [];
  for (const name of names) {
    const parsed = await simpleParser(await readFile(path.join(mailboxDir, name)));
    const header = (key: string) => {
      const line = parsed.headerLines.find((h) => h.key === key)?.line ?? '';
      return line.slice(line.indexOf(':') + 1).trim();
    };
    if (!parsed.headers.has('x-undersigned-letter')) continue;
    letters.push({
      to: header('x-captured-rcpt-to'),
      returnPath: header('x-captured-mail-from'),
      messageId: parsed.messageId ?? '',
      subject: parsed.subject ?? '',
    });
  }
  return letters;
}

/** A delivery status notification as a receiving MTA writes it (RFC 3464), for one recipient. */
function dsn(options: {
  returnPath: string;
  recipient: string;
  messageId: string;
  action: 'failed' | 'delayed';
  status: string;
  diagnostic: string;
}): string {
  const boundary = 'DSN-BOUNDARY-4F2A81C0E5';
  return [
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.org>',
    `To: <${options.returnPath}>`,
    options.action === 'failed'
      ? 'Subject: Undelivered Mail Returned to Sender'
      : // The subject Gmail gives its delay warnings: only the report says it is not a failure.
        'Subject: Delivery Status Notification (Delay)',
    'Date: Mon, 23 Nov 2026 10:05:00 +0000',
    'Message-ID: <20261123100500.4F2A81C0E5@mx.example.org>',
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status;`,
    `\tboundary="${boundary}"`,
    '',
    'This is a MIME-encapsulated message.',
    '',
    `--${boundary}`,
    'Content-Description: Notification',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    'This is the mail system at host mx.example.org.',
    '',
    options.action === 'failed'
      ? "I'm sorry to have to inform you that your message could not be delivered."
      : 'Your message could not be delivered yet. The mail system will keep trying.',
    '',
    `--${boundary}`,
    'Content-Description: Delivery report',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; mx.example.org',
    'X-Postfix-Queue-ID: 4F2A81C0E5',
    `X-Postfix-Sender: rfc822; ${options.returnPath}`,
    'Arrival-Date: Mon, 23 Nov 2026 10:00:01 +0000 (UTC)',
    '',
    `Final-Recipient: rfc822; ${options.recipient}`,
    `Original-Recipient: rfc822;${options.recipient}`,
    `Action: ${options.action}`,
    `Status: ${options.status}`,
    'Remote-MTA: dns; mailstore.example.org',
    `Diagnostic-Code: ${options.diagnostic}`,
    '',
    `--${boundary}`,
    'Content-Description: Undelivered Message Headers',
    'Content-Type: text/rfc822-headers',
    '',
    'From: Undersigned <letters@undersigned.example.org>',
    `To: ${options.recipient}`,
    `Message-ID: ${options.messageId}`,
    '',
    `--${boundary}--`,
    '',
  ].join('\r\n');
}

/** Sends a raw message over SMTP, with the null sender bounces use, to `to` at 127.0.0.1:`port`. */
async function sendRaw(port: number, to: string, raw: string) {
  const transport = loopbackTransport(port);
  try {
    return await transport.sendMail({ envelope: { from: '', to: [to] }, raw });
  } finally {
    transport.close();
  }
}

/** Waits until `check` holds (the capture server reads a bounce after it has answered the sender). */
async function eventually(check: () => Promise<boolean>, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/** The state a bounce may change: each letter's sending, and each recipient's bounce mark. */
async function bounceState(t: CaptureTestPlatform) {
  return {
    messages: await t.platform.db
      .selectFrom('outbox_messages')
      .select(['id', 'to_address', 'status', 'last_reply', 'bounced_at'])
      .where('kind', '=', 'letter-delivery')
      .orderBy('id')
      .execute(),
    recipients: await t.platform.db
      .selectFrom('recipients')
      .select(['id', 'email', 'bouncing_at', 'bounce_reply'])
      .orderBy('id')
      .execute(),
  };
}

describe('bounces of delivered letters', () => {
  let t: CaptureTestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let letterId: number;
  let letters: Captured[];

  /** Publishes a letter to the three recipients, tests it, delivers it and lets the worker send it all. */
  async function deliveredLetter(platform: CaptureTestPlatform): Promise<void> {
    ({ user: organizer, visitor } = await signedIn(platform.app, platform.platform, 'organizer'));
    const ids: number[] = [];
    for (const r of RECIPIENTS) ids.push(await addRecipient(platform.platform.db, platform.clock.now(), r));
    letterId = await createDraft(visitor, ids);
    const delivery = `/admin/letters/${letterId}/delivery`;
    for (const [action, requestKey] of [
      ['publish', ''],
      ['delivery/test', 'test-key-0001'],
      ['delivery/deliver', 'deliver-key-0001'],
    ] as const) {
      const response = await postForm(visitor, delivery, `/admin/letters/${letterId}/${action}`, [
        ['request_key', requestKey],
      ]);
      expect(response.status, action).toBe(303);
      await platform.compileDeliveries();
      await platform.drainOutbox();
    }
    const captured = await capturedLetters(platform.config.mailboxDir);
    letters = captured.filter((l) => RECIPIENTS.some((r) => r.email === l.to));
    expect(letters).toHaveLength(3);
    expect(captured.filter((l) => l.to === organizer.email)).toHaveLength(2);
  }

  const letterTo = (email: string) => letters.find((l) => l.to === email)!;

  /** Sends a DSN for the letter to `email`, to the capture server at the letter's return path (or another). */
  async function bounce(email: string, action: 'failed' | 'delayed', to?: string) {
    const letter = letterTo(email);
    const [status, diagnostic] =
      action === 'failed'
        ? ['5.1.1', 'smtp; 550 5.1.1 user unknown']
        : ['4.4.1', 'smtp; 451 4.4.1 mailstore.example.org: Connection timed out'];
    return sendRaw(
      t.platform.capturePort!,
      to ?? letter.returnPath,
      dsn({
        returnPath: to ?? letter.returnPath,
        recipient: email,
        messageId: letter.messageId,
        action,
        status,
        diagnostic,
      }),
    );
  }

  const messageStatus = async (email: string) =>
    await t.platform.db
      .selectFrom('outbox_messages')
      .select(['status', 'last_reply', 'bounced_at'])
      .where('kind', '=', 'letter-delivery')
      .where('to_address', '=', email)
      .executeTakeFirstOrThrow();

  describe('arriving at the embedded capture server', () => {
    beforeEach(async () => {
      t = await createTestPlatform({ mail: 'capture' });
      await deliveredLetter(t);
    });
    afterEach(async () => {
      await t.close();
    });

    it('sends each letter from its own return path, which names the message', async () => {
      expect(new Set(letters.map((l) => l.returnPath)).size).toBe(3);
      for (const letter of letters) {
        expect(letter.returnPath).toMatch(/^bounces\+m\d+-[A-Za-z0-9_-]+@undersigned\.example\.org$/);
        expect(t.platform.bounces.accepts(letter.returnPath)).toBe(true);
      }
      expect((await messageStatus(RECIPIENTS[0]!.email)).status).toBe('sent');
    });

    it('marks the delivery failed and the recipient bouncing when a DSN reports a permanent failure', async () => {
      const [failing, ...others] = RECIPIENTS;
      await bounce(failing!.email, 'failed');
      await eventually(
        async () => (await messageStatus(failing!.email)).status === 'failed',
        'the bounce is read',
      );

      const failed = await messageStatus(failing!.email);
      expect(failed.bounced_at).toEqual(expect.any(String));
      expect(failed.last_reply).toContain('5.1.1');
      expect(failed.last_reply).toContain('550 5.1.1 user unknown');
      for (const other of others) expect((await messageStatus(other.email)).status, other.email).toBe('sent');

      // The organizer's record shows the delivery as bounced, with what the server said.
      const page = await visitor.get(`/admin/letters/${letterId}/delivery`);
      const row = startTags(page.text, 'tr').find((tr) => innerHtml(page.text, tr).includes(failing!.email));
      expect(row).toBeDefined();
      const rowText = textOf(innerHtml(page.text, row!));
      expect(rowText).toContain('Bounced');
      expect(rowText).toContain('550 5.1.1 user unknown');
      // The relay's diagnostic type ("smtp;") is not part of what the server said.
      expect(rowText).not.toContain('smtp;');
      const otherRow = startTags(page.text, 'tr').find((tr) =>
        innerHtml(page.text, tr).includes(others[0]!.email),
      );
      expect(textOf(innerHtml(page.text, otherRow!))).toContain('Sent');

      // The directory shows the address as bouncing, and only that one.
      const directory = await visitor.get('/admin/recipients');
      expect(directory.status).toBe(200);
      const rows = startTags(directory.text, 'tr').map((tr) => textOf(innerHtml(directory.text, tr)));
      const failingRow = rows.find((r) => r.includes(failing!.email));
      expect(failingRow).toMatch(/\bbouncing\b/);
      expect(failingRow).toContain('550 5.1.1 user unknown');
      for (const other of others)
        expect(rows.find((r) => r.includes(other.email))).not.toMatch(/\bbouncing\b/);

      // The public delivery record no longer lists it as sent (the page still names it as addressed).
      const slug = (await t.platform.repositories.letters.findById(letterId))!.slug;
      const [record] = textsByClass((await visitor.get(`/letters/${slug}`)).text, 'sent-record');
      expect(record).toContain(`Sent to ${others.length} recipients.`);
      expect(record).not.toContain(failing!.name);
      for (const other of others) expect(record).toContain(other.name);
    });

    it('changes nothing for a DSN that reports a delay', async () => {
      const before = await bounceState(t);
      await bounce(RECIPIENTS[1]!.email, 'delayed');
      // A failure sent after it is read after it: once that one shows, the delay has been read too.
      await bounce(RECIPIENTS[2]!.email, 'failed');
      await eventually(
        async () => (await messageStatus(RECIPIENTS[2]!.email)).status === 'failed',
        'the barrier',
      );
      const after = await bounceState(t);
      const untouched = (state: typeof before) => ({
        messages: state.messages.filter((m) => m.to_address !== RECIPIENTS[2]!.email),
        recipients: state.recipients.filter((r) => r.email !== RECIPIENTS[2]!.email),
      });
      expect(untouched(after)).toEqual(untouched(before));
      expect((await messageStatus(RECIPIENTS[1]!.email)).status).toBe('sent');
    });

    it('changes nothing for a DSN sent to a forged return path', async () => {
      const before = await bounceState(t);
      const target = letterTo(RECIPIENTS[0]!.email);
      const id = /\+m(\d+)-/.exec(target.returnPath)![1];
      const forgedTag = `bounces+m${id}-AAAAAAAAAAAA@undersigned.example.org`;
      // Another message's tag on this message id: a guess from someone who saw one return path.
      const otherTag = /-([A-Za-z0-9_-]+)@/.exec(letterTo(RECIPIENTS[1]!.email).returnPath)![1];
      const borrowedTag = `bounces+m${id}-${otherTag}@undersigned.example.org`;
      for (const to of [forgedTag, borrowedTag, `bounces@undersigned.example.org`]) {
        await bounce(RECIPIENTS[0]!.email, 'failed', to);
      }
      await bounce(RECIPIENTS[2]!.email, 'failed');
      await eventually(
        async () => (await messageStatus(RECIPIENTS[2]!.email)).status === 'failed',
        'the barrier',
      );
      const after = await bounceState(t);
      expect(after.messages.find((m) => m.to_address === RECIPIENTS[0]!.email)).toEqual(
        before.messages.find((m) => m.to_address === RECIPIENTS[0]!.email),
      );
      expect(after.recipients.find((r) => r.email === RECIPIENTS[0]!.email)?.bouncing_at).toBeNull();
    });
  });

  describe('the BOUNCE_SMTP_PORT listener', () => {
    let port: number;

    beforeEach(async () => {
      port = await freePort();
      t = await createTestPlatform({
        mail: 'capture',
        env: { BOUNCE_SMTP_PORT: String(port), HOST: '127.0.0.1' },
      });
      await deliveredLetter(t);
    });
    afterEach(async () => {
      await t.close();
    });

    it('refuses any recipient that is not one of our return paths with 550', async () => {
      const letter = letterTo(RECIPIENTS[0]!.email);
      const id = /\+m(\d+)-/.exec(letter.returnPath)![1];
      for (const to of [
        'postmaster@undersigned.example.org',
        'bounces@undersigned.example.org',
        `bounces+m${id}-AAAAAAAAAAAA@undersigned.example.org`,
        letter.returnPath.replace('undersigned.example.org', 'elsewhere.example.org'),
        RECIPIENTS[0]!.email,
      ]) {
        const refused = await sendRaw(
          port,
          to,
          dsn({
            returnPath: to,
            recipient: RECIPIENTS[0]!.email,
            messageId: letter.messageId,
            action: 'failed',
            status: '5.1.1',
            diagnostic: 'smtp; 550 5.1.1 user unknown',
          }),
        ).then(
          () => undefined,
          (error: { responseCode?: number }) => error.responseCode,
        );
        expect(refused, to).toBe(550);
      }
      expect((await messageStatus(RECIPIENTS[0]!.email)).status).toBe('sent');
    });

    it('accepts a DSN at a valid return path and records the bounce before answering', async () => {
      const info = await sendRaw(
        port,
        letterTo(RECIPIENTS[0]!.email).returnPath,
        dsn({
          returnPath: letterTo(RECIPIENTS[0]!.email).returnPath,
          recipient: RECIPIENTS[0]!.email,
          messageId: letterTo(RECIPIENTS[0]!.email).messageId,
          action: 'failed',
          status: '5.1.1',
          diagnostic: 'smtp; 550 5.1.1 user unknown',
        }),
      );
      expect(info.accepted).toEqual([letterTo(RECIPIENTS[0]!.email).returnPath]);
      const failed = await messageStatus(RECIPIENTS[0]!.email);
      expect(failed.status).toBe('failed');
      expect(failed.last_reply).toContain('550 5.1.1 user unknown');
      const recipient = (await bounceState(t)).recipients.find((r) => r.email === RECIPIENTS[0]!.email);
      expect(recipient, 'the recipient in the directory').toBeDefined();
      expect(recipient!.bouncing_at).toEqual(expect.any(String));
    });

    it('can be started on its own for a bounce handler', async () => {
      const server: BounceServer = await startBounceServer(
        t.platform.bounces,
        '127.0.0.1',
        0,
        createLogger('silent'),
      );
      try {
        const refused = await sendRaw(
          server.port,
          'someone@example.org',
          'Subject: hi\r\n\r\nhello\r\n',
        ).then(
          () => undefined,
          (error: { responseCode?: number }) => error.responseCode,
        );
        expect(refused).toBe(550);
        const letter = letterTo(RECIPIENTS[1]!.email);
        const delayed = await sendRaw(
          server.port,
          letter.returnPath,
          dsn({
            returnPath: letter.returnPath,
            recipient: RECIPIENTS[1]!.email,
            messageId: letter.messageId,
            action: 'delayed',
            status: '4.4.1',
            diagnostic: 'smtp; 451 4.4.1 try later',
          }),
        );
        expect(delayed.accepted).toEqual([letter.returnPath]);
        expect((await messageStatus(RECIPIENTS[1]!.email)).status).toBe('sent');
      } finally {
        await server.close();
      }
    });
  });
});
