import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { readSeedLetters, loadSeedLetters } from '../../seeds/seed-loader.js';
import { loginAs, signedIn } from '../support/accounts.js';
import {
  addRecipient,
  EN_BODY,
  describesItsError,
  fieldErrors,
  fieldValue,
  formFields,
  letterForm,
  letterIdIn,
  letterTables,
  postForm,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import {
  byClass,
  byId,
  frameDocument,
  frameText,
  hrefsIn,
  innerHtml,
  mainOf,
  startTags,
  textById,
  textOf,
  textsByClass,
} from '../support/html.js';
import { csrfTokenIn, type Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, signAndConfirm, signAndGetLinks } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SEED = 'freedom-to-choose-asylum';

const KO_BODY = `{{date}}

{{recipient.salutation}},

포로가 된 병사들이 망명할 나라를 스스로 선택하게 해 주십시오.`;

/** The badges of a translation's legend in the editor ("main language", "translation missing"). */
function translationBadges(html: string, language: string): string[] {
  const fieldset = byId(html, `translation-${language}`);
  if (!fieldset) return [];
  const inner = innerHtml(html, fieldset);
  const legend = startTags(inner, 'legend')[0]!;
  const legendHtml = innerHtml(inner, legend);
  return byClass(legendHtml, 'badge').map((badge) => textOf(innerHtml(legendHtml, badge)));
}

describe('the letter editor', () => {
  let t: TestPlatform;
  let user: User;
  let visitor: Visitor;
  /** An English-reading embassy and a Korean-reading ministry in the directory. */
  let embassy: number;
  let ministry: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ user, visitor } = await signedIn(t.app, t.platform, 'organizer'));
    embassy = await addRecipient(t.platform.db, t.clock.now(), {
      name: 'Embassy of Ukraine in Seoul',
      salutation: 'Your Excellency',
      language: 'en',
      email: 'embassy@ukraine-embassy.example.org',
    });
    ministry = await addRecipient(t.platform.db, t.clock.now(), {
      name: 'Ministry of Unification',
      salutation: '존경하는 장관님께',
      language: 'ko',
      email: 'minister@unification.example.org',
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Creates a draft through the new-letter form; returns its id. */
  async function createDraft(overrides: Record<string, string | string[]> = {}, recipients = [embassy]) {
    const response = await postForm(
      visitor,
      '/admin/letters/new',
      '/admin/letters',
      letterForm(recipients, overrides),
    );
    expect(response.status, response.text.slice(0, 300)).toBe(303);
    return letterIdIn(response.headers.location);
  }

  /** The editor form of a letter as the browser shows it, ready to change and submit. */
  async function editorForm(letterId: number): Promise<FormFields> {
    const page = await visitor.get(`/admin/letters/${letterId}`);
    expect(page.status, page.headers.location).toBe(200);
    return formFields(page.text, 'editor-form');
  }

  const save = (letterId: number, fields: FormFields) =>
    postForm(
      visitor,
      `/admin/letters/${letterId}`,
      `/admin/letters/${letterId}`,
      withField(fields, 'action', 'save'),
    );

  const publish = (letterId: number) =>
    postForm(visitor, `/admin/letters/${letterId}`, `/admin/letters/${letterId}/publish`, []);

  const letterRow = (id: number) =>
    t.platform.db.selectFrom('letters').selectAll().where('id', '=', id).executeTakeFirstOrThrow();

  describe('starting from a template', () => {
    it('makes a draft owned by the organizer with a free address, the translations and the recipients', async () => {
      await loadSeedLetters(t.platform.db, t.clock.now());
      const seed = readSeedLetters().find((s) => s.slug === SEED)!;
      const gallery = await visitor.get('/admin/letters/templates');
      expect(gallery.status).toBe(200);
      const action = `/admin/letters/templates/${SEED}`;
      expect(startTags(mainOf(gallery.text), 'form').map((f) => f.attrs.action)).toContain(action);
      const directoryBefore = await t.platform.repositories.recipients.listAll();

      const first = await postForm(visitor, '/admin/letters/templates', action, []);
      expect(first.status).toBe(303);
      const id = letterIdIn(first.headers.location);
      const letter = (await t.platform.repositories.letters.findById(id))!;
      expect(letter).toMatchObject({
        status: 'draft',
        ownerId: user.id,
        primaryLanguage: 'en',
        goal: seed.goal,
      });
      // The seed letter itself is in the database under its own address: the copy gets another one.
      expect(letter.slug).not.toBe(SEED);
      expect(letter.slug).toMatch(/^[a-z0-9]+(-[a-z0-9]+)*$/);

      const texts = await t.platform.repositories.letters.textsOfVersion(letter.currentVersionId);
      expect(texts.map((x) => x.language).sort()).toEqual(Object.keys(seed.translations).sort());
      for (const text of texts) {
        expect(text.title).toBe(seed.translations[text.language]!.title);
        expect(text.summary).toBe(seed.translations[text.language]!.summary);
        expect(text.body).toBe(seed.bodies[text.language]);
      }
      const recipients = (await t.platform.repositories.letters.recipientsOfLetters([id])).get(id)!;
      const directory = await t.platform.repositories.recipients.findByIds(recipients.map((r) => r.id));
      expect(directory.map((r) => r.email)).toEqual(seed.recipients.map((r) => r.email));
      // The template's recipients were in the directory already (the seed letter): none is added twice.
      expect(await t.platform.repositories.recipients.listAll()).toHaveLength(directoryBefore.length);

      // A second copy of the same template gets yet another address.
      const second = await postForm(visitor, '/admin/letters/templates', action, []);
      const copy = (await t.platform.repositories.letters.findById(letterIdIn(second.headers.location)))!;
      expect(new Set([SEED, letter.slug, copy.slug]).size).toBe(3);

      // For an organizer working in Korean, the gallery and the editor's list of recipients name them
      // in Korean where the directory does (the letter to them still uses their own name).
      const korean = seed.recipients.find((r) => r.names?.ko?.name)!;
      // In a browser of its own: a staff page read with ?lang= keeps the language for the next ones.
      const inKorean = await loginAs(t.app, user);
      const koreanGallery = textOf(mainOf((await inKorean.get('/admin/letters/templates?lang=ko')).text));
      expect(koreanGallery).toContain(korean.names!.ko!.name);
      const koreanEditor = await inKorean.get(`/admin/letters/${id}?lang=ko`);
      const listed = directory.find((r) => r.email === korean.email)!;
      expect(
        textOf(
          innerHtml(
            koreanEditor.text,
            startTags(koreanEditor.text, 'label').find((l) => l.attrs.for === `recipient-${listed.id}`)!,
          ),
        ),
      ).toContain(korean.names!.ko!.name);

      // The draft is the organizer's: the editor shows the template's text, the public does not see it.
      const editor = await visitor.get(`/admin/letters/${id}`);
      expect(fieldValue(formFields(editor.text, 'editor-form'), 'title_ko')).toBe(
        seed.translations.ko!.title,
      );
      expectErrorPage(await visitor.get(`/letters/${letter.slug}`), 404, ERROR_TITLES[404]);
    });

    it.each(readSeedLetters().map((seed) => seed.slug))(
      'makes a draft of %s that saves unchanged and publishes',
      async (slug) => {
        const created = await postForm(
          visitor,
          '/admin/letters/templates',
          `/admin/letters/templates/${slug}`,
          [],
        );
        const id = letterIdIn(created.headers.location);
        const saved = await save(id, await editorForm(id));
        expect(saved.status, saved.status === 303 ? '' : textOf(mainOf(saved.text))).toBe(303);
        expect(saved.headers.location).toBe(`/admin/letters/${id}?done=saved`);
        expect((await publish(id)).headers.location).toBe(`/admin/letters/${id}?done=published`);
        const letter = (await t.platform.repositories.letters.findById(id))!;
        expect(letter.status).toBe('open');
        expect((await visitor.get(`/letters/${letter.slug}`)).status).toBe(200);
      },
    );

    it('warns before publishing a copy still at its template address and titled as a published letter', async () => {
      await loadSeedLetters(t.platform.db, t.clock.now());
      const seed = readSeedLetters().find((s) => s.slug === SEED)!;
      const created = await postForm(
        visitor,
        '/admin/letters/templates',
        `/admin/letters/templates/${SEED}`,
        [],
      );
      const id = letterIdIn(created.headers.location);
      const { slug } = (await t.platform.repositories.letters.findById(id))!;

      const page = await visitor.get(`/admin/letters/${id}/publish`);
      expect(page.status).toBe(200);
      const [warning] = byClass(page.text, 'notice--warn');
      expect(warning, 'a warning').toBeDefined();
      const said = textOf(innerHtml(page.text, warning!));
      expect(said).toContain(
        `Its web address is still /letters/${slug}, the name a copy of a template is given.`,
      );
      // Once for the seed letter, though all three of its texts share a title with the copy's.
      expect(said.match(/A published letter already has the title/g)).toHaveLength(1);
      expect(said).toContain(`(/letters/${SEED})`);

      expect(said).not.toContain('co-signing organisations');

      // Co-signing organisations listed, but the template's text never uses their field.
      expect((await save(id, withField(await editorForm(id), 'organisations', 'Org A\nOrg B'))).status).toBe(
        303,
      );
      const listed = await visitor.get(`/admin/letters/${id}/publish`);
      expect(textOf(innerHtml(listed.text, byClass(listed.text, 'notice--warn')[0]!))).toContain(
        'You listed co-signing organisations, but no text of the letter uses the co-signing organisations field',
      );

      // With its own address and titles, there is nothing to point out; publishing was never refused.
      let fields = withField(await editorForm(id), 'slug', 'a-letter-of-our-own');
      fields = withField(fields, 'organisations', '');
      for (const language of Object.keys(seed.translations))
        fields = withField(fields, `title_${language}`, `Our own title (${language})`);
      expect((await save(id, fields)).status).toBe(303);
      const clean = await visitor.get(`/admin/letters/${id}/publish`);
      // Only the platform's own to-do (no data controller named in this test) is left: nothing about the letter.
      expect(byClass(clean.text, 'notice--warn').map((tag) => tag.attrs.id)).toEqual(['controller-missing']);
      expect((await publish(id)).headers.location).toBe(`/admin/letters/${id}?done=published`);
    });

    it('answers a template that does not exist with the 404 page and creates nothing', async () => {
      const before = await letterTables(t.platform.db);
      const response = await postForm(
        visitor,
        '/admin/letters/templates',
        '/admin/letters/templates/no-such',
        [],
      );
      expectErrorPage(response, 404, ERROR_TITLES[404]);
      expect(await letterTables(t.platform.db)).toEqual(before);
    });
  });

  it('creates a blank letter from the new-letter form as a draft with everything typed', async () => {
    const form = await visitor.get('/admin/letters/new');
    expect(form.status).toBe(200);
    expect(byId(form.text, 'editor-form')?.attrs.action).toBe('/admin/letters');
    // The title says how long it may be, as the summary does: the field cuts a pasted title there.
    const title = byId(form.text, 'field-title_en')!;
    expect(title.attrs.maxlength).toBe('200');
    expect(title.attrs['aria-describedby']).toBe('field-title_en-hint');
    expect(textById(form.text, 'field-title_en-hint')).toContain('At most 200 characters');
    // Without a script the preview is empty until the Preview button: the page says so.
    expect(textById(form.text, 'preview-press')).toBe(
      'Press “Preview” to see the letter as the recipient chosen will get it.',
    );
    // Written first in the organizer's language: the main language and its text fields are theirs.
    for (const language of ['ko', 'uk']) {
      const blank = await visitor.get(`/admin/letters/new?lang=${language}`);
      const chosen = startTags(
        innerHtml(blank.text, byId(blank.text, 'field-primary_language')!),
        'option',
      ).find((o) => o.attrs.selected !== undefined);
      expect(chosen?.attrs.value, language).toBe(language);
      expect(byId(blank.text, `field-title_${language}`), language).toBeDefined();
      expect(byId(blank.text, 'field-title_en'), language).toBeUndefined();
    }
    expect(byId(form.text, 'field-title_en')).toBeDefined();

    const id = await createDraft({ close_on_goal: 'yes', opens_at: '2026-12-01', goal: '10,000' }, [
      ministry,
      embassy,
    ]);
    const letter = (await t.platform.repositories.letters.findById(id))!;
    expect(letter).toMatchObject({
      slug: 'let-them-choose',
      status: 'draft',
      ownerId: user.id,
      sponsor: 'Escapees for freedom',
      goal: 10_000,
      closeOnGoal: true,
      organisations: ['Transitional Justice Working Group', 'NK Watch'],
    });
    expect(letter.opensAt?.toISOString()).toBe('2026-12-01T00:00:00.000Z');
    // A letter closes at the end of its closing day (UTC).
    expect(letter.closesAt?.toISOString()).toBe('2027-01-31T23:59:59.999Z');
    const recipients = (await t.platform.repositories.letters.recipientsOfLetters([id])).get(id)!;
    expect(recipients.map((r) => r.id)).toEqual([ministry, embassy]);
    expect(await t.platform.repositories.letters.textsOfVersion(letter.currentVersionId)).toEqual([
      {
        language: 'en',
        title: 'Let them choose freedom',
        summary: 'Two soldiers want to go to South Korea.',
        body: EN_BODY,
      },
    ]);
    expect((await t.platform.repositories.letters.versions(id)).map((v) => v.number)).toEqual([1]);
  });

  it('drops the zero-width spaces and byte-order marks text pasted from elsewhere brings, rather than refusing the letter', async () => {
    const id = await createDraft();
    const fields = await editorForm(id);
    const pasted = `\uFEFF${EN_BODY.replace('{{recipient.salutation}},', '{{recipient.salutation}},\u200B')}`;
    expect((await save(id, withField(fields, 'body_en', pasted))).status).toBe(303);
    const letter = (await t.platform.repositories.letters.findById(id))!;
    const [text] = await t.platform.repositories.letters.textsOfVersion(letter.currentVersionId);
    expect(text!.body).toBe(EN_BODY);
  });

  it('saves an edited merge field, and the preview fills it in', async () => {
    const id = await createDraft();
    const fields = await editorForm(id);
    const body = fieldValue(fields, 'body_en')!;
    expect(body).toBe(EN_BODY);
    const edited = body.replace('{{recipient.salutation}},', 'To {{recipient.name}},');
    const saved = await save(id, withField(fields, 'body_en', edited));
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=saved`);

    const letter = (await t.platform.repositories.letters.findById(id))!;
    const [text] = await t.platform.repositories.letters.textsOfVersion(letter.currentVersionId);
    expect(text!.body).toBe(edited);
    // A draft is changed in place: still its first version.
    expect((await t.platform.repositories.letters.versions(id)).map((v) => v.number)).toEqual([1]);

    const page = await visitor.get(saved.headers.location!);
    expect(
      textOf(
        byClass(page.text, 'notice')
          .map((n) => innerHtml(page.text, n))
          .join(' '),
      ),
    ).toContain('Saved.');
    const preview = await postForm(
      visitor,
      `/admin/letters/${id}`,
      `/admin/letters/${id}`,
      withField(await editorForm(id), 'action', 'preview'),
    );
    expect(frameText(preview.text, 'preview-email')).toContain('To Embassy of Ukraine in Seoul,');
  });

  describe('refuses invalid input with 422, messages beside the fields and everything typed kept', () => {
    // These cases change nothing (each checks it), so they share one platform.
    let p: TestPlatform;
    let organizer: Visitor;
    let recipientId: number;
    let letterId: number;

    beforeAll(async () => {
      p = await createTestPlatform();
      ({ visitor: organizer } = await signedIn(p.app, p.platform, 'organizer'));
      recipientId = await addRecipient(p.platform.db, p.clock.now());
      await createLetter(p.platform.db, p.clock.now(), { slug: 'taken-address' });
      const created = await postForm(
        organizer,
        '/admin/letters/new',
        '/admin/letters',
        letterForm([recipientId], { slug: 'stored-draft' }),
      );
      letterId = letterIdIn(created.headers.location);
    });
    afterAll(async () => {
      await p.close();
    });

    /** A Korean translation beside the English text: it must come back too. */
    const KOREAN = {
      languages: ['en', 'ko'],
      title_ko: '자유를 선택하게 해 주십시오',
      summary_ko: '두 병사는 한국으로 가고 싶어 합니다.',
      body_ko: KO_BODY,
    };
    const GOAL = 'Enter the goal as a whole number from 1 to 10,000,000, or leave it empty.';
    const SLUG_FORMAT = 'Use only lower-case letters, digits and single hyphens, e.g. protect-the-soldiers.';
    const CONTROL = 'This contains characters that cannot be used. Please retype it.';
    const longBody = `{{recipient.salutation}},\n\n${'We ask you to protect them. '.repeat(1800).trim()}`;

    const cases: {
      name: string;
      fields: Record<string, string | string[]>;
      field: string;
      message: string;
    }[] = [
      {
        name: 'an empty address',
        fields: { slug: '' },
        field: 'field-slug',
        message: 'Enter a web address for the letter.',
      },
      {
        name: 'an address with spaces',
        fields: { slug: 'Hello World' },
        field: 'field-slug',
        message: SLUG_FORMAT,
      },
      { name: 'an address with a path', fields: { slug: '../x' }, field: 'field-slug', message: SLUG_FORMAT },
      {
        name: 'an address with a double hyphen',
        fields: { slug: 'a--b' },
        field: 'field-slug',
        message: SLUG_FORMAT,
      },
      {
        name: 'an address another letter has',
        fields: { slug: 'taken-address' },
        field: 'field-slug',
        message: 'Another letter already uses this address. Choose another.',
      },
      { name: 'a goal that is not a number', fields: { goal: 'lots' }, field: 'field-goal', message: GOAL },
      { name: 'a goal of zero', fields: { goal: '0' }, field: 'field-goal', message: GOAL },
      // Number() reads these as 16 and 1000: a goal nobody typed would be saved.
      { name: 'a goal in hexadecimal', fields: { goal: '0x10' }, field: 'field-goal', message: GOAL },
      { name: 'a goal in exponent notation', fields: { goal: '1e3' }, field: 'field-goal', message: GOAL },
      { name: 'a negative goal', fields: { goal: '-5' }, field: 'field-goal', message: GOAL },
      { name: 'a huge goal', fields: { goal: '99999999999999999999' }, field: 'field-goal', message: GOAL },
      {
        name: 'a goal just above the limit',
        fields: { goal: '10000001' },
        field: 'field-goal',
        message: GOAL,
      },
      {
        name: 'closing at the goal without a goal',
        fields: { goal: '', close_on_goal: 'yes' },
        field: 'field-goal',
        message: 'Set a goal, or untick "Close the letter when the goal is reached".',
      },
      {
        name: 'an opening date in the past',
        fields: { opens_at: '2026-11-22' },
        field: 'field-opens_at',
        message:
          'The opening date is in the past. Choose today or a later day, or leave it empty to open when published.',
      },
      {
        name: 'a closing date in the past',
        fields: { closes_at: '2026-11-22' },
        field: 'field-closes_at',
        message: 'The closing date is in the past. Choose a later day.',
      },
      {
        name: 'a closing date before the opening date',
        fields: { opens_at: '2026-12-10', closes_at: '2026-12-01' },
        field: 'field-closes_at',
        message: 'The letter would close before it opens. Choose a closing date after the opening date.',
      },
      {
        name: 'an impossible opening date',
        fields: { opens_at: '2026-02-30' },
        field: 'field-opens_at',
        message: 'Enter a real date.',
      },
      {
        name: 'an impossible closing date',
        fields: { closes_at: '2027-02-30' },
        field: 'field-closes_at',
        message: 'Enter a real date.',
      },
      {
        name: 'a title that is too long',
        fields: { title_en: 'T'.repeat(201) },
        field: 'field-title_en',
        message: 'This is too long: at most 200 characters.',
      },
      {
        name: 'control characters in the title',
        fields: { title_en: 'Let them\u0007 go' },
        field: 'field-title_en',
        message: CONTROL,
      },
      {
        name: 'a right-to-left override in the title, which shows it in another order than it was typed',
        fields: { title_en: 'Let them \u202Eog' },
        field: 'field-title_en',
        message: CONTROL,
      },
      {
        name: 'a title nobody can see (a left-to-right mark and a Hangul filler)',
        fields: { title_en: '\u200E\u3164' },
        field: 'field-title_en',
        message: 'Enter a title in the main language.',
      },
      {
        name: 'a summary nobody can see (the Braille blank)',
        fields: { summary_en: '\u2800' },
        field: 'field-summary_en',
        message: 'Enter a summary in the main language.',
      },
      {
        name: 'a zero-width space in the sponsor',
        fields: { sponsor: 'NK\u200BWatch' },
        field: 'field-sponsor',
        message: CONTROL,
      },
      {
        name: 'control characters in the text',
        fields: { body_en: `${EN_BODY}\n\u001b[2J` },
        field: 'field-body_en',
        message: CONTROL,
      },
      {
        name: 'control characters in the sponsor',
        fields: { sponsor: 'NK\u0000 Watch' },
        field: 'field-sponsor',
        message: CONTROL,
      },
      {
        name: 'a text longer than 50,000 characters',
        fields: { body_en: longBody },
        field: 'field-body_en',
        // Figures in the reader's way of writing them.
        message: `Line 1, column 1: The letter text is ${longBody.length.toLocaleString('en')} characters long. Shorten it to at most 50,000 characters.`,
      },
      {
        name: 'too many co-signing organisations',
        fields: { organisations: Array.from({ length: 51 }, (_, i) => `Organisation ${i + 1}`).join('\n') },
        field: 'field-organisations',
        message: 'List at most 50 organisations.',
      },
      {
        name: 'a recipient that is not in the directory',
        fields: { recipients: ['999999'] },
        field: 'field-recipients',
        message: 'One of the chosen recipients is no longer in the directory. Check the list and save again.',
      },
      {
        name: 'a missing title in the main language',
        fields: { title_en: '   ' },
        field: 'field-title_en',
        message: 'Enter a title in the main language.',
      },
    ];

    /** Checks the re-rendered editor: 422, the message beside the field, and every typed value back in the form. */
    function expectRefused(
      response: { status: number; text: string },
      sent: FormFields,
      field: string,
      message: string,
    ) {
      expect(response.status).toBe(422);
      expect(fieldErrors(response.text, field)).toContain(message);
      // Said with the field by a screen reader.
      expect(describesItsError(response.text, field), field).toBe(true);
      // The summary at the top links to the field too.
      const summary = byClass(response.text, 'error-summary')[0];
      expect(summary, 'an error summary').toBeDefined();
      expect(textOf(innerHtml(response.text, summary!))).toContain(message);
      // A text's problem says which text at the top, where three fields may share a label.
      const text = /^field-(title|summary|body)_en$/.exec(field);
      if (text) {
        const label = { title: 'Title', summary: 'Summary', body: 'Text of the letter' }[text[1]!];
        expect(textOf(innerHtml(response.text, summary!))).toContain(`${label} (English): ${message}`);
      }
      const shown = formFields(response.text, 'editor-form');
      for (const name of [
        'slug',
        'sponsor',
        'organisations',
        'goal',
        'opens_at',
        'closes_at',
        'title_en',
        'summary_en',
        'body_en',
        'title_ko',
        'summary_ko',
        'body_ko',
      ]) {
        expect(fieldValue(shown, name), name).toBe(fieldValue(sent, name));
      }
      expect(shown.filter(([n]) => n === 'languages').map(([, v]) => v)).toEqual(['en', 'ko']);
      expect(fieldValue(shown, 'close_on_goal')).toBe(fieldValue(sent, 'close_on_goal'));
      // Recipients that exist stay ticked (an unknown id has no box to tick).
      const known = sent.filter(([n, v]) => n === 'recipients' && v !== '999999').map(([, v]) => v);
      expect(shown.filter(([n]) => n === 'recipients').map(([, v]) => v)).toEqual(known);
    }

    it.each(cases)('when saving a draft with $name', async ({ fields, field, message }) => {
      const before = await letterTables(p.platform.db);
      const sent = letterForm([recipientId], { slug: 'stored-draft', ...KOREAN, ...fields });
      const response = await postForm(
        organizer,
        `/admin/letters/${letterId}`,
        `/admin/letters/${letterId}`,
        sent,
      );
      expectRefused(response, sent, field, message);
      expect(await letterTables(p.platform.db)).toEqual(before);
    });

    it.each(cases)('when creating a letter with $name', async ({ fields, field, message }) => {
      const before = await letterTables(p.platform.db);
      const sent = letterForm([recipientId], { slug: 'a-new-letter', ...KOREAN, ...fields });
      const response = await postForm(organizer, '/admin/letters/new', '/admin/letters', sent);
      expectRefused(response, sent, field, message);
      expect(await letterTables(p.platform.db)).toEqual(before);
    });

    const hostile: { name: string; body: string; at: string; says: RegExp }[] = [
      {
        name: 'a partial',
        body: 'Dear friends,\n\n{{> evil}}',
        at: 'Line 3, column 1',
        says: /Partials cannot be used/,
      },
      {
        name: 'prototype access',
        body: '{{recipient.salutation}},\n  {{constructor.constructor}}',
        at: 'Line 2, column 5',
        says: /reaches into the program's internals/,
      },
      {
        name: 'a triple-stash',
        body: 'To {{{recipient.name}}}',
        at: 'Line 1, column 4',
        says: /two braces on each side/,
      },
      {
        name: 'an unknown field',
        body: 'Line one\nWrite to {{recipient.email}}',
        at: 'Line 2, column 12',
        says: /recipient\.email is not a merge field/,
      },
      {
        name: 'lookup',
        body: '{{lookup recipient "email"}}',
        at: 'Line 1, column 1',
        says: /helper cannot be used/,
      },
      {
        name: 'a decorator',
        body: 'Hello\n\n\n{{* decorate}}',
        at: 'Line 4, column 1',
        says: /Decorators cannot be used/,
      },
      {
        name: 'a decorator block',
        body: '{{#* inline "x"}}{{/inline}}',
        at: 'Line 1, column 1',
        says: /Decorators cannot be used/,
      },
      {
        name: 'an unclosed block',
        body: '{{recipient.salutation}},\n{{#if recipient.title}}yes',
        at: 'Line 2, column 1',
        says: /\{\{#if recipient\.title\}\} opens a block that is never closed: write \{\{\/if\}\} where it should end/,
      },
    ];

    it.each(hostile)(
      'refuses a letter text with $name, naming the line and column',
      async ({ body, at, says }) => {
        const before = await letterTables(p.platform.db);
        const sent = letterForm([recipientId], { slug: 'stored-draft', body_en: body });
        const response = await postForm(
          organizer,
          `/admin/letters/${letterId}`,
          `/admin/letters/${letterId}`,
          sent,
        );
        expect(response.status).toBe(422);
        const messages = fieldErrors(response.text, 'field-body_en');
        expect(messages.length).toBeGreaterThan(0);
        expect(
          messages.some((m) => m.startsWith(`${at}`) && says.test(m)),
          messages.join(' | '),
        ).toBe(true);
        expect(fieldValue(formFields(response.text, 'editor-form'), 'body_en')).toBe(body);
        expect(await letterTables(p.platform.db)).toEqual(before);
      },
    );

    it.each(hostile)('refuses $name in a translation too, beside that translation', async ({ body, at }) => {
      const before = await letterTables(p.platform.db);
      const sent = letterForm([recipientId], { slug: 'stored-draft', ...KOREAN, body_ko: body });
      const response = await postForm(
        organizer,
        `/admin/letters/${letterId}`,
        `/admin/letters/${letterId}`,
        sent,
      );
      expect(response.status).toBe(422);
      expect(fieldErrors(response.text, 'field-body_ko').some((m) => m.startsWith(at))).toBe(true);
      expect(fieldErrors(response.text, 'field-body_en')).toEqual([]);
      expect(await letterTables(p.platform.db)).toEqual(before);
    });

    it.each(hostile)(
      'previews a text with $name as its problems, never rendering it',
      async ({ body, at }) => {
        const before = await letterTables(p.platform.db);
        const response = await postForm(
          organizer,
          `/admin/letters/${letterId}`,
          `/admin/letters/${letterId}`,
          [
            ...withField(
              letterForm([recipientId], { slug: 'stored-draft', body_en: body }),
              'action',
              'preview',
            ),
            ['preview_language', 'en'],
          ],
        );
        expect(response.status).toBe(200);
        const problems = innerHtml(response.text, byId(response.text, 'preview-problems')!);
        const listed = startTags(problems, 'li').map((li) => textOf(innerHtml(problems, li)));
        expect(
          listed.some((m) => m.startsWith(at)),
          listed.join(' | '),
        ).toBe(true);
        expect(frameText(response.text, 'preview-email')).toBe('');
        expect(textById(response.text, 'preview-text')).toBe('');
        expect(await letterTables(p.platform.db)).toEqual(before);
      },
    );
  });

  describe('preview', () => {
    /** A draft in English and Korean, addressed to the embassy (English) and the ministry (Korean). */
    async function bilingualDraft() {
      const id = await createDraft(
        {
          languages: ['en', 'ko'],
          title_ko: '자유를 선택하게 해 주십시오',
          summary_ko: '두 병사는 한국으로 가고 싶어 합니다.',
          body_ko: KO_BODY,
        },
        [embassy, ministry],
      );
      return id;
    }

    const previewWith = (id: number, fields: FormFields, choice: Record<string, string>) =>
      postForm(
        visitor,
        `/admin/letters/${id}`,
        `/admin/letters/${id}`,
        [...Object.entries(choice).reduce((f, [name, value]) => withField(f, name, value), fields)].concat([
          ['action', 'preview'],
        ]),
      );

    it('shows the letter for each recipient in their language, as HTML and plain text, without saving', async () => {
      const id = await bilingualDraft();
      // An unsaved change shows in the preview: it renders the text being edited.
      const fields = withField(
        await editorForm(id),
        'body_en',
        EN_BODY.replace('We ask you', 'We respectfully ask you'),
      );
      const before = await letterTables(t.platform.db);

      const english = await previewWith(id, fields, {
        preview_recipient: String(embassy),
        preview_language: 'en',
      });
      expect(english.status).toBe(200);
      const englishHtml = frameText(english.text, 'preview-email');
      const englishText = textById(english.text, 'preview-text');
      for (const shown of [englishHtml, englishText]) {
        expect(shown).toContain('Your Excellency,');
        expect(shown).toContain('We respectfully ask you to let the captured soldiers choose');
        expect(shown).toContain('November 23, 2026');
        expect(shown).not.toContain('존경하는 장관님께');
      }
      expect(startTags(frameDocument(english.text, 'preview-email'), 'p').length).toBeGreaterThan(1);
      expect(textById(english.text, 'preview-status')).toBe(
        'Preview for Embassy of Ukraine in Seoul, in English.',
      );

      const korean = await previewWith(id, fields, {
        preview_recipient: String(ministry),
        preview_language: 'ko',
      });
      expect(korean.status).toBe(200);
      for (const shown of [frameText(korean.text, 'preview-email'), textById(korean.text, 'preview-text')]) {
        expect(shown).toContain('존경하는 장관님께,');
        expect(shown).toContain('포로가 된 병사들이 망명할 나라를 스스로 선택하게 해 주십시오.');
        expect(shown).toContain('2026년 11월 23일');
        expect(shown).not.toContain('Your Excellency');
        expect(shown).not.toContain('We respectfully ask');
      }
      // The form keeps what was typed and which preview was chosen.
      const kept = formFields(korean.text, 'editor-form');
      expect(fieldValue(kept, 'body_en')).toBe(fieldValue(fields, 'body_en'));
      expect(fieldValue(kept, 'preview_recipient')).toBe(String(ministry));
      expect(fieldValue(kept, 'preview_language')).toBe('ko');

      expect(await letterTables(t.platform.db)).toEqual(before);
    });

    it('escapes markup typed into the text and the directory in the HTML preview', async () => {
      const hostileRecipient = await addRecipient(t.platform.db, t.clock.now(), {
        name: '<img src=x onerror=alert(1)>',
        salutation: '<script>alert(1)</script>',
      });
      const id = await createDraft(
        { body_en: '{{recipient.salutation}}\n\n<b>bold</b> & {{recipient.name}}' },
        [hostileRecipient],
      );
      const response = await previewWith(id, await editorForm(id), {
        preview_recipient: String(hostileRecipient),
        preview_language: 'en',
      });
      const html = frameDocument(response.text, 'preview-email');
      expect(startTags(html).map((tag) => tag.name)).toEqual(
        expect.not.arrayContaining(['script', 'img', 'b']),
      );
      expect(textOf(html)).toContain('<script>alert(1)</script>');
      expect(textOf(html)).toContain('<b>bold</b> & <img src=x onerror=alert(1)>');
    });

    it('answers preview.json with the HTML and text, or with the problems of a broken text', async () => {
      const id = await bilingualDraft();
      const fields = await editorForm(id);
      const asJson = (sent: FormFields) =>
        postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/preview.json`, sent).then((r) => {
          expect(r.status).toBe(200);
          expect(r.headers['content-type']).toMatch(/^application\/json/);
          return r.body as { ok: boolean; html?: string; text?: string; problems?: string[] };
        });

      const ok = await asJson(
        withField(withField(fields, 'preview_recipient', String(ministry)), 'preview_language', 'ko'),
      );
      expect(ok.ok).toBe(true);
      expect(ok.text).toContain('존경하는 장관님께,');
      // The whole e-mail, as its HTML part: a document, with the letter's paragraphs in it.
      expect(ok.html).toMatch(/^<!doctype html>/i);
      expect(ok.html).toContain('<p>존경하는 장관님께,</p>');

      const broken = await asJson(
        withField(withField(fields, 'body_en', 'Dear all,\n{{> evil}}'), 'preview_language', 'en'),
      );
      expect(broken.ok).toBe(false);
      expect(broken.html).toBeUndefined();
      expect(broken.problems).toHaveLength(1);
      expect(broken.problems![0]).toMatch(/^Line 2, column 1: Partials cannot be used/);

      // The same for a letter not saved yet.
      const unsaved = await postForm(
        visitor,
        '/admin/letters/new',
        '/admin/letters/preview.json',
        withField(letterForm([embassy]), 'preview_recipient', String(embassy)),
      );
      expect(unsaved.body).toMatchObject({ ok: true });
      expect((unsaved.body as { text: string }).text).toContain('Your Excellency,');
    });

    it('with real signatories shows the names of confirmed public signatories and never an e-mail address', async () => {
      const id = await createDraft({
        body_en:
          '{{recipient.salutation}},\n\n{{signatureCount}} signed:\n{{#each signatories}}{{name}} ({{country}})\n{{/each}}',
      });
      expect((await publish(id)).status).toBe(303);
      const slug = (await letterRow(id)).slug;
      await signAndConfirm(t, visitor, slug, {
        name: 'Park Seo-yeon',
        email: 'seo-yeon@example.org',
        display: 'full',
      });
      await signAndConfirm(t, visitor, slug, {
        name: 'Hidden Person',
        email: 'hidden@example.org',
        display: 'hidden',
      });
      // Signed but never confirmed: not a signatory.
      await signAndGetLinks(t, visitor, slug, {
        name: 'Pending Person',
        email: 'pending@example.org',
        display: 'full',
      });

      const fields = withField(await editorForm(id), 'preview_signatories', 'real');
      const response = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
        ...fields,
        ['action', 'preview'],
      ]);
      expect(response.status).toBe(200);
      for (const shown of [
        frameText(response.text, 'preview-email'),
        textById(response.text, 'preview-text'),
      ]) {
        expect(shown).toContain('2 signed:');
        expect(shown).toContain('Park Seo-yeon (South Korea)');
        expect(shown).not.toContain('Hidden Person');
        expect(shown).not.toContain('Pending Person');
        expect(shown).not.toContain('Kim Ji-hoon');
        expect(shown).not.toMatch(/@/);
      }
      expect(mainOf(response.text)).not.toMatch(
        /seo-yeon@example\.org|hidden@example\.org|pending@example\.org/,
      );

      // Sample signatories are invented ones.
      const sample = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
        ...withField(fields, 'preview_signatories', 'sample'),
        ['action', 'preview'],
      ]);
      expect(textById(sample.text, 'preview-text')).toContain('Kim Ji-hoon');
      expect(textById(sample.text, 'preview-text')).not.toContain('Park Seo-yeon');
    });
  });

  describe('translations', () => {
    it('adds a language, and shows the translation as missing until it is complete', async () => {
      const id = await createDraft();
      const added = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
        ...withField(await editorForm(id), 'new_language', 'ko'),
        ['action', 'add-language'],
      ]);
      expect(added.status).toBe(200);
      // Said, since nothing on the page shows that the form and the letter now differ.
      expect(textsByClass(added.text, 'notice')).toContain(
        'The Korean translation is added to the form. Not saved yet: save the letter to keep it.',
      );
      expect(translationBadges(added.text, 'ko')).toEqual(['translation missing']);
      expect(translationBadges(added.text, 'en')).toEqual(['main language']);
      // Adding a language is not saving.
      const letter = (await t.platform.repositories.letters.findById(id))!;
      expect(await t.platform.repositories.letters.textsOfVersion(letter.currentVersionId)).toHaveLength(1);

      // Save with only the Korean title filled in: kept, and still missing.
      const partial = withField(
        formFields(added.text, 'editor-form'),
        'title_ko',
        '자유를 선택하게 해 주십시오',
      );
      expect((await save(id, partial)).status).toBe(303);
      let page = await visitor.get(`/admin/letters/${id}`);
      expect(translationBadges(page.text, 'ko')).toEqual(['translation missing']);
      expect(textOf(innerHtml(page.text, byId(page.text, 'translation-ko')!))).toContain(
        'Missing: Summary, Text of the letter.',
      );
      expect(fieldValue(formFields(page.text, 'editor-form'), 'title_ko')).toBe(
        '자유를 선택하게 해 주십시오',
      );

      const complete = withField(
        withField(formFields(page.text, 'editor-form'), 'summary_ko', '두 병사는 한국으로 가고 싶어 합니다.'),
        'body_ko',
        KO_BODY,
      );
      expect((await save(id, complete)).status).toBe(303);
      page = await visitor.get(`/admin/letters/${id}`);
      expect(translationBadges(page.text, 'ko')).toEqual([]);

      // Removing it (and saving) takes it out again.
      const removed = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
        ...formFields(page.text, 'editor-form'),
        ['action', 'remove-language:ko'],
      ]);
      expect(byId(removed.text, 'translation-ko')).toBeUndefined();
      expect(textsByClass(removed.text, 'notice')).toContain(
        'The Korean translation is taken out of the form. Not saved yet: saving the letter removes it for good; leaving without saving keeps it.',
      );
      // Until then the letter still has it.
      const kept = (await t.platform.repositories.letters.findById(id))!;
      expect(await t.platform.repositories.letters.textsOfVersion(kept.currentVersionId)).toHaveLength(2);
      expect((await save(id, formFields(removed.text, 'editor-form'))).status).toBe(303);
      const saved = (await t.platform.repositories.letters.findById(id))!;
      expect(
        (await t.platform.repositories.letters.textsOfVersion(saved.currentVersionId)).map((x) => x.language),
      ).toEqual(['en']);
    });

    it('keeps an incomplete translation off the public page until it is complete', async () => {
      const id = await createDraft({ languages: ['en', 'ko'], title_ko: '자유를 선택하게 해 주십시오' });
      expect((await publish(id)).status).toBe(303);
      const slug = (await letterRow(id)).slug;

      let page = await visitor.get(`/letters/${slug}?text=ko`);
      expect(page.status).toBe(200);
      const heading = (html: string) => textOf(innerHtml(mainOf(html), startTags(mainOf(html), 'h1')[0]!));
      expect(heading(page.text)).toBe('Let them choose freedom');
      expect(hrefsIn(page.text).filter((href) => href.includes('text=ko'))).toEqual([]);
      expect(page.text).not.toContain('자유를 선택하게');

      const fields = withField(
        withField(await editorForm(id), 'summary_ko', '두 병사는 한국으로 가고 싶어 합니다.'),
        'body_ko',
        KO_BODY,
      );
      expect((await save(id, fields)).status).toBe(303);
      page = await visitor.get(`/letters/${slug}?text=ko`);
      expect(heading(page.text)).toBe('자유를 선택하게 해 주십시오');
      expect(textOf(mainOf(page.text))).toContain('포로가 된 병사들이');
      expect(hrefsIn((await visitor.get(`/letters/${slug}`)).text)).toContain(`/letters/${slug}?text=ko`);
    });

    it('lists the recipients whose language has no complete translation as getting the main language', async () => {
      const id = await createDraft({}, [embassy, ministry]);
      let page = await visitor.get(`/admin/letters/${id}`);
      const warnings = byClass(page.text, 'notice--warn').map((n) => textOf(innerHtml(page.text, n)));
      expect(warnings.join(' ')).toContain(
        'Ministry of Unification reads Korean; they will get the English text.',
      );
      expect(warnings.join(' ')).not.toContain('Embassy of Ukraine in Seoul reads');

      // A half-written Korean translation does not count.
      const fields = withField(
        withField(withField(await editorForm(id), 'languages', null), 'title_ko', '제목'),
        'languages',
        null,
      );
      const withKorean = [...fields, ['languages', 'en'], ['languages', 'ko']] as FormFields;
      expect((await save(id, withKorean)).status).toBe(303);
      page = await visitor.get(`/admin/letters/${id}`);
      expect(textOf(mainOf(page.text))).toContain(
        'Ministry of Unification reads Korean; they will get the English text.',
      );

      const complete = [
        ...withField(
          withField(formFields(page.text, 'editor-form'), 'summary_ko', '요약'),
          'body_ko',
          KO_BODY,
        ),
      ];
      expect((await save(id, complete)).status).toBe(303);
      page = await visitor.get(`/admin/letters/${id}`);
      expect(textOf(mainOf(page.text))).not.toContain('reads Korean');
    });
  });

  it("dates a draft's version by its last save in the version history, not by the draft's creation", async () => {
    t.clock.set(new Date('2026-11-20T10:00:00.000Z'));
    const id = await createDraft();
    t.clock.set(new Date('2026-11-23T10:00:00.000Z'));
    visitor = await loginAs(t.app, user);
    const fields = await editorForm(id);
    const saved = await save(id, withField(fields, 'title_en', 'A title typed three days later'));
    expect(saved.status).toBe(303);
    const history = textOf(mainOf((await visitor.get(`/admin/letters/${id}/versions`)).text));
    expect(history).toContain('Nov 23, 2026');
    expect(history).not.toContain('Nov 20, 2026');
  });

  it('says on the public page when the text of a published letter last changed', async () => {
    // Published three days ago, changed today.
    const today = t.clock.now();
    t.clock.set(new Date('2026-11-20T10:00:00.000Z'));
    const id = await createDraft();
    expect((await publish(id)).status).toBe(303);
    const slug = (await letterRow(id)).slug;
    let page = await visitor.get(`/letters/${slug}`);
    expect(byClass(page.text, 'text-changed')).toHaveLength(0);

    t.clock.set(today);
    // Days later the session has ended: the organizer logs in again.
    visitor = await loginAs(t.app, user);
    const fields = await editorForm(id);
    const changed = withField(
      fields,
      'body_en',
      fieldValue(fields, 'body_en')!.replace('We ask', 'We urgently ask'),
    );
    const saved = await save(id, changed);
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=newVersion`);

    page = await visitor.get(`/letters/${slug}`);
    const [notice] = byClass(page.text, 'text-changed');
    expect(notice).toBeDefined();
    expect(textOf(innerHtml(page.text, notice!))).toBe(
      'The text was last changed on November 23, 2026 (version 2). Every signature stays with the text it signed.',
    );
    expect(textOf(mainOf(page.text))).toContain('We urgently ask you');
  });

  it('gives the editor page its CSRF token and refuses a save without it', async () => {
    const id = await createDraft();
    const page = await visitor.get(`/admin/letters/${id}`);
    // The token is in the editor's own form (the header's logout form has one of its own).
    const editor = byId(page.text, 'editor-form');
    expect(editor, 'the editor form').toBeDefined();
    expect(csrfTokenIn(innerHtml(page.text, editor!))).toBe(csrfTokenIn(page.text));
    const before = await letterTables(t.platform.db);
    const response = await visitor.agent
      .post(`/admin/letters/${id}`)
      .type('form')
      .set('Accept', 'text/html')
      .send(new URLSearchParams(withField(letterForm([embassy]), 'slug', 'changed-address')).toString());
    expect(response.status).toBe(403);
    expect(await letterTables(t.platform.db)).toEqual(before);
  });
});
