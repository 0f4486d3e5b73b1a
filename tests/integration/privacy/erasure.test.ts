import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { pino } from 'pino';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { createApp } from '../../../server/app.js';
import { Mailbox } from '../../../server/mail/mailbox.js';
import { signatureToken } from '../../../server/mail/signature-tokens.js';
import { createAccount, signedIn } from '../../support/accounts.js';
import { fieldErrors, postForm } from '../../support/admin-forms.js';
import {
  bytesAfterCheckpoint,
  bytesOnDisk,
  erasureClearsFreeSpace,
  rowVersionsMentioning,
} from '../../support/database-file.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { byClass, byId, hrefsIn, innerHtml, mainOf, textOf } from '../../support/html.js';
import { Visitor } from '../../support/http.js';
import { ERROR_TITLES, expectErrorPage, signatureRows } from '../../support/signing.js';
import { createTestPlatform, type CaptureTestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

/** The supporter to erase: signed one letter in lower case, the other in capitals. */
const ADDRESS = 'ji-hoon.kim@example.org';
const ADDRESS_CAPITALS = ADDRESS.toUpperCase();
const NAME = 'Kim Ji-hoon Eraseme';
/** Another supporter, whose data must stay. */
const OTHER = { name: 'Olena Kovalenko', email: 'olena.kovalenko@example.org', country: 'UA' };

/** Whether the bytes hold the text in any letter case (ASCII text, as addresses are). */
function mentions(bytes: Buffer, text: string): boolean {
  return bytes.toString('latin1').toLowerCase().includes(text.toLowerCase());
}

describe('erasing a person’s data', () => {
  let t: CaptureTestPlatform;
  let admin: User;
  let adminVisitor: Visitor;
  let supporter: Visitor;
  let confirmedLetter: { id: number; slug: string };
  let pendingLetter: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform({ mail: 'capture' });
    ({ user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    confirmedLetter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
    pendingLetter = await createLetter(t.platform.db, t.clock.now(), { slug: 'protect-the-soldiers' });
    supporter = new Visitor(t.app);
  });
  afterEach(async () => {
    await t.close();
  });

  const mailbox = () => new Mailbox(t.config.mailboxDir);
  const mailboxFiles = () => readdirSync(t.config.mailboxDir).filter((f) => f.endsWith('.eml'));

  /** Every captured file's raw bytes and decoded text (parts and attachments), file by file. */
  async function capturedContents(): Promise<{ file: string; content: Buffer }[]> {
    const files = mailboxFiles();
    return Promise.all(
      files.map(async (file) => {
        const raw = readFileSync(path.join(t.config.mailboxDir, file));
        const parsed = await simpleParser(raw);
        const decoded = [
          parsed.text ?? '',
          typeof parsed.html === 'string' ? parsed.html : '',
          ...parsed.attachments.map((a) => a.content.toString('utf8')),
        ].join('\n');
        return { file, content: Buffer.concat([raw, Buffer.from(decoded, 'utf8')]) };
      }),
    );
  }

  /** The links of the newest captured message to an address. */
  async function linksInMailTo(address: string): Promise<string[]> {
    const message = (await mailbox().list()).find((m) => m.to.toLowerCase().includes(address.toLowerCase()));
    if (!message) throw new Error(`no captured mail to ${address}`);
    return message.links;
  }

  const pathOf = (link: string) => link.replace(/^https?:\/\/[^/]+/, '');

  async function sign(slug: string, fields: Record<string, string>) {
    const response = await supporter.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm(fields));
    expect(response.status).toBe(303);
  }

  async function confirmFromMail(address: string) {
    const confirm = (await linksInMailTo(address)).find((l) => l.includes('/signatures/confirm/'))!;
    const response = await supporter.submit(pathOf(confirm), pathOf(confirm), {});
    expect(response.status).toBe(303);
  }

  /**
   * The supporter signs two letters (confirms one), asks what is held about them (the answer, with
   * its attachment, is sent), and signs the second letter again, whose confirmation stays queued.
   * Another supporter signs too.
   */
  async function supporterWithHistory() {
    const details = {
      name: NAME,
      city: 'Seoul',
      organisation: 'Escapee circle',
      title: 'Member',
      country: 'KR',
    };
    await sign(confirmedLetter.slug, { ...details, email: ADDRESS });
    await t.drainOutbox();
    await confirmFromMail(ADDRESS);
    await sign(pendingLetter.slug, { ...details, email: ADDRESS_CAPITALS });
    await sign(confirmedLetter.slug, OTHER);
    await t.drainOutbox();
    await confirmFromMail(OTHER.email);
    const access = await supporter.submit('/privacy/access', '/privacy/access', { email: ADDRESS });
    expect(access.status).toBe(200);
    await t.drainOutbox();
    // Signing again re-sends the confirmation; this one is not sent yet.
    await sign(pendingLetter.slug, { ...details, email: ADDRESS_CAPITALS });
    const queued = await t.platform.db
      .selectFrom('outbox_messages')
      .select(['to_address', 'status'])
      .where('status', '=', 'queued')
      .execute();
    expect(queued).toEqual([{ to_address: ADDRESS_CAPITALS, status: 'queued' }]);
    // Three messages to the supporter were captured: two confirmations and the data.
    const captured = await capturedContents();
    expect(captured.filter((c) => mentions(c.content, ADDRESS))).toHaveLength(3);
  }

  async function counters() {
    return {
      letters: await t.platform.db
        .selectFrom('letters')
        .select(['id', 'signature_count'])
        .orderBy('id')
        .execute(),
      countries: await t.platform.db
        .selectFrom('letter_country_counts')
        .selectAll()
        .orderBy('letter_id')
        .orderBy('country')
        .execute(),
      statuses: (await signatureRows(t.platform.db)).map((r) => [r.id, r.status, r.country]),
    };
  }

  /**
   * The counters as erasure leaves them: every total and status as before, and each confirmed signature
   * of the person that was shown taken out of its country's figure (no longer shown: countedCountry).
   */
  async function countersAfterErasing(address: string, before: Awaited<ReturnType<typeof counters>>) {
    const shown = (await signatureRows(t.platform.db)).filter(
      (r) =>
        r.email.toLowerCase() === address.toLowerCase() && r.status === 'confirmed' && r.display !== 'hidden',
    );
    expect(shown.length, 'the person has a confirmed signature in a country figure').toBeGreaterThan(0);
    return {
      ...before,
      countries: before.countries.map((c) => ({
        ...c,
        count: c.count - shown.filter((r) => r.letter_id === c.letter_id && r.country === c.country).length,
      })),
    };
  }

  /** After erasure: nothing in the database file nor in the mailbox mentions the person. */
  async function expectNoTrace() {
    // As the erasure left the disk, before anyone runs VACUUM: the write-ahead log was emptied and
    // secure_delete zeroed the freed space, so the address is in no file of the database.
    // (PostgreSQL leaves the bytes in free space until a rebuild: see erasureClearsFreeSpace. But the
    // VACUUM after the erasure has removed every old row version that held them.)
    if (t.config.database.dialect === 'postgres') {
      expect(
        await rowVersionsMentioning(t, OTHER.email),
        'the search finds the other supporter',
      ).toBeGreaterThan(0);
      expect(await rowVersionsMentioning(t, ADDRESS), 'a row version holding the address').toBe(0);
    }
    if (erasureClearsFreeSpace(t)) {
      const asLeft = await bytesOnDisk(t);
      expect(mentions(asLeft, OTHER.email), 'the search finds the other supporter').toBe(true);
      expect(mentions(asLeft, ADDRESS), 'the address on disk right after the erasure').toBe(false);
    }
    const bytes = await bytesAfterCheckpoint(t, {
      vacuum: true,
      truncate: true,
    });
    // The search works: the other supporter is still there.
    expect(mentions(bytes, OTHER.email)).toBe(true);
    expect(mentions(bytes, OTHER.name)).toBe(true);
    expect(bytes.includes(Buffer.from(ADDRESS)), 'the address in the database file').toBe(false);
    expect(bytes.includes(Buffer.from(ADDRESS_CAPITALS)), 'the address in capitals').toBe(false);
    expect(mentions(bytes, ADDRESS), 'the address in any case').toBe(false);
    expect(mentions(bytes, NAME), 'the name').toBe(false);

    const captured = await capturedContents();
    expect(captured.filter((c) => mentions(c.content, ADDRESS)).map((c) => c.file)).toEqual([]);
    expect(captured.filter((c) => mentions(c.content, OTHER.email)).length).toBeGreaterThan(0);
  }

  const erasureEntries = () =>
    t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'erasure')
      .orderBy('id')
      .execute();

  /** Erases from the admin's form, and follows the redirect to the result (the page a browser shows). */
  const eraseAsAdmin = async (email: string, confirm = true) => {
    const response = await postForm(adminVisitor, '/admin/erasure', '/admin/erasure', [
      ['email', email],
      ...(confirm ? ([['confirm', 'yes']] as [string, string][]) : []),
    ]);
    if (response.status !== 303) return response;
    expect(response.headers.location).toMatch(/^\/admin\/erasure\?done=erased&/);
    return adminVisitor.get(response.headers.location!);
  };

  it('an admin erases the person across signatures, queued messages and the captured mailbox; counts stay', async () => {
    await supporterWithHistory();
    const before = await countersAfterErasing(ADDRESS, await counters());
    const response = await eraseAsAdmin(ADDRESS);
    expect(response.status).toBe(200);
    // Two signatures; the two confirmations and the data sent, and the one queued; three captured files.
    expect(textOf(mainOf(response.text))).toContain(
      'Erased: 2 signatures, 4 queued messages, 3 captured e-mails.',
    );

    expect(await counters()).toEqual(before);
    const rows = await signatureRows(t.platform.db);
    const erased = rows.filter((r) => r.anonymised_at !== null);
    expect(erased.map((r) => r.status).sort()).toEqual(['confirmed', 'pending']);
    for (const row of erased) {
      expect(row).toMatchObject({
        full_name: '',
        email: '',
        city: '',
        organisation: '',
        job_title: '',
        ip_hash: null,
      });
    }
    const queued = await t.platform.db
      .selectFrom('outbox_messages')
      .selectAll()
      .where('to_address', '=', '')
      .execute();
    expect(queued.map((m) => m.status).sort()).toEqual(['cancelled', 'sent', 'sent', 'sent']);
    // Nothing is sent after the erasure.
    expect(await t.drainOutbox()).toBe(0);

    await expectNoTrace();

    // The audit log says that it happened, by whom and how much, never whose.
    const [entry] = await erasureEntries();
    expect(entry).toMatchObject({ actor_user_id: admin.id, actor_email: admin.email });
    expect(JSON.parse(entry!.details)).toEqual({ signatures: 2, messages: 4, letters: 0, mailboxFiles: 3 });
    const audit = await t.platform.db.selectFrom('audit_events').selectAll().execute();
    expect(mentions(Buffer.from(JSON.stringify(audit)), ADDRESS)).toBe(false);
  });

  it('erases the address as the supporter wrote it when the admin types another form of it (Gmail dots and tags)', async () => {
    const written = 'Ji.Hoon.Kim+letters@gmail.com';
    await sign(confirmedLetter.slug, { name: NAME, email: written });
    await sign(confirmedLetter.slug, OTHER);
    await t.drainOutbox();
    await confirmFromMail(written);
    expect((await capturedContents()).filter((c) => mentions(c.content, written))).toHaveLength(1);

    const response = await eraseAsAdmin('jihoonkim@gmail.com');
    expect(response.status).toBe(200);
    expect(textOf(mainOf(response.text))).toContain(
      'Erased: 1 signature, 1 queued message, 1 captured e-mail.',
    );
    expect((await capturedContents()).filter((c) => mentions(c.content, written))).toEqual([]);
    const bytes = await bytesAfterCheckpoint(t, {
      vacuum: true,
      truncate: true,
    });
    expect(mentions(bytes, written)).toBe(false);
    expect(mentions(bytes, 'ji.hoon.kim')).toBe(false);
    expect(mentions(bytes, OTHER.email)).toBe(true);
  });

  it('refuses an erasure asked by an organizer inside the service itself, whoever called it: nothing is erased', async () => {
    await supporterWithHistory();
    const before = await signatureRows(t.platform.db);
    const organizer = await createAccount(t.platform, 'organizer');
    await expect(t.platform.privacy.erase(ADDRESS, organizer)).rejects.toMatchObject({ status: 403 });
    expect(await signatureRows(t.platform.db)).toEqual(before);
    expect(await erasureEntries()).toHaveLength(0);
  });

  it('a second erasure of the same person is harmless: nothing changes, no error', async () => {
    await supporterWithHistory();
    expect((await eraseAsAdmin(ADDRESS)).status).toBe(200);
    const rows = await signatureRows(t.platform.db);
    const files = mailboxFiles();
    const again = await eraseAsAdmin(ADDRESS_CAPITALS);
    expect(again.status).toBe(200);
    // Nothing is left, and the page says so (as for a mistyped address), not "Erased: 0 signatures".
    expect(textOf(mainOf(again.text))).toContain('Nothing is held for this address');
    expect(textOf(mainOf(again.text))).not.toContain('Erased:');
    expect(await signatureRows(t.platform.db)).toEqual(rows);
    expect(mailboxFiles()).toEqual(files);
    const entries = await erasureEntries();
    expect(entries).toHaveLength(2);
    expect(JSON.parse(entries[1]!.details)).toEqual({
      signatures: 0,
      messages: 0,
      letters: 0,
      mailboxFiles: 0,
    });
  });

  it('the supporter erases themselves through the link in an e-mail: a page first, then the button', async () => {
    await supporterWithHistory();
    const before = await countersAfterErasing(ADDRESS, await counters());
    const eraseLink = (await linksInMailTo(ADDRESS)).find((l) => l.includes('/privacy/erase/'));
    expect(eraseLink).toBeDefined();
    const erasePath = pathOf(eraseLink!);

    // Opening the link changes nothing (mail scanners open links).
    const page = await supporter.get(erasePath);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain('Erase my data');
    expect(await signatureRows(t.platform.db)).toSatisfy((rows: { anonymised_at: string | null }[]) =>
      rows.every((r) => r.anonymised_at === null),
    );

    // A post from another site is refused: by Fetch Metadata, or by its Origin in a browser without it.
    const forged = await supporter.agent
      .post(erasePath)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'cross-site')
      .send({});
    expectErrorPage(forged, 403, ERROR_TITLES[403]);
    const otherSite = await new Visitor(t.app).agent
      .post(erasePath)
      .type('form')
      .set('Accept', 'text/html')
      .set('Origin', 'https://evil.example')
      .send({});
    expectErrorPage(otherSite, 403, ERROR_TITLES[403]);
    expect((await signatureRows(t.platform.db)).every((r) => r.anonymised_at === null)).toBe(true);

    const done = await supporter.submit(erasePath, erasePath, {});
    expect(done.status).toBe(200);
    expect(textOf(mainOf(done.text))).toContain('Nothing about your e-mail address remains on Undersigned.');
    expect(await counters()).toEqual(before);
    expect((await signatureRows(t.platform.db)).filter((r) => r.anonymised_at !== null)).toHaveLength(2);
    await expectNoTrace();

    const [entry] = await erasureEntries();
    expect(entry).toMatchObject({ actor_user_id: null, actor_email: 'supporter' });
    expect(JSON.parse(entry!.details)).toEqual({ signatures: 2, messages: 4, letters: 0, mailboxFiles: 3 });

    // The same link again: the same page, nothing more to do, no error.
    const again = await supporter.submit(erasePath, erasePath, {});
    expect(again.status).toBe(200);
    expect(textOf(mainOf(again.text))).toContain('Nothing about your e-mail address remains on Undersigned.');
  });

  it('keeps the erase link’s token out of the request logs', async () => {
    await supporterWithHistory();
    const lines: string[] = [];
    const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(line) });
    const logged = createApp({ ...t.platform.appDeps, logger });
    const eraseLink = (await linksInMailTo(ADDRESS)).find((l) => l.includes('/privacy/erase/'))!;
    const token = eraseLink.slice(eraseLink.lastIndexOf('/') + 1);
    const browser = new Visitor(logged);
    expect((await browser.get(pathOf(eraseLink))).status).toBe(200);
    expect((await browser.submit(pathOf(eraseLink), pathOf(eraseLink), {})).status).toBe(200);
    // The requests were logged, by route, without the token.
    expect(lines.filter((l) => l.includes('/privacy/erase/'))).toHaveLength(3);
    expect(lines.join('\n')).not.toContain(token);
  });

  it('answers a forged, unknown or wrong-purpose erase link with a 404 page, and erases nothing', async () => {
    await supporterWithHistory();
    const rows = await signatureRows(t.platform.db);
    const confirmToken = signatureToken(SECRET, rows[0]!.ref, 'confirm');
    for (const token of [
      'forged-token',
      signatureToken(SECRET, 'no-such-signature', 'erase'),
      signatureToken('another-secret-another-secret-another-secret', rows[0]!.ref, 'erase'),
      confirmToken,
    ]) {
      const page = await supporter.get(`/privacy/erase/${token}`);
      expect(page.status, token).toBe(404);
      expect(textOf(mainOf(page.text))).toContain('This link is not valid.');
      const posted = await supporter.submit('/privacy/access', `/privacy/erase/${token}`, {});
      expect(posted.status, token).toBe(404);
    }
    expect(await signatureRows(t.platform.db)).toEqual(rows);
    expect(await erasureEntries()).toEqual([]);
  });

  it('does nothing without the confirmation tick (422), nor for a malformed address (400), nor without the form token', async () => {
    await supporterWithHistory();
    const rows = await signatureRows(t.platform.db);
    const files = mailboxFiles();

    const unticked = await eraseAsAdmin(ADDRESS, false);
    expect(unticked.status).toBe(422);
    expect(fieldErrors(unticked.text, 'field-confirm')).toEqual([
      'Tick the box to confirm: erasure cannot be undone.',
    ]);
    // The address stays in the form, so the admin only ticks the box.
    expect(unticked.text).toContain(`value="${ADDRESS}"`);
    // The summary's link lands on the checkbox itself, which names its message.
    const box = byId(unticked.text, 'field-confirm')!;
    expect(box.attrs).toMatchObject({
      type: 'checkbox',
      'aria-invalid': 'true',
      'aria-describedby': 'field-confirm-error',
    });
    expect(hrefsIn(innerHtml(unticked.text, byClass(unticked.text, 'error-summary')[0]!))).toEqual([
      '#field-confirm',
    ]);

    const malformed = await eraseAsAdmin('not an address');
    expect(malformed.status).toBe(400);
    expect(fieldErrors(malformed.text, 'field-email')).toEqual([
      'Enter the e-mail address to erase, like name@example.org.',
    ]);

    const noToken = await adminVisitor.agent
      .post('/admin/erasure')
      .type('form')
      .set('Accept', 'text/html')
      .send({ email: ADDRESS, confirm: 'yes' });
    expectErrorPage(noToken, 403, ERROR_TITLES[403]);

    expect(await signatureRows(t.platform.db)).toEqual(rows);
    expect(mailboxFiles()).toEqual(files);
    expect(await erasureEntries()).toEqual([]);
  });
});
