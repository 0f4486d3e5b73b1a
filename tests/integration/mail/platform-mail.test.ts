import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type SQLite from 'better-sqlite3';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { MailLinks } from '../../../server/mail/mail-links.js';
import { PlatformMail } from '../../../server/mail/platform-mail.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';

let database: TempDatabase;
let other: SQLite.Database;
/** For each wake-up: how many messages another connection (another process) could see at that moment. */
let wakes: number[];
let mail: PlatformMail;

const NOW = new Date('2026-12-05T10:00:00.000Z');
const visibleElsewhere = () =>
  (other.prepare('select count(*) as n from outbox_messages').get() as { n: number }).n;

beforeEach(async () => {
  database = await createTempDatabase();
  other = database.connect().sqlite;
  wakes = [];
  mail = new PlatformMail({
    outbox: new OutboxRepository(database.db),
    emails: new EmailTemplates(createI18n()),
    links: new MailLinks('https://letters.example.org', 'test-secret-test-secret-test-secret-0123'),
    messageIdDomain: 'letters.example.org',
    wakeWorker: () => wakes.push(visibleElsewhere()),
  });
});
afterEach(async () => {
  await database.close();
});

/** Queues a password-reset e-mail in `tx`, as an account service does. */
const queueReset = (tx: Parameters<PlatformMail['toAccount']>[0]) =>
  mail.toAccount(
    tx,
    {
      template: 'password-reset',
      to: 'organizer@example.org',
      language: 'en',
      context: { resetUrl: mail.links.passwordResetUrl('token'), minutes: 30 },
      priority: 0,
    },
    NOW,
  );

/** Lets queued reads and timers run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

describe("mail queued in someone else's transaction (a port such as the review notices)", () => {
  it('wakes the worker only once the message can be seen from outside the transaction', async () => {
    await database.db.transaction().execute(async (tx) => {
      mail.wakeOnceCommitted(await queueReset(tx));
      // The transaction goes on after the message is queued: the worker must not be woken yet.
      await tx.selectFrom('outbox_messages').select('id').execute();
      await settle();
      expect(wakes).toEqual([]);
    });
    await settle();
    expect(wakes).toEqual([1]);
  });

  it('wakes nothing when the transaction is rolled back, and leaves no message', async () => {
    await expect(
      database.db.transaction().execute(async (tx) => {
        mail.wakeOnceCommitted(await queueReset(tx));
        throw new Error('the review step failed');
      }),
    ).rejects.toThrow('the review step failed');
    await settle();
    expect(wakes).toEqual([]);
    expect(visibleElsewhere()).toBe(0);
  });
});

describe('a queued e-mail', () => {
  it('carries a Message-ID in the platform domain and says it is automatic', async () => {
    const id = await database.db.transaction().execute((tx) => queueReset(tx));
    const message = await new OutboxRepository(database.db).findById(id);
    expect(message).toMatchObject({
      kind: 'password-reset',
      toAddress: 'organizer@example.org',
      subject: 'Choose a new password for Undersigned',
      headers: { 'Auto-Submitted': 'auto-generated' },
    });
    expect(message!.messageId).toMatch(/^<[0-9a-f]{12}\.[\w-]{22}@letters\.example\.org>$/);
    expect(message!.textBody).toContain('https://letters.example.org/account/reset/token');
  });
});
