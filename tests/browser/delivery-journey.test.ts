import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedLetters, readSeedLetters } from '../../seeds/seed-loader.js';
import type { User } from '../../server/accounts/account.js';
import { createAccount, TEST_PASSWORD } from '../support/accounts.js';
import { launchBrowser, startApp, type RunningApp } from '../support/browser.js';

const SLUG = 'coalition-letter-embassy-seoul';

/** Reloads `page` until `ready` says what it waits for is on it (the worker and scheduler run in the background). */
async function reloadUntil(page: Page, ready: () => Promise<boolean>, what: string): Promise<void> {
  const deadline = Date.now() + 20_000;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(250);
    await page.reload();
  }
}

describe('an organizer sends a test delivery, then delivers the letter to its recipients', () => {
  let app: RunningApp;
  let browser: Browser;
  let admin: User;
  const recipients = readSeedLetters().find((s) => s.slug === SLUG)!.recipients;

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
    const context = await browser.newContext({
      baseURL: app.baseUrl,
      viewport: { width: 1280, height: 900 },
    });
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByRole('textbox', { name: 'E-mail address' }).fill(admin.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL(/\/admin$/);

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

    await page.goto('/dev/mailbox');
    const testRow = page.locator('table.mailbox tbody tr', { hasText: admin.email });
    await expect(testRow.count()).resolves.toBe(1);
    await expect(testRow.innerText()).resolves.toContain('[TEST]');
    for (const r of recipients)
      await expect(page.locator('table.mailbox tbody tr', { hasText: r.email }).count()).resolves.toBe(0);

    // Now "Deliver now…" appears; it asks first, listing who will receive the letter.
    await page.goto(`/admin/letters/${letter!.id}/delivery`);
    await page.getByRole('link', { name: 'Deliver now…' }).click();
    await page.waitForURL('**/delivery/deliver');
    for (const r of recipients) await expect(main.innerText()).resolves.toContain(r.name);
    await page.getByRole('button', { name: `Yes, deliver to ${recipients.length} recipients` }).click();
    await page.waitForURL(/done=deliveryQueued/);

    // The record fills in as each compiled letter is accepted by the receiving server.
    const recordRows = page.locator('.round').first().locator('tbody tr');
    await reloadUntil(
      page,
      async () =>
        (await recordRows.count()) === recipients.length &&
        (await recordRows.filter({ hasText: 'Sent' }).count()) === recipients.length,
      'every recipient to be sent the letter',
    );
    for (const r of recipients) await expect(main.innerText()).resolves.toContain(r.name);
    // A version is delivered once: the page now offers an update instead.
    await expect(page.getByRole('link', { name: 'Deliver now…' }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'Send an update…' }).count()).resolves.toBe(1);

    // Each recipient's letter is in the captured mail, addressed to them, with the letter's title.
    await page.goto('/dev/mailbox');
    for (const r of recipients) {
      const row = page.locator('table.mailbox tbody tr', { hasText: r.email });
      await expect(row.count()).resolves.toBe(1);
      await expect(row.innerText()).resolves.toContain('No forced return');
    }

    // A supporter reading the letter sees where it went, and when.
    const reader = await browser.newContext({ baseURL: app.baseUrl });
    const publicPage = await reader.newPage();
    await publicPage.goto(`/letters/${SLUG}`);
    const record = publicPage.locator('.sent-record');
    for (const r of recipients) await expect(record.innerText()).resolves.toContain(`Sent to ${r.name} on`);
    await expect(record.innerText()).resolves.not.toContain(admin.email);
    await reader.close();
    await context.close();
  });
});
