import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldValue,
  formFields,
  postForm,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import {
  byId,
  decodeEntities,
  frameDocument,
  innerHtml,
  startTags,
  textById,
  textOf,
} from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const UK_BODY = `{{recipient.salutation}}!

Просимо Вас захистити полонених від примусового повернення.`;

/** The plain-text part the preview shows, as written (line by line). */
function previewText(page: string): string {
  return decodeEntities(innerHtml(page, byId(page, 'preview-text')!));
}

/** The headings of an e-mail's HTML part, in order. */
function headingsOf(document: string): string[] {
  return startTags(document)
    .filter((tag) => /^h[1-3]$/.test(tag.name))
    .map((tag) => textOf(innerHtml(document, tag)));
}

const linesOf = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

describe("the letter editor's preview of the e-mail", () => {
  let t: TestPlatform;
  let visitor: Visitor;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor } = await signedIn(t.app, t.platform, 'organizer'));
  });
  afterEach(async () => {
    await t.close();
  });

  /** The editor form as the browser first shows it. */
  async function editorForm(id: number): Promise<FormFields> {
    const page = await visitor.get(`/admin/letters/${id}`);
    expect(page.status).toBe(200);
    return formFields(page.text, 'editor-form');
  }

  const pressPreview = (id: number, fields: FormFields) =>
    postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, withField(fields, 'action', 'preview'));

  it('shows the subject, sender, signatories by country, count-only line and footer of the e-mail a delivery sends', async () => {
    const embassy = await addRecipient(t.platform.db, t.clock.now(), {
      name: 'Embassy of Ukraine in Seoul',
      salutation: 'Your Excellency',
      language: 'en',
      email: 'embassy@ukraine-embassy.example.org',
    });
    const id = await createDraft(visitor, [embassy]);
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    const letter = (await t.platform.repositories.letters.findById(id))!;
    await signAndConfirm(t, visitor, letter.slug, { name: 'Park Seo-yeon', email: 'p@example.org' });
    await signAndConfirm(t, visitor, letter.slug, {
      name: 'Hidden Person',
      email: 'h@example.org',
      display: 'hidden',
    });

    const fields = withField(await editorForm(id), 'preview_signatories', 'real');
    const preview = await pressPreview(id, fields);
    expect(preview.status).toBe(200);

    // The same letter, delivered now: the e-mail the recipient gets.
    await t.platform.rounds.start(
      (await t.platform.repositories.letters.findById(id))!,
      'delivery',
      'manual',
      {},
    );
    await t.compileDeliveries();
    await t.drainOutbox();
    const [sent] = t.sink.to('embassy@ukraine-embassy.example.org');
    expect(sent, 'the delivered letter').toBeDefined();
    const mail = sent!.parsed;

    expect(textById(preview.text, 'preview-subject')).toBe(mail.subject);
    expect(textById(preview.text, 'preview-from')).toBe(mail.from!.value[0]!.name);

    // The plain text is the delivered one but for what only a round makes: its list's root and the
    // address that verifies that round. Everything else (title, letter, figures by country, the
    // count-only line, the verifiable list's heading, the footer) is the same, line by line.
    const shown = linesOf(previewText(preview.text));
    const delivered = linesOf(mail.text!);
    const onlyDelivered = delivered.filter((line) => !shown.includes(line));
    const onlyShown = shown.filter((line) => !delivered.includes(line));
    expect(onlyDelivered).toHaveLength(2);
    expect(onlyDelivered.some((line) => line.startsWith(`${TEST_PUBLIC_URL}/verify?`))).toBe(true);
    expect(onlyShown).toHaveLength(2);
    // The delivered sections are there: the signatory by country, the one counted only, the footer.
    expect(shown).toContain('South Korea: 1');
    expect(shown.some((line) => line.includes('Hidden Person'))).toBe(false);
    expect(shown.at(-1)).toBe(delivered.at(-1));
    expect(shown).toContain(delivered.find((line) => line.startsWith('1 ')));

    // The HTML part: the same document, in a sandboxed frame, with the same headings.
    const frame = byId(preview.text, 'preview-email')!;
    expect(frame.name).toBe('iframe');
    expect(frame.attrs.sandbox).toBeDefined();
    expect(frame.attrs.sandbox).not.toContain('allow-scripts');
    const document = frameDocument(preview.text, 'preview-email');
    expect(headingsOf(document)).toEqual(headingsOf(mail.html as string));
    expect(headingsOf(document).length).toBeGreaterThanOrEqual(3);
    // The frame shows the e-mail's own styles: the page's policy lets style attributes through, never scripts.
    const csp = preview.headers['content-security-policy'] as string;
    expect(csp).toContain("style-src-attr 'unsafe-inline'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it('starts the preview in the text its first recipient gets, as a delivery picks it', async () => {
    const ministry = await addRecipient(t.platform.db, t.clock.now(), {
      name: 'Ministry of Foreign Affairs of Ukraine',
      salutation: 'Шановний пане Міністре',
      language: 'uk',
      email: 'minister@mfa.example.org',
    });
    const id = await createDraft(visitor, [ministry], {
      languages: ['en', 'uk'],
      title_uk: 'Дайте їм вибрати свободу',
      summary_uk: 'Двоє солдатів хочуть поїхати до Південної Кореї.',
      body_uk: UK_BODY,
    });

    // The form as the browser first shows it chooses the Ukrainian text, and the first preview is in it.
    const fields = await editorForm(id);
    expect(fieldValue(fields, 'preview_language')).toBe('uk');
    const json = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/preview.json`, fields);
    expect(json.body).toMatchObject({ ok: true, language: 'uk' });
    expect((json.body as { text: string }).text).toContain('Шановний пане Міністре!');
    expect((json.body as { subject: string }).subject).toBe('Дайте їм вибрати свободу');

    // The Preview button, without JavaScript, says so.
    const page = await pressPreview(id, fields);
    expect(textById(page.text, 'preview-status')).toBe(
      'Preview for Ministry of Foreign Affairs of Ukraine, in Ukrainian.',
    );
    expect(previewText(page.text)).toContain('Просимо Вас захистити полонених');

    // Without a language chosen (the live preview after another recipient is chosen), the server picks it.
    const unchosen = await postForm(
      visitor,
      `/admin/letters/${id}`,
      `/admin/letters/${id}/preview.json`,
      fields.filter(([name]) => name !== 'preview_language'),
    );
    expect(unchosen.body).toMatchObject({ ok: true, language: 'uk' });
  });
});
