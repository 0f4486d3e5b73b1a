import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSeedRecipients } from '../../seeds/seed-loader.js';
import type { User } from '../../server/accounts/account.js';
import { createAccount } from '../support/accounts.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import {
  launchBrowser,
  logIn,
  newContext,
  startApp,
  submitLogin,
  waitForMailTo,
  type RunningApp,
} from '../support/browser.js';

const TEMPLATE_TITLE = 'Let them choose freedom: an appeal to the President and First Lady of Ukraine';
const KOREAN_TITLE = '자유를 선택하게 해 주십시오: 우크라이나 대통령과 영부인께 드리는 호소';
const SLUG = 'let-them-choose-freedom';

/** A day `days` from today, as a date field takes it (the editor's dates are whole days in UTC). */
function dayFromNow(days: number): string {
  return new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
}

describe('an organizer writes a letter from a template and publishes it; a supporter signs it', () => {
  let app: RunningApp;
  let browser: Browser;
  let organizer: User;

  beforeAll(async () => {
    app = await startApp();
    // The shared directory, as a fresh installation has it: embassies, ministries, UN agencies.
    await loadSeedRecipients(app.platform.db, new Date());
    organizer = await createAccount(app.platform, 'organizer', 'ji-woo.kim@example.org');
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  /** A draft of the organizer's own, open in the editor of a new browser context; and its texts as saved. */
  async function editDraft(overrides: Parameters<typeof createLetter>[2]) {
    const { id } = await createLetter(app.platform.db, new Date(), { ...overrides, status: 'draft' });
    await app.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.id })
      .where('id', '=', id)
      .execute();
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await logIn(page, organizer.email);
    await page.goto(`/admin/letters/${id}`);
    const savedTexts = async () => {
      const letter = await app.platform.repositories.letters.findById(id);
      return app.platform.repositories.letters.textsOfVersion(letter!.currentVersionId);
    };
    return { id, context, page, savedTexts };
  }

  it('logs in, starts from the bilingual template, edits, previews, publishes, and the letter is signed', async () => {
    const closingDay = dayFromNow(60);
    const context = await newContext(browser, app);
    const page = await context.newPage();

    // Ji-woo, an organizer, opens the organizer pages and is asked to log in first.
    await page.goto('/admin');
    await page.waitForURL('**/login?next=%2Fadmin');
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Log in');
    await submitLogin(page, organizer.email);
    await page.waitForURL(/\/admin$/);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Dashboard');
    await expect(page.locator('main').innerText()).resolves.toContain('No letters yet');

    // She starts from a template: the gallery shows the demo letters, with their languages.
    await page.getByRole('link', { name: 'Start from a template' }).click();
    await page.waitForURL('**/admin/letters/templates');
    const template = page.getByRole('article', { name: TEMPLATE_TITLE });
    await expect(template.innerText()).resolves.toContain('English, Korean');
    await template.getByRole('button', { name: 'Use this template' }).click();

    // A draft copy opens in the editor, in English and in Korean.
    await page.waitForURL(/\/admin\/letters\/\d+\?done=created$/);
    const editorUrl = page.url().replace(/\?.*$/, '');
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('The draft was created');
    await expect(page.getByRole('group', { name: /^English/ }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('group', { name: /^Korean/ }).isVisible()).resolves.toBe(true);
    const englishBody = page.locator('#field-body_en');
    const koreanBody = page.locator('#field-body_ko');
    await expect(englishBody.inputValue()).resolves.toContain('{{recipient.salutation}},');
    await expect(koreanBody.inputValue()).resolves.toContain('저희는 북한을 탈출해');

    // She gives the letter its own address and a closing date two months ahead.
    await page.getByRole('textbox', { name: 'Web address' }).fill(SLUG);
    await page.getByLabel('Closes on').fill(closingDay);

    // The English letter greets each recipient by title instead of the stored salutation.
    const body = await englishBody.inputValue();
    await englishBody.fill(body.replace('{{recipient.salutation}},', 'Dear {{recipient.title}},'));

    // Besides the template's recipients in Ukraine, the letter goes to a ministry in Seoul that reads
    // Korean; once ticked, it can be chosen for the preview at once.
    const recipientChoice = page.getByRole('combobox', { name: 'Recipient' });
    const languageChoice = page.getByRole('combobox', { name: 'Language', exact: true });
    const recipientOptions = recipientChoice.locator('option');
    await expect(recipientOptions.allInnerTexts()).resolves.toEqual([
      'Office of the First Lady of Ukraine',
      'Office of the President of Ukraine',
    ]);
    const ministry = page.getByRole('checkbox', { name: /^Ministry of Unification/ });
    await expect(ministry.isChecked()).resolves.toBe(false);
    await ministry.check();
    await expect(recipientOptions.allInnerTexts()).resolves.toEqual([
      'Ministry of Unification',
      'Office of the First Lady of Ukraine',
      'Office of the President of Ukraine',
    ]);

    // She previews the English letter for the President of Ukraine...
    const previewStatus = page.locator('#preview-status');
    const previewText = page.locator('#preview-text');
    // The e-mail's HTML part, in its sandboxed frame.
    const previewHtml = page.frameLocator('#preview-email').locator('html');
    await recipientChoice.selectOption({ label: 'Office of the President of Ukraine' });
    await languageChoice.selectOption({ label: 'English' });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.waitForURL(`${editorUrl}#preview`);
    await expect(previewStatus.innerText()).resolves.toContain(
      'Preview for Office of the President of Ukraine, in English.',
    );
    await expect(previewText.innerText()).resolves.toContain('Dear President of Ukraine,');
    await expect(previewText.innerText()).resolves.toContain('Mr President, we know how heavy');
    await expect(previewHtml.innerText()).resolves.toContain('Dear President of Ukraine,');
    // Previewing saved nothing, and kept everything she typed.
    const letterId = Number(new URL(editorUrl).pathname.split('/').pop());
    await expect(app.platform.repositories.letters.findById(letterId)).resolves.toMatchObject({
      slug: 'freedom-to-choose-asylum-draft',
      closesAt: null,
    });
    await expect(page.getByRole('textbox', { name: 'Web address' }).inputValue()).resolves.toBe(SLUG);
    await expect(page.getByLabel('Closes on').inputValue()).resolves.toBe(closingDay);
    await expect(englishBody.inputValue()).resolves.toContain('Dear {{recipient.title}},');
    await expect(ministry.isChecked()).resolves.toBe(true);

    // ...and the Korean letter for the Ministry of Unification, greeted with its Korean salutation.
    await recipientChoice.selectOption({ label: 'Ministry of Unification' });
    await languageChoice.selectOption({ label: 'Korean' });
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.waitForURL(`${editorUrl}#preview`);
    await expect(previewStatus.innerText()).resolves.toContain(
      'Preview for Ministry of Unification, in Korean.',
    );
    await expect(previewText.innerText()).resolves.toContain('존경하는 통일부 장관님께');
    await expect(previewText.innerText()).resolves.toContain('저희는 북한을 탈출해 자유를 찾은 사람들이며');
    await expect(previewText.innerText()).resolves.not.toContain('Dear President of Ukraine');
    await expect(previewHtml.getAttribute('lang')).resolves.toBe('ko');

    // With JavaScript, the preview follows the text as she types, without pressing Preview.
    await recipientChoice.selectOption({ label: 'Office of the First Lady of Ukraine' });
    await languageChoice.selectOption({ label: 'English' });
    await previewText.filter({ hasText: 'Dear First Lady of Ukraine,' }).waitFor();
    await englishBody.press('Control+End');
    await englishBody.pressSequentially('\n\nP.S. We would welcome the chance to meet your staff.');
    await previewText.filter({ hasText: 'P.S. We would welcome the chance to meet your staff.' }).waitFor();
    await expect(previewText.innerText()).resolves.toContain('Dear First Lady of Ukraine,');
    await expect(previewHtml.getAttribute('lang')).resolves.toBe('en');
    await expect(previewStatus.innerText()).resolves.toBe(
      'Preview for Office of the First Lady of Ukraine, in English. The preview follows your changes.',
    );

    // She saves the draft.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(`${editorUrl}?done=saved`);
    await expect(page.getByRole('status').first().innerText()).resolves.toBe('Saved.');
    await expect(page.getByLabel('Closes on').inputValue()).resolves.toBe(closingDay);
    await expect(englishBody.inputValue()).resolves.toContain('Dear {{recipient.title}},');
    await expect(englishBody.inputValue()).resolves.toContain('P.S. We would welcome the chance');
    await expect(ministry.isChecked()).resolves.toBe(true);

    // She publishes it. The platform asks first, saying what will happen: the letter becomes public,
    // to whom it is addressed, and that signatures are collected from now on.
    const workflow = page.getByRole('region', { name: 'Publishing' });
    await workflow.getByRole('link', { name: 'Publish…' }).click();
    await page.waitForURL(`${editorUrl}/publish`);
    await expect(page.getByRole('heading', { level: 1 }).textContent()).resolves.toBe('Publish this letter?');
    const confirmation = await page.locator('main').innerText();
    expect(confirmation).toContain(`is public at /letters/${SLUG}`);
    expect(confirmation).toContain('Office of the First Lady of Ukraine');
    expect(confirmation).toContain('Signatures are collected from now on');
    // It opens for signatures at once.
    await page.getByRole('button', { name: 'Yes, publish the letter' }).click();
    await page.waitForURL(`${editorUrl}?done=published`);
    await expect(page.getByRole('status').first().innerText()).resolves.toContain('The letter is published');
    await expect(page.locator('.status-line .badge').first().innerText()).resolves.toBe('Open');
    await expect(page.getByRole('link', { name: 'View the public page' }).getAttribute('href')).resolves.toBe(
      `/letters/${SLUG}`,
    );

    // Min-jun, a supporter on another device, opens the new letter.
    const supporterContext = await browser.newContext({ baseURL: app.baseUrl });
    const supporter = await supporterContext.newPage();
    await supporter.goto('/');
    await supporter.getByRole('link', { name: TEMPLATE_TITLE, exact: true }).click();
    await supporter.waitForURL(`**/letters/${SLUG}`);
    await expect(supporter.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(TEMPLATE_TITLE);
    await expect(supporter.locator('.stats__count').textContent()).resolves.toBe('0 signatures');
    // Signing closes at the end of the day the organizer chose.
    await expect(supporter.locator('.stats__deadline time').getAttribute('datetime')).resolves.toBe(
      `${closingDay}T23:59:59.999Z`,
    );
    const recipients = await supporter.locator('.recipients').innerText();
    expect(recipients).toContain('Office of the President of Ukraine');
    expect(recipients).toContain('Ministry of Unification');
    // The letter is shown as sent to its first recipient, with the organizer's changes.
    await expect(supporter.locator('.letter .note').innerText()).resolves.toContain(
      'addressed to Ministry of Unification',
    );
    const letterText = await supporter.locator('.letter__text').innerText();
    expect(letterText).toContain('Dear Minister of Unification,');
    expect(letterText).toContain('P.S. We would welcome the chance to meet your staff.');

    // He reads it in Korean, where the ministry is greeted as it asked, and signs there.
    // The letter's own choice of text, not the interface's language switcher (which names 한국어 too).
    await supporter.locator('.languages').getByRole('link', { name: '한국어' }).click();
    await supporter.waitForURL(`**/letters/${SLUG}?text=ko`);
    await expect(supporter.getByRole('heading', { level: 1 }).textContent()).resolves.toBe(KOREAN_TITLE);
    const koreanText = await supporter.locator('.letter__text').innerText();
    expect(koreanText).toContain('존경하는 통일부 장관님께');
    expect(koreanText).toContain('저희는 북한을 탈출해 자유를 찾은 사람들이며');
    const email = 'min-jun.choi@example.org';
    await supporter.getByRole('textbox', { name: /Your name/ }).fill('Choi Min-jun');
    await supporter.getByRole('textbox', { name: /E-mail address/ }).fill(email);
    await supporter.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
    await supporter.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await supporter.getByRole('button', { name: 'Sign the letter' }).click();
    // The next page names the letter in the Korean text he read.
    await supporter.waitForURL(`**/letters/${SLUG}/check-your-inbox?text=ko`);

    // He opens the confirmation e-mail (in English, the language of the pages he signed on, naming the
    // letter by the Korean title he read) in the captured mailbox (an admin's page: the
    // person trying the platform logs in first) and follows its link.
    await logIn(supporter, (await createAccount(app.platform, 'admin')).email);
    await supporter.goto('/admin/mailbox');
    await waitForMailTo(supporter, email);
    const message = supporter.locator('table.mailbox tbody tr', { hasText: email }).getByRole('link');
    await expect(message.textContent()).resolves.toBe(`Please confirm your signature: ${KOREAN_TITLE}`);
    await message.click();
    await supporter.waitForURL('**/admin/mailbox/*.eml');
    const confirmLink = supporter.locator(
      'h2:text-is("Links in this message") + ul a[href*="/signatures/confirm/"]',
    );
    await expect(confirmLink.count()).resolves.toBe(1);
    await confirmLink.click();
    await supporter.waitForURL('**/signatures/confirm/**');
    await supporter.getByRole('button', { name: 'Confirm my signature' }).click();
    // Still the Korean text he read; the pages around it stay in English, his interface language.
    await supporter.waitForURL(`**/letters/${SLUG}/thank-you?lang=en&text=ko`);
    await expect(supporter.locator('main').innerText()).resolves.toContain('1 person has signed so far.');

    // Back on the letter, in the Korean text he read, the count has gone up.
    await supporter.getByRole('link', { name: 'Back to the letter' }).click();
    await supporter.waitForURL(`**/letters/${SLUG}?lang=en&text=ko`);
    await expect(supporter.locator('.stats__count').textContent()).resolves.toBe('1 signature');
    // One count for the letter, whichever language it is read in.
    await supporter.goto(`/letters/${SLUG}?text=en`);
    await expect(supporter.locator('.stats__count').textContent()).resolves.toBe('1 signature');
    await supporterContext.close();

    // Ji-woo sees the signature on her dashboard too.
    await page.getByRole('link', { name: 'Dashboard' }).click();
    await page.waitForURL(/\/admin$/);
    const card = page.locator('.dashboard-letters .card', { hasText: TEMPLATE_TITLE });
    await expect(card.innerText()).resolves.toMatch(/Confirmed signatures\s+1 \/ 10,000/);
    await expect(card.innerText()).resolves.toMatch(/Today\s+1/);
    await context.close();
  });

  it('saves when Enter is pressed in a one-line field, and never removes a translation that way', async () => {
    // Enter pressed the form's first submit button, "Remove the Korean translation": the translation
    // left the form, and the next save deleted it.
    const { context, page, savedTexts } = await editDraft({
      texts: [
        { language: 'en', title: 'Keep both texts', summary: 'A test letter.', body: SIMPLE_LETTER_BODY },
        {
          language: 'ko',
          title: '두 글을 모두 지키기',
          summary: '시험용 편지입니다.',
          body: SIMPLE_LETTER_BODY,
        },
      ],
    });
    await page.locator('#field-title_en').fill('Keep both texts, renamed');
    await page.locator('#field-title_en').press('Enter');
    await page.waitForURL(/\?done=saved/);
    await expect(page.locator('#translation-ko').count()).resolves.toBe(1);
    expect((await savedTexts()).map((text) => [text.language, text.title]).sort()).toEqual([
      ['en', 'Keep both texts, renamed'],
      ['ko', '두 글을 모두 지키기'],
    ]);
    await context.close();
  });

  it('offers back what was typed when a save comes after the session ended, once logged in again', async () => {
    // The save went to the login page and the edits were gone, without a word.
    const { id, context, page, savedTexts } = await editDraft({ title: 'Before the break' });
    await expect(page.locator('#kept-editor-form').isVisible()).resolves.toBe(false);
    await page.locator('#field-title_en').fill('Typed before the session ended');
    await page.locator('#field-summary_en').fill('A summary typed then too.');
    // Eight hours without a request: the session is gone.
    await app.platform.db.deleteFrom('sessions').execute();
    // The live preview says so where it shows its problems (it stopped without a word before).
    await page.locator('#field-summary_en').fill('A summary typed then too, and more.');
    await page.locator('#field-summary_en').fill('A summary typed then too.');
    await expect
      .poll(() => page.locator('#preview-problems').innerText())
      .toContain('Your session has ended, so the preview stopped following your typing.');
    // Said above the form too (a phone shows the preview screens below), and the preview's own line
    // no longer says it follows the typing.
    await expect(page.locator('#preview-stopped').innerText()).resolves.toContain('Your session has ended');
    await expect(page.locator('#preview-status').innerText()).resolves.toContain('Your session has ended');
    await page.getByRole('button', { name: 'Save', exact: true }).click();

    await page.waitForURL(/\/login\?/);
    await expect(page.locator('main').innerText()).resolves.toContain('Your session had ended');
    await submitLogin(page, organizer.email);
    await page.waitForURL(`**/admin/letters/${id}`);
    await expect(page.locator('#field-title_en').inputValue()).resolves.toBe('Before the break');
    await page.getByRole('button', { name: 'Put back what I typed' }).click();
    await expect(page.locator('#field-title_en').inputValue()).resolves.toBe(
      'Typed before the session ended',
    );
    await expect(page.locator('#field-summary_en').inputValue()).resolves.toBe('A summary typed then too.');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\?done=saved/);
    await expect(page.locator('#kept-editor-form').isVisible()).resolves.toBe(false);
    expect((await savedTexts()).map((text) => text.title)).toEqual(['Typed before the session ended']);
    await context.close();
  });

  it('offers back what was typed into another staff form (a new recipient) sent after the session ended', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await logIn(page, organizer.email);
    await page.goto('/admin/recipients/new');
    await expect(page.locator('#kept-recipient-form').isVisible()).resolves.toBe(false);
    await page.locator('#field-name').fill('Embassy of Testland in Seoul');
    await page.locator('#field-email').fill('consular@testland.example.org');
    await page.locator('#field-language').selectOption('en');
    await page.locator('#field-salutation_en').fill('Dear Ambassador');
    await page.locator('#field-notes').fill('Reached by the consular section only.');
    await app.platform.db.deleteFrom('sessions').execute();
    await page.locator('#recipient-form button[type="submit"]').click();
    await page.waitForURL(/\/login\?/);
    await submitLogin(page, organizer.email);
    await page.waitForURL('**/admin/recipients/new');
    await expect(page.locator('#field-name').inputValue()).resolves.toBe('');
    await page.getByRole('button', { name: 'Put back what I typed' }).click();
    await expect(page.locator('#field-name').inputValue()).resolves.toBe('Embassy of Testland in Seoul');
    await expect(page.locator('#field-email').inputValue()).resolves.toBe('consular@testland.example.org');
    await expect(page.locator('#field-notes').inputValue()).resolves.toBe(
      'Reached by the consular section only.',
    );
    await page.locator('#recipient-form button[type="submit"]').click();
    await page.waitForURL(/\?done=created/);
    await expect(
      app.platform.repositories.recipients.findByEmail('consular@testland.example.org'),
    ).resolves.toMatchObject({ name: 'Embassy of Testland in Seoul' });
    // Saved: the form's page offers nothing any more.
    await page.goto('/admin/recipients/new');
    await expect(page.locator('#kept-recipient-form').isVisible()).resolves.toBe(false);

    // On a shared computer, what one account typed is never offered to another who logs in there.
    const colleague = await createAccount(app.platform, 'organizer');
    await page.locator('#field-name').fill('Typed by Ji-woo, not for her colleague');
    await page.locator('#field-email').fill('private@testland.example.org');
    await app.platform.db.deleteFrom('sessions').execute();
    await page.locator('#recipient-form button[type="submit"]').click();
    await page.waitForURL(/\/login\?/);
    await submitLogin(page, colleague.email);
    await page.waitForURL('**/admin/recipients/new');
    await expect(page.locator('#kept-recipient-form').isVisible()).resolves.toBe(false);
    await expect(page.locator('#field-name').inputValue()).resolves.toBe('');
    await context.close();
  });

  it('offers back an edit sent after the session ended from an editor page that said "saved"', async () => {
    // Saved once, the editor's address says ?done=saved: the login led back to it, and a page saying
    // "saved" forgot what was kept.
    const { id, context, page } = await editDraft({ title: 'Saved once' });
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\?done=saved/);
    await page.locator('#field-title_en').fill('Typed after a save');
    await app.platform.db.deleteFrom('sessions').execute();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\/login\?/);
    expect(new URL(page.url()).searchParams.get('next')).toBe(`/admin/letters/${id}`);
    await submitLogin(page, organizer.email);
    await page.waitForURL(`**/admin/letters/${id}`);
    await page.getByRole('button', { name: 'Put back what I typed' }).click();
    await expect(page.locator('#field-title_en').inputValue()).resolves.toBe('Typed after a save');
    await context.close();
  });

  it('asks before leaving the editor with changes not saved, and not after saving or previewing', async () => {
    const { context, page, savedTexts } = await editDraft({ title: 'Not yet renamed' });
    const asked: string[] = [];
    page.on('dialog', (dialog) => {
      asked.push(dialog.type());
      // Stay: the changes are still there to save.
      void dialog.dismiss();
    });
    // The preview sends nothing: the changes typed after it are still unsaved.
    await page.locator('#field-title_en').click();
    await page.getByRole('button', { name: 'Preview', exact: true }).click();
    await page.locator('#field-title_en').fill('Renamed, then shared');
    // Sharing the letter posts another form: it asked nothing, and the new title was lost.
    await page.locator('#field-collaborator').fill('nobody@example.org');
    await page.getByRole('button', { name: 'Share' }).click();
    await expect.poll(() => asked).toEqual(['beforeunload']);
    await expect(page.locator('#field-title_en').inputValue()).resolves.toBe('Renamed, then shared');
    // Saving sends the form: no question.
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await page.waitForURL(/\?done=saved/);
    expect(asked).toEqual(['beforeunload']);
    expect((await savedTexts()).map((text) => text.title)).toEqual(['Renamed, then shared']);
    await context.close();
  });

  it('shows the section of a main language chosen for a new letter at once, keeping what was typed', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await logIn(page, organizer.email);
    await page.goto('/admin/letters/new');
    await page.locator('#field-slug').fill('a-korean-letter');
    await expect(page.locator('#translation-ko').count()).resolves.toBe(0);

    await page.locator('#field-primary_language').selectOption('ko');
    await page.locator('#translation-ko').waitFor();
    await expect(page.locator('#field-primary_language').inputValue()).resolves.toBe('ko');
    await expect(page.locator('#field-slug').inputValue()).resolves.toBe('a-korean-letter');
    await expect(page.locator('main').innerText()).resolves.toContain(
      'The Korean translation is added to the form. Not saved yet',
    );
    await context.close();
  });
});
