import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccount, TEST_PASSWORD } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createI18n } from '../../server/lib/i18n.js';
import { EmailTemplates } from '../../server/mail/email-templates.js';
import { signatureToken } from '../../server/mail/signature-tokens.js';
import {
  launchBrowser,
  overflowingElements,
  pageWidths,
  startApp,
  waitForMailTo,
  type RunningApp,
} from '../support/browser.js';

const LETTER_TITLE = 'Protect the captured soldiers';

describe('a supporter signs a letter in a real browser', () => {
  let app: RunningApp;
  let browser: Browser;
  let slug: string;

  beforeAll(async () => {
    app = await startApp();
    ({ slug } = await createLetter(app.platform.db, new Date(), { title: LETTER_TITLE }));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('signs with her initials, confirms from the e-mail, and is counted and listed by initials only', async () => {
    const name = 'Park Min-seo';
    const email = 'min-seo.park@example.org';
    const context = await browser.newContext({ baseURL: app.baseUrl });
    const page = await context.newPage();

    // Min-seo opens the site and finds the letter among the open ones.
    await page.goto('/');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Open letters');
    await page.getByRole('link', { name: LETTER_TITLE, exact: true }).click();
    await page.waitForURL(`**/letters/${slug}`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(LETTER_TITLE);

    // No one has signed yet.
    await expect(page.locator('.stats__count').textContent()).resolves.toBe('0 signatures');
    await expect(page.locator('.recent').innerText()).resolves.toContain('No one has signed yet');

    // She fills in the form, asks to be shown by her initials only, and agrees to the privacy notice.
    await page.getByRole('textbox', { name: /Your name/ }).fill(name);
    await page.getByRole('textbox', { name: /E-mail address/ }).fill(email);
    await page.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
    const initials = page.getByRole('radio', { name: 'My initials and country' });
    await initials.check();
    await expect(initials.isChecked()).resolves.toBe(true);
    await page.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await page.getByRole('button', { name: 'Sign the letter' }).click();

    // She is told to look for the confirmation e-mail; nothing is counted yet.
    await page.waitForURL(`**/letters/${slug}/check-your-inbox`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Check your inbox');
    await expect(page.locator('main').innerText()).resolves.toContain('not counted until you confirm');

    // Her inbox is the captured-mail viewer; the mail worker sends in the background. It shows every
    // supporter's address, so only an admin reads it: the person trying the platform logs in first,
    // as the console told them, and is brought back to it.
    const operator = await createAccount(app.platform, 'admin');
    await page.goto('/admin/mailbox');
    await page.waitForURL('**/login?next=*');
    await page.getByRole('textbox', { name: 'E-mail address' }).fill(operator.email);
    await page.getByLabel('Password').fill(TEST_PASSWORD);
    await page.getByRole('button', { name: 'Log in' }).click();
    await page.waitForURL('**/admin/mailbox');
    await waitForMailTo(page, email);
    const message = page.locator('table.mailbox tbody tr', { hasText: email }).getByRole('link');
    await expect(message.textContent()).resolves.toBe(`Please confirm your signature: ${LETTER_TITLE}`);
    await message.click();
    await page.waitForURL('**/admin/mailbox/*.eml');

    // The button in the message's preview works too: it opens the Confirm page in a new tab.
    const reader = await context.newPage();
    await reader.goto(page.url());
    const [confirmTab] = await Promise.all([
      context.waitForEvent('page'),
      reader.frameLocator('iframe.mail-html').getByRole('link', { name: 'Confirm my signature' }).click(),
    ]);
    await confirmTab.waitForURL('**/signatures/confirm/**');
    await expect(confirmTab.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Confirm your signature',
    );
    await confirmTab.close();
    await reader.close();

    // She follows the confirm link; the link is built from PUBLIC_URL, which is this server.
    await expect(page.getByRole('heading', { name: 'Links in this message' }).isVisible()).resolves.toBe(
      true,
    );
    const confirmLink = page.locator(
      'h2:text-is("Links in this message") + ul a[href*="/signatures/confirm/"]',
    );
    await expect(confirmLink.count()).resolves.toBe(1);
    await expect(confirmLink.getAttribute('href')).resolves.toMatch(
      new RegExp(`^${app.baseUrl}/signatures/confirm/`),
    );
    await confirmLink.click();
    await page.waitForURL('**/signatures/confirm/**');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Confirm your signature',
    );

    // Opening the link confirmed nothing: a person has to press the button.
    await expect(app.platform.repositories.letters.findBySlug(slug)).resolves.toMatchObject({
      signatureCount: 0,
    });
    await page.getByRole('button', { name: 'Confirm my signature' }).click();

    // The e-mail's link chose English (?lang=en, which sets no cookie): the next pages keep it.
    await page.waitForURL(`**/letters/${slug}/thank-you?lang=en`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
      'Thank you for signing',
    );
    await expect(page.locator('main').innerText()).resolves.toContain('1 person has signed so far.');

    // Back on the letter, she is counted and listed by her initials, never by her name or address.
    await page.getByRole('link', { name: 'Back to the letter' }).click();
    await page.waitForURL(`**/letters/${slug}?lang=en`);
    await expect(page.locator('.stats__count').textContent()).resolves.toBe('1 signature');
    const signatories = page.locator('.recent .signatories li');
    await expect(signatories.allInnerTexts()).resolves.toEqual(['P. M.-S. (South Korea)']);
    const html = await page.content();
    expect(html).not.toContain(name);
    expect(html).not.toContain('Park');
    expect(html).not.toContain(email);

    await context.close();
  });
});

describe('a supporter on a phone opens the links in her e-mail', () => {
  let app: RunningApp;
  let browser: Browser;
  let letterId: number;

  beforeAll(async () => {
    app = await startApp();
    ({ id: letterId } = await createLetter(app.platform.db, new Date(), {
      title: 'Let them choose freedom: an appeal to the President and First Lady of Ukraine',
    }));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** The ref of a signature stored directly, with the given status. */
  async function storedRef(status: 'pending' | 'confirmed', name: string): Promise<string> {
    const id = await storeSignature(app.platform.db, app.platform.appDeps.secret, letterId, {
      name,
      email: `${status}.${name.split(' ')[0]!.toLowerCase()}@example.org`,
      status,
      country: 'UA',
      createdAt: new Date().toISOString(),
    });
    const { ref } = await app.platform.db
      .selectFrom('signatures')
      .select('ref')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    return ref;
  }

  it('reads which letter and name the Confirm and Withdraw pages act on, the button near, nothing sideways', async () => {
    const pending = await storedRef('pending', 'Olena Kovalenko');
    const confirmed = await storedRef('confirmed', 'Mykola Shevchenko');
    const width = 390;
    const context = await browser.newContext({
      baseURL: app.baseUrl,
      viewport: { width, height: 844 },
      isMobile: true,
      hasTouch: true,
    });
    const page = await context.newPage();
    for (const [path, button] of [
      [
        `/signatures/confirm/${signatureToken(app.platform.appDeps.secret, pending, 'confirm')}`,
        'form button',
      ],
      [
        `/signatures/withdraw/${signatureToken(app.platform.appDeps.secret, confirmed, 'withdraw')}`,
        'form button',
      ],
    ] as const) {
      for (const language of ['en', 'ko', 'uk']) {
        await page.goto(`${path}?lang=${language}`);
        const where = `${path.split('/')[2]!} (${language})`;
        // The long label ("Once confirmed, your signature will appear as") took the row, leaving the
        // title and the name a 0 px column, one character a line: the page was 481 px wide, 7,000 tall.
        const { scroll } = await pageWidths(page);
        expect(scroll, `${where}: ${(await overflowingElements(page)).join(', ')}`).toBeLessThanOrEqual(
          width,
        );
        for (const value of await page.locator('.signature-about dd').all()) {
          const box = (await value.boundingBox())!;
          expect(box.width, `${where}: a value of the signature's details`).toBeGreaterThanOrEqual(200);
        }
        const box = (await page.locator(button).first().boundingBox())!;
        expect(box.x + box.width, `${where}: the button ends on screen`).toBeLessThanOrEqual(width);
        expect(box.y + box.height, `${where}: the button is on the first screen`).toBeLessThanOrEqual(844);
      }
    }
    await context.close();
  });
});

describe('the confirmation e-mail on a phone', () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await launchBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('wraps a very long name without spaces rather than widening the message', async () => {
    const name = 'Ж'.repeat(120);
    const { html } = new EmailTemplates(createI18n()).render('signature-confirmation', 'uk', {
      name,
      appearsAs: `${name}, Україна`,
      letterTitle: 'Дайте їм обрати свободу',
      letterLanguage: 'uk',
      confirmUrl: 'https://undersigned.example/signatures/confirm/x',
      receiptsUrl: 'https://undersigned.example/signatures/receipts/x',
      letterUrl: 'https://undersigned.example/letters/x',
      withdrawUrl: 'https://undersigned.example/signatures/withdraw/x',
      privacyUrl: 'https://undersigned.example/privacy',
      eraseUrl: 'https://undersigned.example/privacy/erase/x',
    });
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true });
    const page = await context.newPage();
    await page.setContent(html);
    const { scroll } = await pageWidths(page);
    // It was 1,858 px wide: the name ran out of the 600 px column.
    expect(scroll, `the message is ${scroll}px wide`).toBeLessThanOrEqual(390);
    await context.close();
  });
});
