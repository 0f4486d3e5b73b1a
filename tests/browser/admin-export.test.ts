import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { randomRef } from '../../server/lib/ids.js';
import { signatureToken } from '../../server/mail/signature-tokens.js';
import { createAccount } from '../support/accounts.js';
import {
  expectNoSeriousViolations,
  launchBrowser,
  logIn,
  newContext,
  overflowingElements,
  pageWidths,
  PHONE,
  startApp,
  submitLogin,
  type RunningApp,
} from '../support/browser.js';
import { createLetter } from '../support/factories.js';

interface Signer {
  name: string;
  email: string;
  country: string;
  organisation?: string;
  status: 'pending' | 'confirmed' | 'withdrawn' | 'invalidated';
  display?: 'full' | 'initials' | 'hidden';
}

const LETTER_TITLE = 'Let them choose freedom';
const OTHER_TITLE = 'Protect the captured soldiers';

/** On the exported letter: two confirmed signers from Korea (one counted only), and others who must not appear. */
const EXPORTED: Signer[] = [
  {
    name: '김지훈',
    email: 'ji-hoon.kim@example.org',
    country: 'KR',
    organisation: '북한인권 모임',
    status: 'confirmed',
  },
  {
    name: 'Park Min-su',
    email: 'min-su.park@example.org',
    country: 'KR',
    status: 'confirmed',
    display: 'hidden',
  },
];
const NOT_EXPORTED: Signer[] = [
  { name: 'Олена Коваленко', email: 'olena.kovalenko@example.org', country: 'UA', status: 'confirmed' },
  { name: 'Lee Seo-yeon', email: 'seo-yeon.lee@example.org', country: 'KR', status: 'pending' },
  { name: 'Choi Eun-ji', email: 'eun-ji.choi@example.org', country: 'KR', status: 'withdrawn' },
  { name: 'Mass Signer', email: 'mass@spam.example.net', country: 'KR', status: 'invalidated' },
];
/** On the other letter. */
const ELSEWHERE: Signer[] = [
  { name: 'Kim Young-ho', email: 'young-ho.kim@example.org', country: 'KR', status: 'confirmed' },
];

let app: RunningApp;
let browser: Browser;
let admin: User;
let letterSlug: string;
let eraseToken: string;
let downloads: string;

/** Inserts signatures as the signing journey leaves them, one second apart. */
async function addSignatures(letterId: number, signers: Signer[]): Promise<string[]> {
  const db = app.platform.db;
  const { current_version_id } = await db
    .selectFrom('letters')
    .select('current_version_id')
    .where('id', '=', letterId)
    .executeTakeFirstOrThrow();
  const refs: string[] = [];
  for (const [i, s] of signers.entries()) {
    const at = new Date(Date.now() - (signers.length - i) * 1_000).toISOString();
    const ref = randomRef();
    refs.push(ref);
    await db
      .insertInto('signatures')
      .values({
        letter_id: letterId,
        letter_version_id: current_version_id!,
        ref,
        status: s.status,
        full_name: s.name,
        email: s.email,
        email_hash: `hash-${ref}`,
        country: s.country,
        city: '',
        organisation: s.organisation ?? '',
        job_title: '',
        display: s.display ?? 'full',
        language: 'en',
        consent_updates: 0,
        ip_hash: `ip-${i % 2}`,
        confirmation_sends: 1,
        created_at: at,
        confirmed_at: s.status === 'pending' ? null : at,
        withdrawn_at: s.status === 'withdrawn' ? at : null,
        invalidated_at: s.status === 'invalidated' ? at : null,
        invalidated_reason: s.status === 'invalidated' ? 'one connection, many names' : null,
        status_before_invalidation: s.status === 'invalidated' ? 'confirmed' : null,
        updated_at: at,
      })
      .execute();
    if (s.status === 'confirmed')
      await app.platform.repositories.letters.addToSignatureCount(letterId, 1, s.country);
  }
  return refs;
}

beforeAll(async () => {
  app = await startApp();
  admin = await createAccount(app.platform, 'admin', 'seo-yeon.admin@example.org');
  const now = new Date();
  const letter = await createLetter(app.platform.db, now, { slug: 'let-them-choose', title: LETTER_TITLE });
  const other = await createLetter(app.platform.db, now, {
    slug: 'protect-the-soldiers',
    title: OTHER_TITLE,
  });
  letterSlug = letter.slug;
  const [firstRef] = await addSignatures(letter.id, [...EXPORTED, ...NOT_EXPORTED]);
  await addSignatures(other.id, ELSEWHERE);
  eraseToken = signatureToken(app.platform.appDeps.secret, firstRef!, 'erase');
  downloads = mkdtempSync(path.join(os.tmpdir(), 'undersigned-downloads-'));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
  if (downloads) rmSync(downloads, { recursive: true, force: true });
});

/** A fresh profile that keeps downloads, for one test; closed by the caller. */
function downloadingContext(options: Parameters<Browser['newContext']>[0] = {}): Promise<BrowserContext> {
  return newContext(browser, app, { acceptDownloads: true, ...options });
}

describe('an admin exports the signatures of one letter as CSV', () => {
  it('filters by letter, status and country, chooses columns, downloads, and the file holds exactly those rows', async () => {
    const context = await downloadingContext();
    const page = await context.newPage();
    await logIn(page, admin.email);

    await page.goto('/admin/exports');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Export signatures');
    await page.getByLabel('Letter', { exact: true }).selectOption({ label: LETTER_TITLE });
    // Confirmed only (the form's default), and stated explicitly.
    await page.getByRole('checkbox', { name: 'confirmed', exact: true }).check();
    for (const status of ['pending (not confirmed, or held by screening)', 'withdrawn', 'invalidated'])
      await page.getByRole('checkbox', { name: status, exact: true }).uncheck();
    await page.getByLabel('Country', { exact: true }).selectOption('KR');

    // Columns: the name as typed, the address, the country and the organisation; nothing else.
    const wanted = ['name', 'email', 'country', 'organisation'];
    const columns = page.locator('#field-columns input[type=checkbox]');
    for (let i = 0; i < (await columns.count()); i++) {
      const box = columns.nth(i);
      const value = (await box.getAttribute('value'))!;
      if (wanted.includes(value)) await box.check();
      else await box.uncheck();
    }
    await page.getByRole('radio', { name: /^CSV/ }).check();

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the export' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/\.csv$/);
    const file = path.join(downloads, download.suggestedFilename());
    await download.saveAs(file);

    const bytes = readFileSync(file);
    // A byte-order mark, so spreadsheets read Korean and Ukrainian as UTF-8.
    expect([...bytes.subarray(0, 3)]).toEqual([0xef, 0xbb, 0xbf]);
    const text = bytes.subarray(3).toString('utf8');
    const rows = parse(text) as string[][];
    expect(rows[0]).toEqual(wanted);
    expect(rows.slice(1)).toEqual(EXPORTED.map((s) => [s.name, s.email, s.country, s.organisation ?? '']));
    for (const s of [...NOT_EXPORTED, ...ELSEWHERE]) {
      expect(text).not.toContain(s.name);
      expect(text).not.toContain(s.email);
    }

    // The export is on record: who, which filters, how many rows.
    const [entry] = await app.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .execute();
    expect(entry).toMatchObject({ actor_email: admin.email });
    expect(JSON.parse(entry!.details)).toMatchObject({ rows: 2, letter: letterSlug });
    await context.close();
  });
});

describe("an organizer downloads their own letter's supporters, on a phone", () => {
  it('finds the list from the editor, reads what it holds, and downloads names as each supporter chose', async () => {
    const organizer = await createAccount(app.platform, 'organizer', 'organizer.supporters@example.org');
    const letter = (await app.platform.repositories.letters.findBySlug(letterSlug))!;
    await app.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.id })
      .where('id', '=', letter.id)
      .execute();
    const context = await downloadingContext(PHONE);
    const page = await context.newPage();
    await logIn(page, organizer.email);
    await page.goto(`/admin/letters/${letter.id}`);
    await page.getByRole('link', { name: "Supporters' list" }).click();
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      "Download this letter's supporters",
    );
    const { scroll, inner } = await pageWidths(page);
    expect(scroll, (await overflowingElements(page)).join(', ')).toBeLessThanOrEqual(375);
    expect(inner).toBe(375);
    await expectNoSeriousViolations(page);

    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download the list' }).click(),
    ]);
    const file = path.join(downloads, `organizer-${download.suggestedFilename()}`);
    await download.saveAs(file);
    const rows = parse(readFileSync(file).subarray(3).toString('utf8')) as string[][];
    const name = rows[0]!.indexOf('public_name');
    // Confirmed signatures of this letter only, each as its supporter chose: Park Min-su is counted without a name.
    expect(
      rows
        .slice(1)
        .map((row) => row[name])
        .sort(),
    ).toEqual(['', 'Олена Коваленко', '김지훈']);
    const text = readFileSync(file, 'utf8');
    for (const s of [EXPORTED[1]!, ...NOT_EXPORTED.slice(1), ...ELSEWHERE])
      expect(text).not.toContain(s.name);
    // Nobody here asked for news: no address leaves.
    for (const s of [...EXPORTED, ...NOT_EXPORTED]) expect(text).not.toContain(s.email);
    await context.close();
  });
});

describe('an admin whose session ended while typing', () => {
  it('is offered back a reason typed for an invalidation, and an invitation, once logged in again', async () => {
    // The login page said the page would offer it back; these forms were not marked to keep anything.
    const context = await downloadingContext();
    const page = await context.newPage();
    await logIn(page, admin.email);
    const { id } = await app.platform.db
      .selectFrom('signatures')
      .select('id')
      .where('full_name', '=', NOT_EXPORTED[0]!.name)
      .executeTakeFirstOrThrow();
    const reason = 'Signed from a list bought from a broker';
    await page.goto(`/admin/signatures/${id}/invalidate`);
    await page.locator('#field-reason').fill(reason);
    await app.platform.db.deleteFrom('sessions').execute();
    await page.locator('#invalidate-form button[type="submit"]').click();
    await page.waitForURL(/\/login\?/);
    await submitLogin(page, admin.email);
    await page.waitForURL(`**/admin/signatures/${id}/invalidate`);
    await expect(page.locator('#field-reason').inputValue()).resolves.toBe('');
    await page.getByRole('button', { name: 'Put back what I typed' }).click();
    await expect(page.locator('#field-reason').inputValue()).resolves.toBe(reason);

    await page.goto('/admin/users');
    await page.locator('#invite-form input[type="email"]').fill('new.colleague@example.org');
    await app.platform.db.deleteFrom('sessions').execute();
    await page.locator('#invite-form button[type="submit"]').click();
    await page.waitForURL(/\/login\?/);
    await submitLogin(page, admin.email);
    await page.waitForURL('**/admin/users');
    await page.getByRole('button', { name: 'Put back what I typed' }).click();
    await expect(page.locator('#invite-form input[type="email"]').inputValue()).resolves.toBe(
      'new.colleague@example.org',
    );
    // Nothing was done meanwhile: the signature stands and nobody was invited.
    await expect(
      app.platform.db
        .selectFrom('signatures')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow(),
    ).resolves.toEqual({ status: NOT_EXPORTED[0]!.status });
    await expect(
      app.platform.repositories.users.findByEmail('new.colleague@example.org'),
    ).resolves.toBeUndefined();
    await context.close();
  });
});

/** The admin and privacy pages of issue 5, in the state worth checking. */
const PAGES = () => [
  { url: '/admin/exports', shows: 'Export signatures' },
  { url: '/admin/signatures', shows: 'Invalidate' },
  { url: '/admin/signatures/bulk?domain=example.org', shows: '5 signatures would be invalidated' },
  { url: '/admin/erasure', shows: "Erase a person's data" },
  { url: '/admin/users', shows: admin.email },
  { url: '/admin/audit', shows: admin.email },
  { url: '/privacy/access', shows: 'What do you hold about me?' },
  { url: `/privacy/erase/${eraseToken}`, shows: 'Erase my data' },
];

describe('the admin and privacy pages, for every reader', () => {
  it('have no serious or critical axe-core violations', async () => {
    const context = await downloadingContext();
    const page = await context.newPage();
    await logIn(page, admin.email);
    for (const { url, shows } of PAGES()) {
      const response = await page.goto(url);
      expect(response?.status(), url).toBe(200);
      await expect(page.locator('main').innerText(), url).resolves.toContain(shows);
      await expectNoSeriousViolations(page);
    }
    await context.close();
  });

  it('do not scroll sideways on a 375 px phone', async () => {
    const context = await downloadingContext(PHONE);
    const page = await context.newPage();
    await logIn(page, admin.email);
    for (const { url, shows } of PAGES()) {
      await page.goto(url);
      await expect(page.locator('main').innerText(), url).resolves.toContain(shows);
      const { scroll, inner } = await pageWidths(page);
      const wide = await overflowingElements(page);
      expect(scroll, `${url} is ${scroll}px wide: ${wide.join(', ')}`).toBeLessThanOrEqual(375);
      // A phone browser zooms out to fit a page that is too wide, which widens innerWidth too.
      expect(inner, `${url}: zoomed out to fit ${scroll}px (${wide.join(', ')})`).toBe(375);
    }
    await context.close();
  });
});
