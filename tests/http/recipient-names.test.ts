/**
 * Recipients named in the reader's language on the public pages. An operator walkthrough read "…Office
 * of the President of Ukraine; Office of the First Lady of Ukraine에게 전달됩니다" on the Korean
 * thank-you page: the directory knew each recipient in one language only.
 */
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import {
  fieldErrors,
  formFieldsFor,
  postForm,
  uploadRecipients,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { byId, mainOf, textOf, textsByClass } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const KO = { name: '테스트랜드 대사관', title: '대사', organisation: '주한 테스트랜드 대사관' };
const UK_ORGANISATION = 'Посольство Тестленду';

describe('recipients named in the reader’s language', () => {
  let t: TestPlatform;
  let admin: Visitor;
  let letter: { id: number; slug: string };
  let recipientId: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
    // In English and Korean, so the API answers in either.
    letter = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { language: 'en', title: 'Let them choose', summary: 'A test letter.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '선택하게 하라', summary: '시험 편지.', body: SIMPLE_LETTER_BODY },
      ],
    });
    recipientId = (await t.platform.repositories.recipients.findByEmail(
      (
        await t.platform.db
          .selectFrom('recipients')
          .select('email')
          .orderBy('id', 'desc')
          .executeTakeFirstOrThrow()
      ).email,
    ))!.id;
  });
  afterEach(async () => {
    await t.close();
  });

  const formPath = () => `/admin/recipients/${recipientId}`;

  async function editWith(
    changes: Record<string, string>,
  ): Promise<{ status: number; text: string; location?: string }> {
    const form = await admin.get(formPath());
    let fields: FormFields = formFieldsFor(form.text, formPath());
    for (const [name, value] of Object.entries(changes)) fields = withField(fields, name, value);
    const response = await postForm(admin, formPath(), formPath(), fields);
    return { status: response.status, text: response.text, location: response.headers.location };
  }

  it('offers the other interface languages’ names on the form, folded away, and saves them', async () => {
    const form = await admin.get(formPath());
    // A field of each kind for each interface language, the recipient's own included (directories
    // often file a Korean ministry under its English name).
    const fields = formFieldsFor(form.text, formPath()).map(([name]) => name);
    for (const language of ['en', 'ko', 'uk'])
      expect(fields).toEqual(
        expect.arrayContaining([`name_${language}`, `title_${language}`, `organisation_${language}`]),
      );
    expect(byId(form.text, 'other-names')?.attrs.open).toBeUndefined();

    const saved = await editWith({
      name_ko: KO.name,
      title_ko: KO.title,
      organisation_ko: KO.organisation,
      organisation_uk: UK_ORGANISATION,
    });
    expect(saved.status).toBe(303);
    const recipient = await t.platform.repositories.recipients.findById(recipientId);
    expect(recipient?.names).toEqual({
      ko: KO,
      uk: { name: '', title: '', organisation: UK_ORGANISATION },
    });
    // Shown again, unfolded, as saved.
    const again = await admin.get(formPath());
    expect(byId(again.text, 'other-names')?.attrs.open).toBe('');
    expect(byId(again.text, 'field-name_ko')?.attrs.value).toBe(KO.name);
    // The audit log names each field and its language.
    const audit = textOf(mainOf((await admin.get('/admin/audit?action=recipient-changed')).text));
    expect(audit).toContain('Name (Korean)');
    expect(audit).toContain('Organisation (Ukrainian)');
  });

  it('names them so on the letter page, the thank-you page and in the API, in each language, and as before elsewhere', async () => {
    await editWith({
      name_ko: KO.name,
      title_ko: KO.title,
      organisation_ko: KO.organisation,
      organisation_uk: UK_ORGANISATION,
    });

    const korean = textOf(mainOf((await request(t.app).get(`/letters/${letter.slug}?lang=ko`)).text));
    expect(korean).toContain(`${KO.name}, ${KO.title} — ${KO.organisation}`);
    expect(korean).not.toContain('Embassy of Testland');
    // Ukrainian: the institution typed for it, the name and title as the recipient's own.
    const ukrainian = textOf(mainOf((await request(t.app).get(`/letters/${letter.slug}?lang=uk`)).text));
    expect(ukrainian).toContain(`Embassy of Testland, Ambassador — ${UK_ORGANISATION}`);
    const english = textOf(mainOf((await request(t.app).get(`/letters/${letter.slug}?lang=en`)).text));
    expect(english).toContain('Embassy of Testland, Ambassador');
    expect(english).not.toContain(KO.name);

    const thanks = textOf(
      mainOf((await request(t.app).get(`/letters/${letter.slug}/thank-you?lang=ko`)).text),
    );
    expect(thanks).toContain(KO.name);
    // The home page's card too (it named them "수신: Embassy of Testland").
    const home = mainOf((await request(t.app).get('/?lang=ko')).text);
    expect(textsByClass(home, 'card__to').join(' ')).toContain(KO.name);
    expect(textsByClass(home, 'card__to').join(' ')).not.toContain('Embassy of Testland');

    const api = await request(t.app).get(`/api/v1/letters/${letter.slug}?lang=ko`);
    expect(api.status).toBe(200);
    // The answer is in Korean, and so are the names; in English, the directory's own.
    const firstRecipient = (body: unknown) =>
      (body as { recipients: { name: string; institution: string }[] }).recipients[0]!;
    expect(firstRecipient(api.body)).toMatchObject({ name: KO.name, institution: KO.organisation });
    const inEnglish = await request(t.app).get(`/api/v1/letters/${letter.slug}?lang=en`);
    expect(firstRecipient(inEnglish.body).name).toBe('Embassy of Testland');

    // Last, as it makes the letter a draft again: the publish page, for an organizer working in Korean, names them as the public pages will.
    await t.platform.db.updateTable('letters').set({ status: 'draft' }).where('id', '=', letter.id).execute();
    const publish = await admin.get(`/admin/letters/${letter.id}/publish?lang=ko`);
    expect(publish.status).toBe(200);
    expect(textOf(mainOf(publish.text))).toContain(KO.name);
  });

  it('refuses a name too long or with control characters beside its field, keeping what was typed', async () => {
    const refused = await editWith({ name_ko: '가'.repeat(201), organisation_uk: 'Посольство\u202E' });
    expect(refused.status).toBe(422);
    expect(fieldErrors(refused.text, 'field-name_ko')).toHaveLength(1);
    expect(fieldErrors(refused.text, 'field-organisation_uk')).toHaveLength(1);
    expect(byId(refused.text, 'field-name_ko')?.attrs.value).toBe('가'.repeat(201));
    expect(byId(refused.text, 'other-names')?.attrs.open).toBe('');
    expect((await t.platform.repositories.recipients.findById(recipientId))?.names).toEqual({});
  });

  it('asks for a name when it is only characters nobody can see, and keeps none of them in other languages', async () => {
    const refused = await editWith({ name: '\u200E\u3164', title_ko: '\u2800' });
    expect(refused.status).toBe(422);
    expect(fieldErrors(refused.text, 'field-name')).toEqual([
      "Enter the recipient's name or the name of the institution.",
    ]);
    expect(byId(refused.text, 'field-name')?.attrs.value).toBe('\u200E\u3164');
    const saved = await editWith({ title_ko: '\u2800' });
    expect(saved.status).toBe(303);
    expect((await t.platform.repositories.recipients.findById(recipientId))?.names).toEqual({});
  });

  it('keeps names typed on the page when an import updates the recipient from a file without columns for them', async () => {
    await editWith({ organisation_ko: KO.organisation });
    const recipient = (await t.platform.repositories.recipients.findById(recipientId))!;
    const csv = `name,email,language,salutation\nRenamed embassy,${recipient.email},en,Dear Ambassador\n`;
    const uploaded = await uploadRecipients(admin, csv);
    expect(uploaded.status).toBe(303);
    const preview = uploaded.headers.location!;
    expect(textOf(mainOf((await admin.get(preview)).text))).toMatch(/updated Changes: Name Renamed embassy/);
    expect((await postForm(admin, preview, `${preview}/confirm`, [])).status).toBe(303);
    // The same file again changes nothing, and says so.
    const again = (await uploadRecipients(admin, csv)).headers.location!;
    expect(textOf(mainOf((await admin.get(again)).text))).toContain('updated No change');
    const updated = (await t.platform.repositories.recipients.findById(recipientId))!;
    expect(updated.name).toBe('Renamed embassy');
    expect(updated.names).toEqual({ ko: { name: '', title: '', organisation: KO.organisation } });
  });

  it('imports names in other languages from their columns, shows them in the preview, and changes only the fields the file has', async () => {
    await editWith({ name_ko: KO.name, organisation_ko: KO.organisation, organisation_uk: UK_ORGANISATION });
    const recipient = (await t.platform.repositories.recipients.findById(recipientId))!;
    // The Korean title is new; the Ukrainian institution's cell is empty (removed); no column for the Korean name.
    const csv =
      'name,email,language,salutation,title_ko,organisation_ko,organisation_uk\n' +
      `Embassy of Testland,${recipient.email},en,Dear Ambassador,${KO.title},${KO.organisation},\n`;
    const uploaded = await uploadRecipients(admin, csv);
    expect(uploaded.status).toBe(303);
    const preview = uploaded.headers.location!;
    const shown = textOf(mainOf((await admin.get(preview)).text));
    expect(shown).toContain(`Korean: ${KO.title} · ${KO.organisation}`);
    // What the update changes, the emptied cell's removal named (the row's values alone do not show it).
    expect(shown).toContain('Changes: Title (Korean) Organisation (Ukrainian) (removed)');
    expect(shown).not.toContain('Ignored columns');
    expect((await postForm(admin, preview, `${preview}/confirm`, [])).status).toBe(303);
    expect((await t.platform.repositories.recipients.findById(recipientId))!.names).toEqual({
      ko: { name: KO.name, title: KO.title, organisation: KO.organisation },
    });
  });
});
