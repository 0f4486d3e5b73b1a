import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { simpleParser } from 'mailparser';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumAt } from '../../../server/deliveries/pdf-renderer.js';
import { signatureToken } from '../../../server/mail/signature-tokens.js';
import { signedIn } from '../../support/accounts.js';
import { postForm } from '../../support/admin-forms.js';
import { bytesAfterCheckpoint, bytesOnDisk, erasureClearsFreeSpace } from '../../support/database-file.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { Visitor } from '../../support/http.js';
import { createTestPlatform, type CaptureTestPlatform } from '../../support/test-platform.js';

const CHROMIUM = '/usr/bin/chromium';
const SECRET = 'test-secret-test-secret-test-secret-0123';

/** The supporter who erases themself, named in full in every letter. */
const ERASED = { name: 'Kim Ji-hoon Eraseme', email: 'ji-hoon.eraseme@example.org' };
/** Another supporter, named too: the positive control that the searches below find a name. */
const OTHER = { name: 'Olena Kovalenko Staying', email: 'olena.staying@example.org' };

/** The text a PDF reader extracts. */
async function pdfText(pdf: Buffer): Promise<string> {
  const parser = new PDFParse({ data: new Uint8Array(pdf) });
  try {
    return (await parser.getText()).text;
  } finally {
    await parser.destroy();
  }
}

/** Whether the bytes hold the text in any letter case. */
function mentions(text: string, needle: string): boolean {
  return text.toLowerCase().includes(needle.toLowerCase());
}

describe.skipIf(!chromiumAt(CHROMIUM))(
  `erasure reaches every copy of a name: compiled letters, PDF annexes, captured mail (needs Chromium at ${CHROMIUM})`,
  () => {
    let t: CaptureTestPlatform;
    let letter: { id: number; slug: string };
    let recipientEmail: string;
    let admin: Visitor;
    /** The update round compiled before the erasure and not sent yet. */
    let pendingMessageId: number;

    const delivery = () => `/admin/letters/${letter.id}/delivery`;
    const mailboxFiles = () => readdirSync(t.config.mailboxDir).filter((f) => f.endsWith('.eml'));

    /** Every captured file: raw bytes, decoded parts and the text of its PDFs, one string each. */
    async function capturedTexts(): Promise<{ file: string; text: string; raw: Buffer }[]> {
      return Promise.all(
        mailboxFiles().map(async (file) => {
          const raw = readFileSync(path.join(t.config.mailboxDir, file));
          const parsed = await simpleParser(raw);
          const pdfs = await Promise.all(
            parsed.attachments
              .filter((a) => a.contentType === 'application/pdf')
              .map((a) => pdfText(a.content)),
          );
          const text = [
            raw.toString('utf8'),
            parsed.text ?? '',
            typeof parsed.html === 'string' ? parsed.html : '',
            ...pdfs,
          ].join('\n');
          return { file, text, raw };
        }),
      );
    }

    /** Every text and blob value of every table, as text, with where it is (PDF blobs as their text). */
    async function everyStoredValue(): Promise<{ where: string; text: string }[]> {
      // Kysely's introspection lists the tables on either database (the migration tables included).
      const tables = await t.platform.db.introspection.getTables({ withInternalKyselyTables: true });
      const values: { where: string; text: string }[] = [];
      for (const { name } of tables) {
        const rows = await sql<Record<string, unknown>>`select * from ${sql.table(name)}`.execute(
          t.platform.db,
        );
        for (const row of rows.rows) {
          for (const [column, value] of Object.entries(row)) {
            const where = `${name}.${column}`;
            if (typeof value === 'string') values.push({ where, text: value });
            else if (value instanceof Uint8Array) {
              const bytes = Buffer.from(value);
              const isPdf = bytes.subarray(0, 5).toString('latin1') === '%PDF-';
              values.push({ where, text: isPdf ? await pdfText(bytes) : bytes.toString('utf8') });
            }
          }
        }
      }
      return values;
    }

    async function signAndConfirm(supporter: { name: string; email: string }) {
      const visitor = new Visitor(t.app);
      const form = signingForm({ name: supporter.name, email: supporter.email, display: 'full' });
      const signed = await visitor.submit(`/letters/${letter.slug}`, `/letters/${letter.slug}/sign`, form);
      expect(signed.status).toBe(303);
      const { ref } = await t.platform.db
        .selectFrom('signatures')
        .select('ref')
        .where('email', '=', supporter.email)
        .executeTakeFirstOrThrow();
      const confirm = `/signatures/confirm/${signatureToken(SECRET, ref, 'confirm')}`;
      expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
    }

    async function round(action: 'test' | 'deliver' | 'update', send: boolean) {
      const response = await postForm(admin, delivery(), `${delivery()}/${action}`, [
        ['request_key', `${action}-erasure-key`],
      ]);
      expect(response.status, action).toBe(303);
      expect(await t.compileDeliveries()).toBeGreaterThan(0);
      if (send) await t.drainOutbox();
    }

    const letterMessages = () =>
      t.platform.db
        .selectFrom('outbox_messages')
        .selectAll()
        .where('kind', '=', 'letter-delivery')
        .orderBy('id')
        .execute();

    beforeAll(async () => {
      t = await createTestPlatform({ mail: 'capture', pdf: true });
      expect(t.platform.pdf.available).toBe(true);
      ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
      letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'erasure-every-copy' });
      recipientEmail = (await t.platform.db
        .selectFrom('recipients')
        .select('email')
        .executeTakeFirstOrThrow())!.email;
      await signAndConfirm(ERASED);
      await signAndConfirm(OTHER);
      await t.drainOutbox();

      // A test delivery and the delivery are sent (and captured); an update is compiled, not sent yet.
      await round('test', true);
      await round('deliver', true);
      await round('update', false);
      const before = await letterMessages();
      expect(before.map((m) => m.status)).toEqual(['sent', 'sent', 'queued']);
      pendingMessageId = before[2]!.id;

      // Before the erasure the name is in the pending letter's body and PDF, and in the captured letters.
      const pending = await t.platform.db
        .selectFrom('outbox_contents')
        .selectAll()
        .where('outbox_message_id', '=', pendingMessageId)
        .executeTakeFirstOrThrow();
      expect(pending.text_body).toContain(ERASED.name);
      const [annex] = await t.platform.repositories.outbox.attachmentsOf(pendingMessageId);
      expect(await pdfText(annex!.content)).toContain(ERASED.name);
      const captured = await capturedTexts();
      expect(captured.filter((c) => mentions(c.text, ERASED.name)).length).toBeGreaterThanOrEqual(2);

      const erase = await postForm(admin, '/admin/erasure', '/admin/erasure', [
        ['email', ERASED.email],
        ['confirm', 'yes'],
      ]);
      // Redirected to its result, with the counts (moderation-routes.ts).
      expect(erase.status).toBe(303);
      expect(erase.headers.location).toMatch(/^\/admin\/erasure\?done=erased&signatures=1&/);
    }, 120_000);
    afterAll(async () => {
      await t?.close();
    });

    it('leaves the name in no table, no PDF annex and no file of the database, the write-ahead log included', async () => {
      const values = await everyStoredValue();
      expect(
        values.filter((v) => mentions(v.text, OTHER.name)).length,
        'the search finds the other name',
      ).toBeGreaterThan(0);
      expect(values.filter((v) => mentions(v.text, ERASED.name)).map((v) => v.where)).toEqual([]);
      expect(values.filter((v) => mentions(v.text, ERASED.email)).map((v) => v.where)).toEqual([]);

      // As the erasure left the disk (write-ahead log emptied), then rebuilt without free pages.
      // (PostgreSQL leaves the bytes in free space until a rebuild: see erasureClearsFreeSpace.)
      if (erasureClearsFreeSpace(t)) {
        expect(mentions((await bytesOnDisk(t)).toString('latin1'), ERASED.name)).toBe(false);
      }
      const rebuilt = await bytesAfterCheckpoint(t, {
        vacuum: true,
        truncate: true,
      });
      expect(mentions(rebuilt.toString('latin1'), ERASED.name)).toBe(false);
      expect(mentions(rebuilt.toString('latin1'), OTHER.email)).toBe(true);
    });

    it('deletes every captured e-mail that named the person, the sent test and delivery with their PDFs', async () => {
      const captured = await capturedTexts();
      expect(captured.filter((c) => mentions(c.text, ERASED.name)).map((c) => c.file)).toEqual([]);
      expect(captured.filter((c) => mentions(c.text, ERASED.email)).map((c) => c.file)).toEqual([]);
      // The other supporter's own confirmation is still there.
      expect(captured.filter((c) => mentions(c.text, OTHER.email)).length).toBeGreaterThan(0);
    });

    it('keeps the record of what was sent: status, time, reply and the SHA-256 of the bytes, without the body', async () => {
      const sent = (await letterMessages()).filter((m) => m.status === 'sent');
      expect(sent).toHaveLength(2);
      for (const message of sent) {
        expect(message.sent_sha256).toMatch(/^[0-9a-f]{64}$/);
        expect(message.sent_size).toBeGreaterThan(1000);
        expect(message.sent_at).not.toBeNull();
        expect(message.last_reply).toMatch(/^250 /);
        expect(message.content_removed_at).not.toBeNull();
      }
      const contents = await t.platform.db
        .selectFrom('outbox_contents')
        .select('outbox_message_id')
        .where(
          'outbox_message_id',
          'in',
          sent.map((m) => m.id),
        )
        .execute();
      expect(contents).toEqual([]);
    });

    it('cancels the letter not sent yet and compiles it again without the name; what goes out names only the others', async () => {
      const cancelled = await t.platform.repositories.outbox.findById(pendingMessageId);
      expect(cancelled?.status).toBe('cancelled');
      expect(await t.platform.repositories.outbox.attachmentsOf(pendingMessageId)).toEqual([]);

      // The scheduler's next compile gives the recipient the update again, from today's annex.
      expect(await t.compileDeliveries()).toBe(1);
      const again = (await letterMessages()).at(-1)!;
      expect(again.id).not.toBe(pendingMessageId);
      expect(again.status).toBe('queued');
      const content = await t.platform.db
        .selectFrom('outbox_contents')
        .selectAll()
        .where('outbox_message_id', '=', again.id)
        .executeTakeFirstOrThrow();
      expect(content.text_body).toContain(OTHER.name);
      expect(content.text_body).not.toContain(ERASED.name);
      const [annex] = await t.platform.repositories.outbox.attachmentsOf(again.id);
      const annexText = await pdfText(annex!.content);
      expect(annexText).toContain(OTHER.name);
      expect(annexText).not.toContain(ERASED.name);

      const filesBefore = new Set(mailboxFiles());
      await t.drainOutbox();
      const arrived = (await capturedTexts()).filter((c) => !filesBefore.has(c.file));
      expect(arrived).toHaveLength(1);
      expect(arrived[0]!.text).toContain(recipientEmail);
      expect(arrived[0]!.text).toContain(OTHER.name);
      expect(mentions(arrived[0]!.text, ERASED.name)).toBe(false);
      // The record counts the recipient's update once: the cancelled copy is not in it.
      const updates = await t.platform.db
        .selectFrom('deliveries as d')
        .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
        .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
        .select(['m.id', 'm.status'])
        .where('r.kind', '=', 'update')
        .execute();
      expect(updates).toEqual([{ id: again.id, status: 'sent' }]);
    });
  },
);

describe('retention reaches the captured copies of delivered letters too', () => {
  let t: CaptureTestPlatform;
  afterAll(async () => {
    await t?.close();
  });

  it('deletes the captured letters that named the forgotten signers, and keeps the mail of a letter still open', async () => {
    t = await createTestPlatform({ mail: 'capture' });
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const closing = await createLetter(t.platform.db, t.clock.now(), { slug: 'closes-and-is-forgotten' });
    const open = await createLetter(t.platform.db, t.clock.now(), { slug: 'stays-open', closesAt: null });
    const sign = async (slug: string, supporter: { name: string; email: string }) => {
      const visitor = new Visitor(t.app);
      const form = signingForm({ name: supporter.name, email: supporter.email, display: 'full' });
      expect((await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, form)).status).toBe(303);
      const { ref } = await t.platform.db
        .selectFrom('signatures')
        .select('ref')
        .where('email', '=', supporter.email)
        .executeTakeFirstOrThrow();
      const confirm = `/signatures/confirm/${signatureToken(SECRET, ref, 'confirm')}`;
      expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);
    };
    await sign(closing.slug, ERASED);
    await sign(open.slug, OTHER);
    for (const { id } of [closing, open]) {
      const delivery = `/admin/letters/${id}/delivery`;
      const response = await postForm(admin, delivery, `${delivery}/test`, [
        ['request_key', `retention-${id}`],
      ]);
      expect(response.status).toBe(303);
    }
    expect(await t.compileDeliveries()).toBe(2);
    await t.drainOutbox();
    const named = async (name: string) => {
      const files = readdirSync(t.config.mailboxDir).filter((f) => f.endsWith('.eml'));
      const found: string[] = [];
      for (const file of files) {
        const parsed = await simpleParser(readFileSync(path.join(t.config.mailboxDir, file)));
        if (mentions(`${parsed.text ?? ''}\n${parsed.subject ?? ''}`, name)) found.push(file);
      }
      return found;
    };
    // The test letter and the confirmation name each supporter.
    expect(await named(ERASED.name)).toHaveLength(2);
    expect(await named(OTHER.name)).toHaveLength(2);

    const closedAt = t.clock.now();
    await t.platform.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: closedAt.toISOString(), closes_at: closedAt.toISOString() })
      .where('id', '=', closing.id)
      .execute();
    t.clock.advance(200 * 86_400_000);
    expect(await t.platform.privacy.applyRetention()).toBe(1);

    expect(await named(ERASED.name)).toEqual([]);
    expect(await named(OTHER.name)).toHaveLength(2);
  });
});
