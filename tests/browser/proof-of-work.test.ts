import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { expectNoSeriousViolations, launchBrowser, startApp, type RunningApp } from '../support/browser.js';

describe('the proof-of-work widget in a real browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let slug: string;

  beforeAll(async () => {
    app = await startApp();
    ({ slug } = await createLetter(app.platform.db, new Date()));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('solves the challenge when the supporter signs, under the real CSP, with nothing from another origin', async () => {
    const context = await browser.newContext({ baseURL: app.baseUrl });
    const page = await context.newPage();
    const problems: string[] = [];
    const foreign: string[] = [];
    page.on('console', (message) => {
      // Chromium reports each CSP refusal as a console error.
      if (message.type() === 'error') problems.push(message.text());
    });
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('request', (request) => {
      const url = new URL(request.url());
      if (!['http:', 'https:'].includes(url.protocol) || url.origin !== app.baseUrl) {
        if (!url.protocol.startsWith('data')) foreign.push(request.url());
      }
    });

    await page.goto(`/letters/${slug}`);
    // The widget is defined (its script ran) and its worker is registered by ours.
    await page.waitForFunction("customElements.get('altcha-widget') !== undefined");
    // The widget adds nothing that makes the form harder to use.
    await expectNoSeriousViolations(page);

    await page.getByRole('textbox', { name: /Your name/ }).fill('Lee Seo-yeon');
    await page.getByRole('textbox', { name: /E-mail address/ }).fill('seo-yeon@example.org');
    await page.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
    await page.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await page.getByRole('button', { name: 'Sign the letter' }).click();
    // While it works, the widget says so, in English.
    await page.getByText('Verifying...').first().waitFor({ timeout: 10_000 });

    // The widget solves first, then sends the form itself.
    await page.waitForURL(`**/letters/${slug}/check-your-inbox`, { timeout: 45_000 });

    const row = await app.platform.db
      .selectFrom('signatures')
      .select(['suspect_reasons', 'review_reasons'])
      .where('email', '=', 'seo-yeon@example.org')
      .executeTakeFirstOrThrow();
    expect(row).toEqual({ suspect_reasons: null, review_reasons: null });
    expect(problems).toEqual([]);
    expect(foreign).toEqual([]);
    await context.close();
  });

  it('speaks Korean on a Korean page, not English', async () => {
    const context = await browser.newContext({ baseURL: app.baseUrl });
    const page = await context.newPage();
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`/letters/${slug}?lang=ko`);
    await page.waitForFunction("customElements.get('altcha-widget') !== undefined");
    const widget = page.locator('altcha-widget');
    await expect(widget.innerText()).resolves.toContain('저는 로봇이 아닙니다');
    await expect(widget.innerText()).resolves.not.toContain('robot');
    // Reached by the keyboard, its checkbox has the site's focus ring, not the thin default one.
    const checkbox = widget.getByRole('checkbox');
    await checkbox.focus();
    await page.keyboard.press('Shift+Tab');
    await page.keyboard.press('Tab');
    await expect(
      page.evaluate<string>('getComputedStyle(document.activeElement).outlineWidth'),
    ).resolves.toBe('3px');
    await expect(
      page.evaluate<boolean>(
        "document.activeElement.type === 'checkbox' && !!document.activeElement.closest('altcha-widget')",
      ),
    ).resolves.toBe(true);
    expect(problems).toEqual([]);
    await context.close();
  });
});
