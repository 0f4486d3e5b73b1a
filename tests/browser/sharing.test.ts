import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { launchBrowser, newContext, PHONE, startApp, type RunningApp } from '../support/browser.js';

let app: RunningApp;
let browser: Browser;
let slug: string;

beforeAll(async () => {
  app = await startApp();
  ({ slug } = await createLetter(app.platform.db, new Date(), { title: 'Protect the captured soldiers' }));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

describe('the share panel in a browser', () => {
  it('copies the link with its button, and loads nothing from another site', async () => {
    const context = await newContext(browser, app);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: app.baseUrl });
    const page = await context.newPage();
    const requested: string[] = [];
    page.on('request', (r) => requested.push(r.url()));
    await page.goto(`/letters/${slug}?lang=en`);
    const url = `${app.baseUrl}/letters/${slug}?lang=en`;
    await expect.poll(() => page.locator('#share-url').inputValue()).toBe(url);

    await page.getByRole('button', { name: 'Copy link' }).click();
    await expect.poll(() => page.evaluate('navigator.clipboard.readText()')).toBe(url);
    await expect.poll(() => page.locator('.share__copy [role="status"]').textContent()).toBe('Link copied.');
    expect(requested.filter((r) => !r.startsWith(app.baseUrl))).toEqual([]);
    await context.close();
  });

  it('opens the device’s share sheet from the KakaoTalk link where there is one', async () => {
    const context = await newContext(browser, app, PHONE);
    // A share sheet that records what it was given (headless Chromium has none of its own).
    await context.addInitScript(
      'window.__shared = []; navigator.share = async (data) => { window.__shared.push(data); };',
    );
    const page = await context.newPage();
    await page.goto(`/letters/${slug}?lang=ko`);
    await page.locator('a.share__link--kakaotalk').click();
    expect(await page.evaluate('window.__shared')).toEqual([
      { title: 'Protect the captured soldiers', url: `${app.baseUrl}/letters/${slug}?lang=ko&text=en` },
    ]);
    await context.close();
  });

  it('works without JavaScript: the link is in a field to select, and no button pretends to copy', async () => {
    const context = await newContext(browser, app, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto(`/letters/${slug}?lang=uk`);
    const field = page.locator('#share-url');
    expect(await field.inputValue()).toBe(`${app.baseUrl}/letters/${slug}?lang=uk&text=en`);
    expect(await field.getAttribute('readonly')).toBe('');
    expect(await page.locator('.share button').count()).toBe(0);
    // The KakaoTalk entry leads to that field.
    await page.locator('a.share__link--kakaotalk').click();
    expect(new URL(page.url()).hash).toBe('#share-url');
    await context.close();
  });
});
