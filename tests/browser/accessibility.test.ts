import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import {
  expectNoSeriousViolations,
  launchBrowser,
  logIn,
  newContext,
  pageWidths,
  PHONE,
  startApp,
  type RunningApp,
} from '../support/browser.js';

const LONG_TITLE = 'Do not forcibly repatriate North Korean soldiers captured in the war in Ukraine';

let app: RunningApp;
let browser: Browser;
let slug: string;

beforeAll(async () => {
  app = await startApp();
  // A long title, as real letters have, so long lines have to wrap on a phone (pages, e-mail subjects).
  ({ slug } = await createLetter(app.platform.db, new Date(), { title: LONG_TITLE }));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

interface Focused {
  tag: string;
  id: string;
  className: string;
  text: string;
  outlineStyle: string;
  outlineWidth: number;
  left: number;
  top: number;
}

/** What has keyboard focus now, and how it is drawn. */
async function focused(page: Page): Promise<Focused> {
  return page.evaluate<Focused>(`(() => {
    const el = document.activeElement;
    const style = getComputedStyle(el);
    const box = el.getBoundingClientRect();
    return {
      tag: el.tagName.toLowerCase(),
      id: el.id,
      className: el.className,
      text: el.textContent.trim(),
      outlineStyle: style.outlineStyle,
      outlineWidth: parseFloat(style.outlineWidth),
      left: box.left,
      top: box.top,
    };
  })()`);
}

describe('every page a supporter sees passes axe-core without serious or critical violations', () => {
  let context: BrowserContext;
  let page: Page;
  beforeAll(async () => {
    context = await newContext(browser, app);
    page = await context.newPage();
  });
  afterAll(async () => {
    await context.close();
  });

  it('the home page', async () => {
    const response = await page.goto('/');
    expect(response?.status()).toBe(200);
    await expectNoSeriousViolations(page);
  });

  it('a letter page', async () => {
    const response = await page.goto(`/letters/${slug}`);
    expect(response?.status()).toBe(200);
    await expectNoSeriousViolations(page);
  });

  it('a letter page showing the errors of a form sent empty', async () => {
    await page.goto(`/letters/${slug}`);
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/letters/${slug}/sign`)),
      page.getByRole('button', { name: 'Sign the letter' }).click(),
    ]);
    expect(response.status()).toBe(422);
    await page.waitForLoadState();
    await expect(page.getByRole('alert').innerText()).resolves.toContain('Please correct the following:');
    await expectNoSeriousViolations(page);
  });

  it('the check-your-inbox page', async () => {
    const response = await page.goto(`/letters/${slug}/check-your-inbox`);
    expect(response?.status()).toBe(200);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your inbox');
    await expectNoSeriousViolations(page);
  });

  it('the privacy page', async () => {
    const response = await page.goto('/privacy');
    expect(response?.status()).toBe(200);
    await expectNoSeriousViolations(page);
  });

  it("a letter's privacy notice", async () => {
    const response = await page.goto(`/letters/${slug}/privacy`);
    expect(response?.status()).toBe(200);
    await expectNoSeriousViolations(page);
  });

  it('a page that does not exist', async () => {
    const response = await page.goto('/no-such-page');
    expect(response?.status()).toBe(404);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Page not found');
    await expectNoSeriousViolations(page);
  });
});

describe('a supporter on a phone', () => {
  it('reads the letter without scrolling sideways and can reach the submit button', async () => {
    const context = await newContext(browser, app, PHONE);
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);

    const letter = await pageWidths(page);
    expect(letter.inner).toBe(375);
    expect(letter.scroll, 'the page is wider than the phone screen').toBeLessThanOrEqual(letter.inner);

    const submit = page.getByRole('button', { name: 'Sign the letter' });
    await submit.scrollIntoViewIfNeeded();
    const box = await submit.boundingBox();
    expect(box, 'the submit button is laid out').not.toBeNull();
    expect(box!.x).toBeGreaterThanOrEqual(0);
    expect(box!.x + box!.width).toBeLessThanOrEqual(375);
    // A comfortable touch target, and nothing covers it.
    expect(box!.height).toBeGreaterThanOrEqual(40);
    await submit.click({ trial: true });
    await context.close();
  });

  it('sees the list of mistakes at once after sending the form with mistakes, without scrolling to find it', async () => {
    const context = await newContext(browser, app, PHONE);
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);
    await page.getByRole('button', { name: 'Sign the letter' }).click();
    await page.waitForURL(`**/letters/${slug}/sign`);
    await page.waitForLoadState();

    // On a phone the form comes after the whole letter; the summary must be brought into view.
    const summary = page.getByRole('alert');
    const box = (await summary.boundingBox())!;
    expect(box.y, 'the top of the error summary is on screen').toBeGreaterThanOrEqual(0);
    expect(box.y, 'the top of the error summary is on screen').toBeLessThan(740);
    // Focus is on the summary, so a screen reader reads it and Tab goes on to its links.
    await expect(focused(page)).resolves.toMatchObject({ tag: 'div', className: 'error-summary' });
    await context.close();
  });

  it('never has to scroll sideways on any page of the journey, the captured mail included', async () => {
    // A confirmation e-mail (long subject, long address), so the captured-mail pages have something to lay out.
    const letter = (await app.platform.repositories.letters.findBySlug(slug))!;
    const email = 'a-rather-long-address-for-a-small-screen@example.org';
    await app.platform.appDeps.signatures.sign(
      letter,
      {
        fullName: 'Choi Eun-ji',
        email,
        country: 'KR',
        city: '',
        organisation: '',
        jobTitle: '',
        display: 'hidden',
        consentUpdates: false,
      },
      { language: 'en', interfaceLanguage: 'en', ip: '127.0.0.1' },
    );
    const context = await newContext(browser, app, PHONE);
    const page = await context.newPage();
    const message = page.locator('table.mailbox tbody tr', { hasText: email }).getByRole('link');
    // The captured mailbox is an admin's page.
    await logIn(page, (await createAccount(app.platform, 'admin')).email);
    for (let tries = 0; ; tries++) {
      await page.goto('/admin/mailbox');
      if ((await message.count()) > 0) break;
      if (tries > 100) throw new Error('the confirmation e-mail never reached the captured mailbox');
      await page.waitForTimeout(100);
    }
    const messageUrl = (await message.getAttribute('href'))!;

    for (const url of [
      '/',
      `/letters/${slug}`,
      `/letters/${slug}/check-your-inbox`,
      `/letters/${slug}/thank-you`,
      '/privacy',
      `/letters/${slug}/privacy`,
      '/no-such-page',
      '/admin/mailbox',
      messageUrl,
    ]) {
      await page.goto(url);
      const { scroll, inner } = await pageWidths(page);
      // A phone browser zooms out to fit a page that is too wide, which widens innerWidth too.
      expect(inner, `${url}: the browser zoomed out to fit a page ${scroll}px wide`).toBe(375);
      expect(scroll, `${url} is ${scroll}px wide on a 375px screen`).toBeLessThanOrEqual(375);
    }
    await context.close();
  });
});

describe('a supporter on a desktop screen', () => {
  it('can always see the recent signatories: the signing form never slides over them while scrolling', async () => {
    const context = await newContext(browser, app, { viewport: { width: 1280, height: 800 } });
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);
    const height = await page.evaluate<number>('document.documentElement.scrollHeight');
    for (let y = 0; y <= height; y += 200) {
      await page.evaluate(`window.scrollTo(0, ${y})`);
      const sign = (await page.locator('section.sign').boundingBox())!;
      const recent = (await page.locator('section.recent').boundingBox())!;
      const overlaps =
        sign.x < recent.x + recent.width &&
        recent.x < sign.x + sign.width &&
        sign.y < recent.y + recent.height &&
        recent.y < sign.y + sign.height;
      expect(
        overlaps,
        `at scroll ${y}, the form (${JSON.stringify(sign)}) covers the signatories (${JSON.stringify(recent)})`,
      ).toBe(false);
    }
    await context.close();
  });
});

describe('a supporter who asked their system for less motion', () => {
  it("sees the proof of work's spinner still, and no other animation", async () => {
    const context = await newContext(browser, app, { reducedMotion: 'reduce' });
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);
    await page.waitForFunction(
      '[...document.styleSheets].some((s) => (s.href ?? "").endsWith("altcha.css"))',
    );
    // The widget's spinner, as it shows while the browser works: altcha.css turns it every 0.6 s.
    const animation = await page.evaluate<{ duration: string; count: string }>(`(() => {
      const spinner = document.createElement('div');
      spinner.className = 'altcha-spinner';
      document.body.append(spinner);
      const style = getComputedStyle(spinner);
      return { duration: style.animationDuration, count: style.animationIterationCount };
    })()`);
    expect(animation.count).toBe('1');
    expect(parseFloat(animation.duration)).toBeLessThan(0.001);
    await context.close();
  });
});

describe('a supporter using the keyboard', () => {
  it('sees where the focus is, starting with a skip link that jumps to the content', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);

    const skip = page.getByRole('link', { name: 'Skip to the main content' });
    // Off-screen until focused.
    expect((await skip.boundingBox())!.x).toBeLessThan(0);

    await page.keyboard.press('Tab');
    const first = await focused(page);
    expect(first).toMatchObject({ tag: 'a', text: 'Skip to the main content', outlineStyle: 'solid' });
    expect(first.outlineWidth).toBeGreaterThanOrEqual(2);
    // Now on screen, where a sighted keyboard user sees it.
    expect(first.left).toBeGreaterThanOrEqual(0);
    expect(first.top).toBeGreaterThanOrEqual(0);

    // Following it moves focus to the main content.
    await page.keyboard.press('Enter');
    await expect(focused(page)).resolves.toMatchObject({ tag: 'main', id: 'main' });

    // The next stop, the site name in the header, shows the focus style too.
    await page.goto(`/letters/${slug}`);
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    const second = await focused(page);
    expect(second).toMatchObject({ tag: 'a', text: 'Undersigned', outlineStyle: 'solid' });
    expect(second.outlineWidth).toBeGreaterThanOrEqual(2);
    await context.close();
  });
});

describe('a supporter whose browser runs no JavaScript', () => {
  it('is shown what to fix, fixes it, and is asked to check their inbox', async () => {
    // On a phone, the worst case: the form comes after the whole letter.
    const context = await newContext(browser, app, {
      javaScriptEnabled: false,
      viewport: { width: 375, height: 740 },
      isMobile: true,
    });
    const page = await context.newPage();
    await page.goto(`/letters/${slug}`);

    await page.getByRole('textbox', { name: /Your name/ }).fill('Lee Seo-yeon');
    await page.getByRole('textbox', { name: /E-mail address/ }).fill('not-an-address');
    const [refused] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith(`/letters/${slug}/sign`)),
      page.getByRole('button', { name: 'Sign the letter' }).click(),
    ]);
    expect(refused.status()).toBe(422);
    await page.waitForLoadState();

    const summary = page.getByRole('alert');
    const box = (await summary.boundingBox())!;
    expect(box.y, 'the error summary is brought into view without script').toBeGreaterThanOrEqual(0);
    expect(box.y, 'the error summary is brought into view without script').toBeLessThan(740);
    await expect(summary.innerText()).resolves.toContain(
      'Enter an e-mail address in the form name@example.org.',
    );
    await expect(summary.innerText()).resolves.toContain('Choose your country from the list.');
    await expect(summary.innerText()).resolves.toContain('Tick the box to agree to the privacy notice');
    const emailField = page.getByRole('textbox', { name: /E-mail address/ });
    await expect(emailField.getAttribute('aria-invalid')).resolves.toBe('true');
    // What was typed is kept.
    await expect(page.getByRole('textbox', { name: /Your name/ }).inputValue()).resolves.toBe('Lee Seo-yeon');

    await emailField.fill('seo-yeon@example.org');
    await page.getByRole('combobox', { name: /Country/ }).selectOption('KR');
    await page.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await page.getByRole('button', { name: 'Sign the letter' }).click();
    await page.waitForURL(`**/letters/${slug}/check-your-inbox`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your inbox');
    await context.close();
  });
});
