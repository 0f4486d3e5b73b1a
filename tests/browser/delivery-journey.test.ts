import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedLetters, readSeedLetters } from '../../seeds/seed-loader.js';
import type { User } from '../../server/accounts/account.js';
import { createI18n, fixedT } from '../../server/lib/i18n.js';
import { createAccount } from '../support/accounts.js';
import {
  launchBrowser,
  logIn,
  newContext,
  reloadUntil,
  startApp,
  type RunningApp,
} from '../support/browser.js';

const SLUG = 'coalition-letter-embassy-seoul';

describe('an organizer sends a test delivery, then delivers the letter to its recipients', () => {
  let app: RunningApp;
  let browser: Browser;
  let admin: User;
  const seed = readSeedLetters().find((s) => s.slug === SLUG)!;
  const recipients = seed.recipients;
  // Each recipient gets the letter in their language (the demo's Ukrainian offices read Ukrainian).
  const titleIn = (language: string) => (seed.translations[language] ?? seed.translations.en!).title;
  const i18n = createI18n();
  const testMarkIn = (language: string) =>
    fixedT(i18n, language)('emails.letter-delivery.testSubject', { title: '', recipient: '' }).split(' ')[0]!;

  beforeAll(async () => {
    app = await startApp();
    // As npm start runs them: compiling rounds and triggering deliveries happen in the scheduler.
    app.platform.scheduler.start();
    await loadSeedLetters(app.platform.db, new Date());
    admin = await createAccount(app.platform, 'admin', 'coordinator@example.org');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('tests first, delivers second, and the captured mail and the public page show where the letter went', async () => {
    // The letter has several recipients, so each loop over them below checks something.
    expect(recipients.length).toBeGreaterThan(1);
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await logIn(page, admin.email);

    // From the letter's editor to its delivery page.
    const letter = await app.platform.repositories.letters.findBySlug(SLUG);
    await page.goto(`/admin/letters/${letter!.id}`);
    await page.getByRole('link', { name: 'Delivery' }).click();
    await page.waitForURL(`**/admin/letters/${letter!.id}/delivery`);
    const main = page.locator('main');
    // Nothing can be delivered before a test: the page says so and offers no delivery.
    await expect(main.innerText()).resolves.toContain('Send a test first');
    await expect(page.getByRole('link', { name: 'Deliver now…' }).count()).resolves.toBe(0);

    // The test goes to the organizer's own address, and only there.
    await page.getByRole('button', { name: 'Send a test to my address' }).click();
    await page.waitForURL(/done=testQueued/);
    await reloadUntil(page, async () => (await main.innerText()).includes('Sent'), 'the test to be sent');
    await expect(main.innerText()).resolves.toContain('Test delivery');

    await page.goto('/admin/mailbox');
    // One test for each language the recipients read, marked as a test in that language.
    const languages = [...new Set(recipients.map((r) => r.language))];
    const testRows = page.locator('table.mailbox tbody tr', { hasText: admin.email });
    await expect(testRows.count()).resolves.toBe(languages.length);
    for (const language of languages) {
      const row = testRows.filter({ hasText: titleIn(language) });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.innerText()).resolves.toContain(testMarkIn(language));
    }
    for (const r of recipients)
      await expect(page.locator('table.mailbox tbody tr', { hasText: r.email }).count()).resolves.toBe(0);
    // A test is not a delivery: a supporter reading the letter is told of none.
    const reader = await browser.newContext({ baseURL: app.baseUrl });
    const publicPage = await reader.newPage();
    await publicPage.goto(`/letters/${SLUG}`);
    await expect(publicPage.locator('.sent-record').count()).resolves.toBe(0);

    // Now "Deliver now…" appears; it asks first, listing who will receive the letter.
    await page.goto(`/admin/letters/${letter!.id}/delivery`);
    await page.getByRole('link', { name: 'Deliver now…' }).click();
    await page.waitForURL('**/delivery/deliver');
    for (const r of recipients) await expect(main.innerText()).resolves.toContain(r.name);
    await page.getByRole('button', { name: `Yes, deliver to ${recipients.length} recipients` }).click();
    await page.waitForURL(/done=deliveryQueued/);

    // The record fills in as each compiled letter is accepted by the receiving server, by itself: a
    // reload would clear what the organizer typed in the page's forms (public/delivery-progress.js).
    const recordRows = page.locator('.round').first().locator('tbody tr');
    await expect
      .poll(
        async () =>
          (await recordRows.count()) === recipients.length &&
          (await recordRows.filter({ hasText: 'Sent' }).count()) === recipients.length,
        { timeout: 30_000, message: 'every recipient to be sent the letter, without a reload' },
      )
      .toBe(true);
    await expect(page.locator('#delivery-record').getAttribute('data-refresh')).resolves.toBeNull();
    // A screen reader is told once the record stops changing (it changed in place, silently).
    await expect
      .poll(() => page.getByRole('status').filter({ hasText: 'Nothing more is on its way' }).count())
      .toBe(1);
    for (const r of recipients) await expect(main.innerText()).resolves.toContain(r.name);
    // A version is delivered once: the page now offers an update instead.
    await expect(page.getByRole('link', { name: 'Deliver now…' }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Send an update…' }).count()).resolves.toBe(1);

    // Each recipient's letter is in the captured mail, addressed to them, with the letter's title.
    await page.goto('/admin/mailbox');
    for (const r of recipients) {
      const row = page.locator('table.mailbox tbody tr', { hasText: r.email });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.innerText()).resolves.toContain(titleIn(r.language));
    }

    // A supporter reading the letter sees where it went, and when: once for each recipient.
    await publicPage.reload();
    const record = publicPage.locator('.sent-record');
    // One delivery, each recipient's institution on a line of its own (pages/delivery-record.ts).
    await expect(record.locator('.sent-record__delivery').count()).resolves.toBe(1);
    for (const r of recipients) await expect(record.innerText()).resolves.toContain(r.name);
    await expect(record.locator('.sent-record__institutions li').count()).resolves.toBe(recipients.length);
    await reader.close();
    await context.close();
  });
});
