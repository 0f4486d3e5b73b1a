import { randomBytes } from 'node:crypto';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { threadId } from 'node:worker_threads';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import type { Db } from '../../../server/db/database.js';
import { annexOf, countriesOf } from '../../../server/deliveries/delivery.js';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { encodedMessageBytes, MAX_MESSAGE_BYTES } from '../../../server/letters/letter-size.js';
import { countryName } from '../../../server/lib/countries.js';
import { keyedHash } from '../../../server/lib/keyed-hash.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { SignatureRepository } from '../../../server/signatures/signature-repository.js';
import { createAccount, loginAs } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const ONE_LIST = `{{recipient.salutation}},

We ask you to protect the captured soldiers.

{{signatureCount}} people signed:
{{#each signatories}}{{name}}, {{country}}
{{/each}}`;

/** Inserts `count` confirmed signatures named by `name`, in batches, and moves the letter's counter. */
async function insertConfirmed(db: Db, letterId: number, count: number, name: (i: number) => string) {
  const letter = await db
    .selectFrom('letters')
    .select('current_version_id')
    .where('id', '=', letterId)
    .executeTakeFirstOrThrow();
  const at = '2026-11-20T00:00:00.000Z';
  await db.transaction().execute(async (tx) => {
    for (let start = 0; start < count; start += 500) {
      const rows = [];
      for (let i = start; i < Math.min(count, start + 500); i += 1) {
        const email = `signer-${letterId}-${i}@example.org`;
        rows.push({
          letter_id: letterId,
          letter_version_id: letter.current_version_id!,
          ref: randomBytes(12).toString('base64url'),
          status: 'confirmed',
          full_name: name(i),
          email,
          email_hash: keyedHash(SECRET, 'email', email),
          country: i % 3 === 0 ? 'KR' : 'UA',
          city: '',
          organisation: '',
          job_title: '',
          display: 'full',
          language: 'en',
          consent_updates: 0,
          ip_hash: null,
          confirmation_sends: 1,
          created_at: at,
          confirmed_at: at,
          withdrawn_at: null,
          updated_at: at,
          invalidated_at: null,
          invalidated_reason: null,
          status_before_invalidation: null,
          anonymised_at: null,
        });
      }
      await tx.insertInto('signatures').values(rows).execute();
    }
    await tx.updateTable('letters').set({ signature_count: count }).where('id', '=', letterId).execute();
  });
}

describe('compiling a delivery', () => {
  let t: TestPlatform;
  let admin: User;

  beforeAll(async () => {
    t = await createTestPlatform();
    expect(t.config.secretKey).toBe(SECRET);
    admin = await createAccount(t.platform, 'admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  const roundOf = (id: number) =>
    t.platform.db.selectFrom('delivery_rounds').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  const messagesOf = (roundId: number) =>
    t.platform.db
      .selectFrom('outbox_messages as m')
      .innerJoin('outbox_contents as c', 'c.outbox_message_id', 'm.id')
      .select(['m.id', 'c.subject', 'c.text_body', 'c.html_body'])
      .where('m.delivery_round_id', '=', roundId)
      .execute();

  it('renders a letter listing 20,000 signatories in a worker thread, while the web process keeps answering', async () => {
    const SIGNATURES = 20_000;
    const { id } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'twenty-thousand',
      goal: null,
      texts: [{ language: 'en', title: 'Twenty thousand', summary: 'Large.', body: ONE_LIST }],
    });
    await insertConfirmed(t.platform.db, id, SIGNATURES, (i) => `Signatory number ${i}`);
    const round = await t.platform.deliveries.sendTest(admin, id, 'twenty-thousand-test');

    // The baseline, measured in this run: the same compile on the main thread, as it was done before.
    const readStart = performance.now();
    const rows = await t.platform.repositories.signatures.annexRows(id, round.createdAt);
    const readMs = performance.now() - readStart;
    const i18n = t.platform.i18n;
    const inProcess = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);
    const texts = await t.platform.repositories.letters.textsOfVersion(round.letterVersionId);
    const baselineStart = performance.now();
    inProcess.compile({
      kind: 'test',
      text: texts[0]!,
      recipient: { name: 'Embassy of Testland', title: '', organisation: '', salutation: 'Dear Ambassador' },
      date: round.createdAt,
      signatureCount: SIGNATURES,
      countries: countriesOf(rows),
      annex: annexOf(rows.map((r) => ({ ...r, name: r.fullName }))),
      organisations: [],
      sponsor: '',
      letterUrl: 'http://localhost/letters/twenty-thousand',
      replyTo: '',
      pdfAttached: false,
    });
    const baselineMs = performance.now() - baselineStart;

    // /healthz asked every 5 ms while the delivery compiles.
    const health: number[] = [];
    let compiling = true;
    const asking = (async () => {
      while (compiling) {
        const asked = performance.now();
        const response = await request(t.app).get('/healthz');
        expect(response.status).toBe(200);
        health.push(performance.now() - asked);
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    // Every outbox write made on this thread (the one that answers requests) during the compile.
    const writtenHere = vi.spyOn(OutboxRepository.prototype, 'enqueue');
    const readHere = vi.spyOn(SignatureRepository.prototype, 'annexRowsPage');
    const delay = monitorEventLoopDelay({ resolution: 1 });
    delay.enable();
    const started = performance.now();
    const compiled = await t.platform.roundCompiling.compilePending();
    const tookMs = performance.now() - started;
    delay.disable();
    const writesHere = writtenHere.mock.calls.length;
    const readsHere = readHere.mock.calls.length;
    writtenHere.mockRestore();
    readHere.mockRestore();
    compiling = false;
    await asking;

    expect(compiled).toBe(1);
    // The letter was rendered by the worker thread, not by the thread that answers requests.
    expect(t.platform.compileWorker.lastThreadId).toBeGreaterThan(0);
    expect(t.platform.compileWorker.lastThreadId).not.toBe(threadId);
    // ...and written to the outbox from there: the megabyte bodies never came to this thread.
    expect(writesHere).toBe(0);
    // The signatories were read there as well: the annex never passed through this thread.
    expect(readsHere).toBe(0);
    const [message] = await messagesOf(round.id);
    expect(message!.text_body).toContain('Signatory number 19999, Ukraine');
    // Read a page at a time, every signatory is there once, in order.
    const listed = message!.text_body.match(/Signatory number \d+,/g) ?? [];
    expect(listed).toHaveLength(SIGNATURES);
    expect(listed.slice(0, 2)).toEqual(['Signatory number 0,', 'Signatory number 1,']);
    expect(
      encodedMessageBytes({ subject: message!.subject, text: message!.text_body, html: message!.html_body }),
    ).toBeLessThan(MAX_MESSAGE_BYTES);

    const maxDelayMs = delay.max / 1e6;
    const sorted = [...health].sort((a, b) => a - b);
    console.info(
      `compile of ${SIGNATURES} signatories: ${tookMs.toFixed(0)} ms through the worker; the same compile on the main thread ${baselineMs.toFixed(0)} ms; reading the annex ${readMs.toFixed(0)} ms; ` +
        `event-loop delay max ${maxDelayMs.toFixed(1)} ms, p99 ${(delay.percentile(99) / 1e6).toFixed(1)} ms; ` +
        `${health.length} /healthz answered meanwhile, median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)} ms, slowest ${sorted.at(-1)?.toFixed(1)} ms`,
    );
    // The main thread never stalled for as long as rendering takes there: no pause comes near it, and
    // almost every turn of the event loop (99 %) is a small fraction of it.
    expect(maxDelayMs).toBeLessThan(baselineMs);
    expect(delay.percentile(99) / 1e6).toBeLessThan(baselineMs / 5);
    expect(health.length).toBeGreaterThan(0);
  }, 120_000);

  it('cancels a round whose letter has grown past the size budget since the button, says why on the delivery page, and sends nothing', async () => {
    const { id } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'grown-too-large',
      goal: null,
      texts: [{ language: 'en', title: 'Grown too large', summary: 'Large.', body: ONE_LIST }],
    });
    const round = await t.platform.deliveries.sendTest(admin, id, 'grown-too-large-test');
    // Signatures recorded after the button with an earlier confirmation (as an import would be): the
    // round's annex now holds 12,000 long names, which the worker measures before rendering anything.
    await insertConfirmed(t.platform.db, id, 12_000, (i) => `${'Very long signatory name '.repeat(4)}${i}`);
    expect(await t.platform.roundCompiling.compilePending()).toBe(0);

    const stored = await roundOf(round.id);
    expect(stored.status).toBe('cancelled');
    expect(JSON.parse(stored.failure!)).toEqual({
      code: 'letter_too_long',
      params: { line: '6', block: '{{#each signatories}}', signatures: '12000', max: '1000000' },
    });
    expect(await messagesOf(round.id)).toEqual([]);
    // A cancelled round is not compiled again.
    expect(await t.platform.roundCompiling.compilePending()).toBe(0);
    expect(await messagesOf(round.id)).toEqual([]);
    const audit = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'delivery')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ round: round.id, failed: 'letter_too_long' });

    const visitor = await loginAs(t.app, admin);
    const page = await visitor.get(`/admin/letters/${id}/delivery`);
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      'Nothing was sent: with 12000 named signatories, the letter text would be longer than 1000000 characters ({{#each signatories}} at line 6 repeats for each of them)',
    );
  }, 120_000);

  it('refuses at the button a delivery whose letter is too large with the signatories of the moment, creating no round', async () => {
    const { id } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'too-large-already',
      goal: null,
      texts: [{ language: 'en', title: 'Too large', summary: 'Large.', body: ONE_LIST }],
    });
    await insertConfirmed(t.platform.db, id, 12_000, (i) => `${'Very long signatory name '.repeat(4)}${i}`);
    await expect(t.platform.deliveries.sendTest(admin, id, 'too-large-already')).rejects.toMatchObject({
      status: 409,
      code: 'letter_too_large',
      messageKey: 'limits.deliveryRefused',
      params: { language: 'en', line: 6, block: '{{#each signatories}}', count: 12_000, max: 1_000_000 },
    });
    const rounds = await t.platform.db
      .selectFrom('delivery_rounds')
      .select('id')
      .where('letter_id', '=', id)
      .execute();
    expect(rounds).toEqual([]);
  }, 120_000);
});
