import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldErrors,
  fieldValue,
  formFields,
  letterTables,
  postForm,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { byClass, byId, innerHtml, startTags, textById, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const LIST = '{{#each signatories}}{{name}}, {{country}}\n{{/each}}';
/** The text of the report, smaller: the signatories listed again and again. */
const REPEATED = `{{recipient.salutation}},\n\nWe ask you to act.\n\n${LIST.repeat(5)}`;
/** One plain list, fine for hundreds of signatures, far too long for a goal of a hundred thousand. */
const ONE_LIST = `{{recipient.salutation}},\n\nWe ask you to act.\n\n${LIST}`;

describe('what a letter text can expand to, in the editor', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let recipient: number;
  let letterId: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ visitor } = await signedIn(t.app, t.platform, 'organizer'));
    recipient = await addRecipient(t.platform.db, t.clock.now(), { language: 'en' });
    letterId = await createDraft(visitor, [recipient], { slug: 'bounded-letter' });
  });
  afterAll(async () => {
    await t?.close();
  });

  async function editorForm(): Promise<FormFields> {
    const page = await visitor.get(`/admin/letters/${letterId}`);
    expect(page.status).toBe(200);
    return formFields(page.text, 'editor-form');
  }

  const submit = (fields: FormFields, action: 'save' | 'preview') =>
    postForm(visitor, `/admin/letters/${letterId}`, `/admin/letters/${letterId}`, [
      ...withField(fields, 'action', action),
      ...(action === 'preview' ? ([['preview_language', 'en']] as FormFields) : []),
    ]);

  /** The problems the preview lists instead of the letter. */
  function previewProblems(html: string): string[] {
    const problems = innerHtml(html, byId(html, 'preview-problems')!);
    return startTags(problems, 'li').map((li) => textOf(innerHtml(problems, li)));
  }

  it('refuses to save a text that lists its signatories again and again, saying where, the limit and what to do, and keeps what was typed', async () => {
    const before = await letterTables(t.platform.db);
    const sent = withField(await editorForm(), 'body_en', REPEATED);
    const response = await submit(sent, 'save');
    expect(response.status).toBe(422);
    const [message] = fieldErrors(response.text, 'field-body_en');
    expect(message).toBe(
      'Line 6, column 10: This text lists the signatories 5 times ({{#each signatories}}). A letter text can list them at most 1 time: remove the other lists. Every delivered letter carries the full list of signatories in its annex anyway.',
    );
    expect(textOf(innerHtml(response.text, byClass(response.text, 'error-summary')[0]!))).toContain(
      'This text lists the signatories 5 times',
    );
    expect(fieldValue(formFields(response.text, 'editor-form'), 'body_en')).toBe(REPEATED);
    expect(await letterTables(t.platform.db)).toEqual(before);
  });

  it('refuses to save a signatory list that would pass the size limit at the letter’s goal', async () => {
    const before = await letterTables(t.platform.db);
    const sent = withField(withField(await editorForm(), 'body_en', ONE_LIST), 'goal', '100000');
    const response = await submit(sent, 'save');
    expect(response.status).toBe(422);
    expect(fieldErrors(response.text, 'field-body_en')).toEqual([
      'Line 5, column 1: With 100,000 signatures (the goal or today’s count, whichever is more), {{#each signatories}} would make this letter longer than 1,000,000 characters, more than an official’s mail server accepts. Remove the list of signatories from the letter text (every delivered letter carries the full list in its annex), or shorten what it repeats for each signatory.'.replaceAll(
        '’',
        "'",
      ),
    ]);
    expect(fieldValue(formFields(response.text, 'editor-form'), 'goal')).toBe('100000');
    expect(await letterTables(t.platform.db)).toEqual(before);
    // The same list with a goal it fits is saved.
    const fits = await submit(
      withField(withField(await editorForm(), 'body_en', ONE_LIST), 'goal', '5000'),
      'save',
    );
    expect(fits.status).toBe(303);
  });

  it('refuses to preview a text that lists its signatories again and again, rendering nothing', async () => {
    const response = await submit(withField(await editorForm(), 'body_en', REPEATED), 'preview');
    expect(response.status).toBe(200);
    expect(previewProblems(response.text)).toEqual([
      expect.stringMatching(/^Line 6, column 10: This text lists the signatories 5 times/),
    ]);
    expect(textById(response.text, 'preview-html')).toBe('');
    expect(textById(response.text, 'preview-text')).toBe('');
  });

  it('refuses to preview a signatory list too long for the goal typed in the form', async () => {
    const fields = withField(withField(await editorForm(), 'body_en', ONE_LIST), 'goal', '100000');
    const response = await submit(fields, 'preview');
    expect(response.status).toBe(200);
    expect(previewProblems(response.text)).toEqual([
      expect.stringMatching(/^Line 5, column 1: With 100,000 signatures .* longer than 1,000,000 characters/),
    ]);
    expect(textById(response.text, 'preview-html')).toBe('');
  });
});
