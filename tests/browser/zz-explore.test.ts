import { it } from 'vitest';
import { loadSeedRecipients } from '../../seeds/seed-loader.js';
import { createAccount, TEST_PASSWORD } from '../support/accounts.js';
import { launchBrowser, startApp } from '../support/browser.js';

it('explore', async () => {
  const app = await startApp();
  await loadSeedRecipients(app.platform.db, new Date());
  const user = await createAccount(app.platform, 'organizer');
  const browser = await launchBrowser();
  for (const [name, viewport] of [['desktop', { width: 1280, height: 900 }], ['phone', { width: 375, height: 740 }]] as const) {
    const context = await browser.newContext({ baseURL: app.baseUrl, viewport, isMobile: name === 'phone' });
    const page = await context.newPage();
    await page.goto('/login');
    await page.screenshot({ path: `/tmp/explore/${name}-login.png`, fullPage: true });
    await page.getByLabel('E-mail address').fill(user.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/admin');
    await page.screenshot({ path: `/tmp/explore/${name}-dashboard.png`, fullPage: true });
    await page.goto('/admin/letters/templates');
    await page.screenshot({ path: `/tmp/explore/${name}-templates.png`, fullPage: true });
    await page.locator('form[action$="freedom-to-choose-asylum"] button').click();
    await page.waitForURL(/\/admin\/letters\/\d+/);
    await page.waitForTimeout(1000);
    const h = (await page.evaluate('document.documentElement.scrollHeight')) as number;
    const step = name === 'phone' ? 1300 : 1500;
    for (let y = 0, i = 0; y < h; y += step, i++)
      await page.screenshot({ path: `/tmp/explore/${name}-editor-${String(i).padStart(2, '0')}.png`, fullPage: true, clip: { x: 0, y, width: viewport.width, height: Math.min(step, h - y) } });
    console.log(name, page.url(), await page.evaluate('[document.scrollingElement.scrollWidth, innerWidth]'));
    await context.close();
  }
  await browser.close();
  await app.close();
});
