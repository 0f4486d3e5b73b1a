import type { Server } from 'node:http';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock, type Clock } from '../../server/lib/clock.js';
import { readLanguage } from '../../server/lib/i18n.js';
import { createAccount } from '../support/accounts.js';
import { expectNoSeriousViolations, launchBrowser, logIn, PHONE } from '../support/browser.js';
import { createLetter } from '../support/factories.js';
import { freePort } from '../support/free-port.js';
import { linksIn, type SinkMessage } from '../support/smtp-sink.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

type Messages = { [key: string]: string | Messages };

const CATALOGS: Record<string, Messages> = {
  en: readLanguage('en'),
  ko: readLanguage('ko'),
  uk: readLanguage('uk'),
};

/** A text of a catalog by its key, with its {{placeholders}} filled in. */
function text(language: string, key: string, values: Record<string, string> = {}): string {
  let node: string | Messages | undefined = CATALOGS[language];
  for (const part of key.split('.')) node = typeof node === 'object' ? node[part] : undefined;
  if (typeof node !== 'string') throw new Error(`${language} has no text for ${key}`);
  return node.replace(/\{\{\s*(\w+)\s*\}\}/g, (_, name: string) => values[name] ?? '');
}

/**
 * The label a person sees in `language`, checked to differ from the English one: a page that fell
 * back to English cannot pass for Korean or Ukrainian.
 */
function label(language: string, key: string, values: Record<string, string> = {}): string {
  const shown = text(language, key, values);
  expect(shown, `${language} ${key} is translated`).not.toBe(text('en', key, values));
  return shown;
}

const exactly = (value: string) => new RegExp(`^\\s*${value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`);

const TEXTS = [
  {
    language: 'en',
    title: 'Protect the captured soldiers',
    summary: 'Two soldiers ask not to be sent back.',
    body: '{{recipient.salutation}},\n\nWe ask you to protect them.',
  },
  {
    language: 'ko',
    title: '포로가 된 병사들을 보호하십시오',
    summary: '두 병사는 송환되지 않기를 바랍니다.',
    body: '{{recipient.salutation}}\n\n그들을 보호해 주십시오.',
  },
  {
    language: 'uk',
    title: 'Захистіть полонених солдатів',
    summary: 'Двоє солдатів просять не повертати їх.',
    body: '{{recipient.salutation}}\n\nПросимо захистити їх.',
  },
];
const titleIn = (language: string) => TEXTS.find((t) => t.language === language)!.title;

const SUPPORTERS = [
  { language: 'ko', switcher: '한국어', name: '박민서', email: 'min-seo.park@example.org', country: 'KR' },
  {
    language: 'uk',
    switcher: 'Українська',
    name: 'Олена Коваленко',
    email: 'olena@example.org',
    country: 'UA',
  },
] as const;

describe('a supporter signs in Korean or in Ukrainian, by what the pages say', () => {
  let t: TestPlatform<Clock>;
  let server: Server;
  let baseUrl: string;
  let browser: Browser;
  let slug: string;

  beforeAll(async () => {
    // The real app on loopback, its mail over real SMTP to the sink: links name this server.
    const port = await freePort();
    baseUrl = `http://127.0.0.1:${port}`;
    t = await createTestPlatform({ env: { PUBLIC_URL: baseUrl }, clock: systemClock });
    server = await new Promise((resolve, reject) => {
      const s = t.app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
    });
    t.platform.worker!.start();
    ({ slug } = await createLetter(t.platform.db, new Date(), { texts: TEXTS }));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    if (server) {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    }
    await t?.close();
  });

  /** The confirmation e-mail to an address, once the worker has sent it. */
  async function confirmationTo(address: string): Promise<SinkMessage> {
    for (let waited = 0; waited < 15_000; waited += 100) {
      const message = t.sink.to(address).at(-1);
      if (message) return message;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`no mail to ${address}`);
  }

  for (const supporter of SUPPORTERS) {
    const { language } = supporter;
    it(`signs in ${supporter.switcher} and confirms from an e-mail written in it`, async () => {
      // An English browser: only the switcher makes the pages Korean or Ukrainian.
      const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-US' });
      const page = await context.newPage();
      await page.goto(`/letters/${slug}`);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe('en');

      // She chooses her language with the switcher, and comes back to the letter in it.
      const switcher = page.getByRole('navigation', { name: text('en', 'language.switcher') });
      await switcher.getByRole('link', { name: supporter.switcher, exact: true }).click();
      await page.waitForURL(`**/letters/${slug}`);
      await expect(page.locator('html').getAttribute('lang')).resolves.toBe(language);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(titleIn(language));

      // She fills in the form by its labels in her language.
      await page.getByRole('textbox', { name: exactly(label(language, 'form.name')) }).fill(supporter.name);
      await page.getByRole('textbox', { name: exactly(label(language, 'form.email')) }).fill(supporter.email);
      await page
        .getByRole('combobox', { name: exactly(label(language, 'form.country')) })
        .selectOption(supporter.country);
      await page.getByRole('radio', { name: label(language, 'form.displayInitials'), exact: true }).check();
      await page.getByRole('checkbox', { name: exactly(label(language, 'form.privacy')) }).check();
      await page.getByRole('button', { name: label(language, 'form.submit'), exact: true }).click();

      // "Check your inbox", in her language.
      await page.waitForURL(`**/letters/${slug}/check-your-inbox*`);
      await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        label(language, 'checkInbox.title'),
      );

      // The e-mail: subject and body in her language, the letter named as she read it, links that keep both.
      const mail = await confirmationTo(supporter.email);
      expect(mail.parsed.subject).toBe(
        label(language, 'emails.signature-confirmation.subject', { letterTitle: titleIn(language) }),
      );
      expect(mail.parsed.text).toContain(label(language, 'emails.signature-confirmation.why'));
      expect(mail.parsed.text).toContain(label(language, 'emails.footer.withdraw'));
      const links = linksIn(mail).filter((l) => l.startsWith(baseUrl));
      for (const link of links) expect(new URL(link).searchParams.get('lang'), link).toBe(language);
      const confirm = links.find((l) => l.includes('/signatures/confirm/'))!;
      expect(new URL(confirm).searchParams.get('text')).toBe(language);

      // She opens the link on another device, whose browser is English and has no cookie: the pages
      // are in her language because the link says so.
      const elsewhere = await browser.newContext({ baseURL: baseUrl, locale: 'en-US' });
      const phone = await elsewhere.newPage();
      await phone.goto(confirm);
      await expect(phone.locator('html').getAttribute('lang')).resolves.toBe(language);
      await expect(phone.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        label(language, 'confirm.title'),
      );
      await phone.getByRole('button', { name: label(language, 'confirm.button'), exact: true }).click();
      await phone.waitForURL(`**/letters/${slug}/thank-you*`);
      await expect(phone.locator('html').getAttribute('lang')).resolves.toBe(language);
      await expect(phone.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(
        label(language, 'thankYou.title'),
      );

      // Back to the letter: in the text she read, in her language.
      await phone.getByRole('link', { name: label(language, 'thankYou.back'), exact: true }).click();
      await phone.waitForURL(`**/letters/${slug}*`);
      await expect(phone.locator('html').getAttribute('lang')).resolves.toBe(language);
      await expect(phone.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(titleIn(language));
      await expect(t.platform.repositories.letters.findBySlug(slug)).resolves.toMatchObject({
        signatureCount: SUPPORTERS.indexOf(supporter) + 1,
      });

      await elsewhere.close();
      await context.close();
    });
  }
  it('lets a Ukrainian organizer choose Ukrainian for her e-mails on the account page, on a phone, accessibly', async () => {
    const organizer = await createAccount(t.platform, 'organizer');
    const context = await browser.newContext({ baseURL: baseUrl, locale: 'en-US', ...PHONE });
    const page = await context.newPage();
    await logIn(page, organizer.email);
    // She has chosen Ukrainian with the switcher before.
    await page.goto('/language/uk?next=/account/password');
    await page.waitForURL('**/account/password');
    const language = page.getByRole('combobox', {
      name: label('uk', 'account.emailLanguage.label'),
      exact: true,
    });
    await language.selectOption('uk');
    await page
      .getByRole('button', { name: label('uk', 'account.emailLanguage.submit'), exact: true })
      .click();
    await page.waitForURL('**/account/password?done=emailLanguageSaved');
    await expect(page.getByRole('status').textContent()).resolves.toBe(
      label('uk', 'account.notices.emailLanguageSaved'),
    );
    await expect(t.platform.repositories.users.findById(organizer.id)).resolves.toMatchObject({
      language: 'uk',
    });
    await expectNoSeriousViolations(page);
    await context.close();
  });
});
