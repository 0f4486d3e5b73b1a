import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedLetters } from '../../seeds/seed-loader.js';
import type { User } from '../../server/accounts/account.js';
import { createAccount } from '../support/accounts.js';
import {
  expectNoSeriousViolations,
  launchBrowser,
  logIn,
  newContext,
  overflowingElements,
  pageWidths,
  reloadUntil,
  startApp,
  type RunningApp,
} from '../support/browser.js';

const SLUG = 'coalition-letter-embassy-seoul';
/** The narrowest phone the walkthrough held: 390 px wide. */
const PHONE_390 = { viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true } as const;

describe('an organizer goes Back to the asking page after delivering, on a phone', () => {
  let app: RunningApp;
  let browser: Browser;
  let admin: User;

  beforeAll(async () => {
    app = await startApp();
    // As npm start runs them: rounds are compiled by the scheduler.
    app.platform.scheduler.start();
    await loadSeedLetters(app.platform.db, new Date());
    admin = await createAccount(app.platform, 'admin', 'coordinator@example.org');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('reads that the version went, in each language, with its record and the update, and nothing to press twice', async () => {
    const context = await newContext(browser, app, PHONE_390);
    const page = await context.newPage();
    await logIn(page, admin.email);
    const letter = await app.platform.repositories.letters.findBySlug(SLUG);
    const delivery = `/admin/letters/${letter!.id}/delivery`;

    await page.goto(delivery);
    await page.getByRole('button', { name: 'Send a test to my address' }).click();
    await page.waitForURL(/done=testQueued/);
    await page.goto(delivery);
    await page.getByRole('link', { name: 'Deliver now…' }).click();
    await page.waitForURL('**/delivery/deliver');
    await page.getByRole('button', { name: /^Yes, deliver to \d+ recipients?$/ }).click();
    await page.waitForURL(/done=deliveryQueued/);

    // Back: the browser asks the server again (staff pages are no-store), which reads the delivery first.
    await page.goBack();
    await page.waitForURL('**/delivery/deliver');
    const main = page.locator('main');
    await expect(page.locator('h1').innerText()).resolves.toMatch(
      /^This version (is being|has already been) delivered$/,
    );
    await expect(main.innerText()).resolves.not.toContain('Deliver the letter now?');
    await expect(page.getByRole('button', { name: /^Yes, deliver/ }).count()).resolves.toBe(0);
    await expect(page.getByRole('link', { name: 'See it in the delivery record' }).count()).resolves.toBe(1);

    // Once its letters went, the page says so and offers the next step: an update with new figures.
    await reloadUntil(
      page,
      async () => (await page.locator('h1').innerText()) === 'This version has already been delivered',
      'the delivery to go',
    );
    await expect(page.getByRole('link', { name: 'Send an update…' }).getAttribute('href')).resolves.toBe(
      `${delivery}/update`,
    );

    for (const [lang, heading] of [
      ['en', /^This version has already been delivered$/],
      ['ko', /^이 버전은 이미 발송되었습니다$/],
      ['uk', /^Цю версію вже надіслано$/],
    ] as const) {
      await page.goto(`${delivery}/deliver?lang=${lang}`);
      await expect(page.locator('h1').innerText()).resolves.toMatch(heading);
      const widths = await pageWidths(page);
      expect(widths.scroll, (await overflowingElements(page)).join(', ')).toBeLessThanOrEqual(widths.inner);
      await page.screenshot({ path: `/tmp/h6-confirm-${lang}-390.png`, fullPage: true });
    }
    await expectNoSeriousViolations(page);
    await context.close();
  });
});
