import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { loginAs, signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldErrors,
  fieldsOf,
  fieldValue,
  formFieldsFor,
  postForm,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { byClass, frameText, innerHtml, mainOf, startTags, textById, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { COUNT_EPOCH_MS } from '../../server/pages/page-cache.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const EN_BODY = `{{recipient.salutation}},

We ask you to protect the captured soldiers from forced return.`;
const KO_SENTENCE = '우리는 포로가 된 병사들이 강제로 송환되지 않도록 보호해 주실 것을 요청합니다.';
const KO_BODY = `{{recipient.salutation}}

${KO_SENTENCE}`;
const UK_BODY = `{{recipient.salutation}}!

Просимо Вас захистити полонених солдатів від примусового повернення.`;

/** An English-speaking embassy with salutations in Korean and Ukrainian too. */
const EMBASSY = {
  name: 'Embassy of Canada to Korea',
  email: 'ambassador@canada-embassy.example.org',
  language: 'en',
  salutation: 'Dear Ambassador',
  salutations: { ko: '존경하는 주한 캐나다 대사님께', uk: 'Шановний пане После' },
};
/** An English-speaking office with a salutation in English only. */
const OFFICE = {
  name: 'UNHCR Representation in Korea',
  email: 'representative@unhcr-korea.example.org',
  language: 'en',
  salutation: 'Dear Representative',
};
/** A Ukrainian-speaking ministry with a salutation in Ukrainian only. */
const MINISTRY = {
  name: 'Ministry of Foreign Affairs of Ukraine',
  email: 'minister@mfa-ukraine.example.org',
  language: 'uk',
  salutation: 'Шановний пане Міністре',
};

const isLetter = (m: SinkMessage) => m.parsed.headers.has('x-undersigned-letter');

describe('recipients greeted in the language of the letter they get', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let embassy: number;
  let office: number;
  let ministry: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer'));
    embassy = await addRecipient(t.platform.db, t.clock.now(), EMBASSY);
    office = await addRecipient(t.platform.db, t.clock.now(), OFFICE);
    ministry = await addRecipient(t.platform.db, t.clock.now(), MINISTRY);
  });
  afterEach(async () => {
    await t.close();
  });

  const editorForm = async (id: number) =>
    formFieldsFor((await visitor.get(`/admin/letters/${id}`)).text, `/admin/letters/${id}`);

  /** The editor's preview (the Preview button, without JavaScript) for one recipient in one language. */
  async function preview(id: number, recipient: number, language: string): Promise<string[]> {
    let fields: FormFields = await editorForm(id);
    fields = withField(fields, 'preview_recipient', String(recipient));
    fields = withField(fields, 'preview_language', language);
    const response = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...fields,
      ['action', 'preview'],
    ]);
    expect(response.status).toBe(200);
    return [frameText(response.text, 'preview-email'), textById(response.text, 'preview-text')];
  }

  describe("in the editor's preview", () => {
    it('opens the Korean text for an English-speaking recipient with their Korean salutation, not their English one', async () => {
      const id = await createDraft(visitor, [embassy, office], {
        languages: ['en', 'ko'],
        body_en: EN_BODY,
        title_ko: '포로가 된 병사들에게 선택의 자유를',
        summary_ko: '두 병사는 한국으로 가기를 원합니다.',
        body_ko: KO_BODY,
      });
      for (const shown of await preview(id, embassy, 'ko')) {
        expect(shown).toContain(`${EMBASSY.salutations.ko} ${KO_SENTENCE}`);
        expect(shown).not.toContain('Dear Ambassador');
      }
      // The same recipient's English text still opens in English.
      for (const shown of await preview(id, embassy, 'en')) {
        expect(shown).toContain('Dear Ambassador,');
        expect(shown).not.toContain(EMBASSY.salutations.ko);
      }
    });

    it("opens with the neutral greeting of the text's language when the recipient has no salutation in it", async () => {
      const id = await createDraft(visitor, [office, ministry], {
        languages: ['en', 'ko', 'uk'],
        body_en: EN_BODY,
        title_ko: '포로가 된 병사들에게 선택의 자유를',
        summary_ko: '두 병사는 한국으로 가기를 원합니다.',
        body_ko: KO_BODY,
        title_uk: 'Дайте їм вибрати свободу',
        summary_uk: 'Двоє солдатів хочуть до Південної Кореї.',
        body_uk: UK_BODY,
      });
      for (const shown of await preview(id, office, 'ko')) {
        expect(shown).toContain(`존경하는 관계자 여러분께 ${KO_SENTENCE}`);
        expect(shown).not.toContain(OFFICE.salutation);
      }
      for (const shown of await preview(id, office, 'uk')) {
        expect(shown).toContain('Шановні пані та панове!');
        expect(shown).not.toContain(OFFICE.salutation);
      }
      for (const shown of await preview(id, ministry, 'en')) {
        expect(shown).toContain('Dear Sir or Madam,');
        expect(shown).not.toContain(MINISTRY.salutation);
      }
      for (const shown of await preview(id, ministry, 'uk'))
        expect(shown).toContain('Шановний пане Міністре!');
    });
  });

  describe('in the letter sent', () => {
    const deliveryPath = (id: number) => `/admin/letters/${id}/delivery`;
    const press = (id: number, action: 'test' | 'deliver') =>
      postForm(visitor, deliveryPath(id), `${deliveryPath(id)}/${action}`, [
        ['request_key', randomBytes(12).toString('base64url')],
      ]);
    async function sendAll(): Promise<void> {
      await t.compileDeliveries();
      await t.drainOutbox();
    }
    const letterTo = (address: string) => {
      const letters = t.sink.to(address).filter(isLetter);
      expect(letters, address).toHaveLength(1);
      return letters[0]!.parsed.text ?? '';
    };

    it('greets each recipient in the language of the text they get, in the test and in the delivery', async () => {
      // A letter in Korean only: every recipient gets the Korean text, whatever language they read.
      const id = await createDraft(visitor, [embassy, office, ministry], {
        primary_language: 'ko',
        languages: ['ko'],
        title_ko: '포로가 된 병사들에게 선택의 자유를',
        summary_ko: '두 병사는 한국으로 가기를 원합니다.',
        body_ko: KO_BODY,
      });
      const published = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, []);
      expect(published.status).toBe(303);

      // The test goes to the organizer once per recipient language, rendered for the first recipient of each.
      expect((await press(id, 'test')).status).toBe(303);
      await sendAll();
      const tests = t.sink.to(organizer.email).filter(isLetter);
      expect(tests).toHaveLength(2);
      const testTexts = tests.map((m) => m.parsed.text ?? '');
      expect(testTexts.some((text) => text.includes(`${EMBASSY.salutations.ko}\n\n${KO_SENTENCE}`))).toBe(
        true,
      );
      expect(testTexts.some((text) => text.includes(`존경하는 관계자 여러분께\n\n${KO_SENTENCE}`))).toBe(
        true,
      );

      expect((await press(id, 'deliver')).status).toBe(303);
      await sendAll();
      // An English-speaking embassy gets the Korean text with its Korean salutation, not "Dear Ambassador".
      const toEmbassy = letterTo(EMBASSY.email);
      expect(toEmbassy).toContain(`${EMBASSY.salutations.ko}\n\n${KO_SENTENCE}`);
      expect(toEmbassy).not.toContain('Dear Ambassador');
      // Without a Korean salutation: the Korean neutral greeting, never an English or a Ukrainian one.
      const toOffice = letterTo(OFFICE.email);
      expect(toOffice).toContain(`존경하는 관계자 여러분께\n\n${KO_SENTENCE}`);
      expect(toOffice).not.toContain(OFFICE.salutation);
      const toMinistry = letterTo(MINISTRY.email);
      expect(toMinistry).toContain(`존경하는 관계자 여러분께\n\n${KO_SENTENCE}`);
      expect(toMinistry).not.toContain(MINISTRY.salutation);
    });
  });

  describe('named in the language of the letter they get', () => {
    const NAMED_BODY = `{{recipient.salutation}}

{{recipient.title}} {{recipient.name}}, {{recipient.organisation}}

${KO_SENTENCE}`;
    const KOREAN_NAME = { name: '캐나다 대사관 대표', title: '대사', organisation: '주한 캐나다 대사관' };

    it("writes the name, title and institution typed for that language, and the directory's own where none was", async () => {
      const named = await addRecipient(t.platform.db, t.clock.now(), {
        ...EMBASSY,
        email: 'named@canada-embassy.example.org',
        title: 'Ambassador',
        organisation: 'Embassy of Canada',
        names: { ko: KOREAN_NAME },
      });
      // A committee that reads Korean, listed in English with its Korean name typed (as the demo data is).
      const committee = await addRecipient(t.platform.db, t.clock.now(), {
        name: 'Foreign Affairs and Unification Committee',
        title: 'Chair',
        organisation: 'National Assembly',
        email: 'committee@assembly.example.org',
        language: 'ko',
        salutation: '존경하는 위원장님께',
        names: { ko: { name: '외교통일위원회', title: '위원장', organisation: '국회' } },
      });
      const id = await createDraft(visitor, [named, office, committee], {
        primary_language: 'ko',
        languages: ['ko'],
        title_ko: '포로가 된 병사들에게 선택의 자유를',
        summary_ko: '두 병사는 한국으로 가기를 원합니다.',
        body_ko: NAMED_BODY,
      });
      expect(
        (await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status,
      ).toBe(303);
      // The editor's preview says what the letter will.
      for (const shown of await preview(id, named, 'ko'))
        expect(shown).toContain('대사 캐나다 대사관 대표, 주한 캐나다 대사관');
      // A test first (the delivery asks for one), then the delivery.
      for (const action of ['test', 'deliver']) {
        const pressed = await postForm(
          visitor,
          `/admin/letters/${id}/delivery`,
          `/admin/letters/${id}/delivery/${action}`,
          [['request_key', randomBytes(12).toString('base64url')]],
        );
        expect(pressed.status, action).toBe(303);
      }
      await t.compileDeliveries();
      await t.drainOutbox();
      // The page that asks before a round names them in the organizer's language too (in a browser
      // of its own: a staff page read with ?lang= keeps the language).
      const inKorean = await loginAs(t.app, organizer);
      const asking = textOf(
        mainOf((await inKorean.get(`/admin/letters/${id}/delivery/update?lang=ko`)).text),
      );
      expect(asking).toContain('외교통일위원회');
      expect(asking).not.toContain('Foreign Affairs and Unification Committee');
      const [toNamed] = t.sink.to('named@canada-embassy.example.org').filter(isLetter);
      expect(toNamed!.parsed.text).toContain('대사 캐나다 대사관 대표, 주한 캐나다 대사관');
      expect(toNamed!.parsed.text).not.toContain('Embassy of Canada');
      // The letter says which language it is in, for the mail program and a screen reader.
      expect(toNamed!.parsed.headers.get('content-language')).toBe('ko');
      const [toCommittee] = t.sink.to('committee@assembly.example.org').filter(isLetter);
      expect(toCommittee!.parsed.text).toContain('위원장 외교통일위원회, 국회');
      expect(toCommittee!.parsed.text).not.toContain('Foreign Affairs');
      // A test is made out as for a recipient, and its subject says whom, in the letter's language.
      const subjects = t.sink
        .to(organizer.email)
        .filter(isLetter)
        .map((m) => m.parsed.subject ?? '');
      expect(subjects.some((subject) => subject.includes('외교통일위원회'))).toBe(true);
      expect(subjects.join(' ')).not.toContain('Foreign Affairs');
      // No Korean name typed: the directory's own fields stand.
      const [toOffice] = t.sink.to(OFFICE.email).filter(isLetter);
      expect(toOffice!.parsed.text).toMatch(/Ambassador UNHCR Representation in Korea, Embassy \d+/);

      // The public record of the delivery names them as "Addressed to" does: in the reader's language.
      t.clock.advance(COUNT_EPOCH_MS);
      const slug = (await t.platform.repositories.letters.findById(id))!.slug;
      const recordIn = async (language: string) => {
        const main = mainOf((await new Visitor(t.app).get(`/letters/${slug}?lang=${language}`)).text);
        return textOf(innerHtml(main, byClass(main, 'sent-record')[0]!));
      };
      const korean = await recordIn('ko');
      expect(korean).toContain('외교통일위원회, 국회');
      expect(korean).toContain('캐나다 대사관 대표, 주한 캐나다 대사관');
      expect(korean).not.toMatch(/National Assembly|Embassy of Canada/);
      const english = await recordIn('en');
      expect(english).toContain('Foreign Affairs and Unification Committee, National Assembly');
      // So does the public API's record, in the language of its answer (the letter's only text is Korean).
      const api = await new Visitor(t.app).get(`/api/v1/letters/${slug}?lang=ko`);
      const institutions = (api.body as { deliveries: { institution: string }[] }).deliveries.map(
        (d) => d.institution,
      );
      expect(institutions).toEqual(expect.arrayContaining(['국회', '주한 캐나다 대사관']));
      expect(institutions.join(' ')).not.toMatch(/National Assembly|Embassy of Canada/);
      // Renamed in the directory since: the record keeps the name the letter went to.
      await t.platform.db
        .updateTable('recipients')
        .set({ name: 'Renamed Committee' })
        .where('id', '=', committee)
        .execute();
      t.clock.advance(COUNT_EPOCH_MS);
      expect(await recordIn('en')).toContain('Foreign Affairs and Unification Committee');
      expect(await recordIn('en')).not.toContain('Renamed Committee');
    });
  });

  describe('on the public letter page', () => {
    it("opens the Korean text with the first recipient's Korean salutation, and the English text with the English one", async () => {
      const id = await createDraft(visitor, [embassy], {
        languages: ['en', 'ko'],
        body_en: EN_BODY,
        title_ko: '포로가 된 병사들에게 선택의 자유를',
        summary_ko: '두 병사는 한국으로 가기를 원합니다.',
        body_ko: KO_BODY,
      });
      expect(
        (await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status,
      ).toBe(303);
      const slug = (await t.platform.repositories.letters.findById(id))!.slug;
      const korean = textOf(mainOf((await visitor.get(`/letters/${slug}?text=ko`)).text));
      expect(korean).toContain(`${EMBASSY.salutations.ko} ${KO_SENTENCE}`);
      expect(korean).not.toContain('Dear Ambassador');
      const english = textOf(mainOf((await visitor.get(`/letters/${slug}?text=en`)).text));
      expect(english).toContain('Dear Ambassador,');
      expect(english).not.toContain(EMBASSY.salutations.ko);
    });
  });

  describe('in the directory', () => {
    /** The salutation fields the recipient form shows (the others are there, hidden, for its script): name, label and value. */
    function salutationFields(html: string) {
      const main = mainOf(html);
      const hidden = new Set(
        startTags(main, 'div')
          .filter((div) => 'hidden' in div.attrs)
          .map((div) => div.attrs['data-salutation-language']),
      );
      return startTags(main, 'input')
        .filter((input) => /^salutation_/.test(input.attrs.name ?? ''))
        .filter((input) => !hidden.has(input.attrs.lang))
        .map((input) => {
          const label = startTags(main, 'label').find((l) => l.attrs.for === input.attrs.id)!;
          return {
            name: input.attrs.name,
            lang: input.attrs.lang,
            // What a reader sees: the marker that does not fit the language is there, hidden, for the script.
            label: textOf(innerHtml(main, label).replace(/<span[^>]*\shidden[^>]*>[^<]*<\/span>/g, '')),
            value: input.attrs.value ?? '',
          };
        });
    }

    const form = (overrides: Record<string, string> = {}) =>
      fieldsOf({
        name: 'Federal Foreign Office',
        title: 'Federal Minister for Foreign Affairs',
        organisation: 'Federal Foreign Office of Germany',
        country: 'DE',
        email: 'minister@auswaertiges-amt.example.org',
        language: 'de',
        salutation_en: 'Dear Federal Minister',
        salutation_ko: '존경하는 독일 외무장관님께',
        salutation_uk: 'Шановний пане Федеральний Міністре',
        notes: '',
        ...overrides,
      });

    it('offers a salutation in each interface language, labelled with its name, the own language required', async () => {
      const page = await visitor.get('/admin/recipients/new');
      expect(salutationFields(page.text)).toEqual([
        { name: 'salutation_en', lang: 'en', label: 'Salutation in English (required)', value: '' },
        { name: 'salutation_ko', lang: 'ko', label: 'Salutation in Korean (optional)', value: '' },
        { name: 'salutation_uk', lang: 'uk', label: 'Salutation in Ukrainian (optional)', value: '' },
      ]);
    });

    it('shows again only the salutations offered or filled in when the form comes back with a mistake', async () => {
      // As a browser posts it: every language's field, the hidden ones empty.
      const page = await visitor.get('/admin/recipients/new');
      let fields = formFieldsFor(page.text, '/admin/recipients');
      expect(fields.filter(([name]) => name.startsWith('salutation_')).length).toBeGreaterThan(4);
      for (const [name, value] of Object.entries({
        name: '',
        email: 'minister@mofa.example.org',
        language: 'ja',
        salutation_en: 'Dear Minister',
        salutation_ja: '外務大臣閣下',
      }))
        fields = withField(fields, name, value);

      const refused = await postForm(visitor, '/admin/recipients/new', '/admin/recipients', fields);
      expect(refused.status).toBe(422);
      expect(salutationFields(refused.text).map((f) => [f.name, f.value])).toEqual([
        ['salutation_en', 'Dear Minister'],
        ['salutation_ko', ''],
        ['salutation_uk', ''],
        ['salutation_ja', '外務大臣閣下'],
      ]);
    });

    it("asks for the salutation in the recipient's own language, keeping what was typed, then saves them all", async () => {
      // German is none of the interface languages: the form adds its field and says it is missing.
      const refused = await postForm(visitor, '/admin/recipients/new', '/admin/recipients', form());
      expect(refused.status).toBe(422);
      expect(fieldErrors(refused.text, 'field-salutation_de')).toEqual([
        "Enter the salutation in the recipient's own language: the letters sent to them open with it.",
      ]);
      expect(salutationFields(refused.text)).toEqual([
        {
          name: 'salutation_en',
          lang: 'en',
          label: 'Salutation in English (optional)',
          value: 'Dear Federal Minister',
        },
        {
          name: 'salutation_ko',
          lang: 'ko',
          label: 'Salutation in Korean (optional)',
          value: '존경하는 독일 외무장관님께',
        },
        {
          name: 'salutation_uk',
          lang: 'uk',
          label: 'Salutation in Ukrainian (optional)',
          value: 'Шановний пане Федеральний Міністре',
        },
        { name: 'salutation_de', lang: 'de', label: 'Salutation in German (required)', value: '' },
      ]);
      expect(
        await t.platform.repositories.recipients.findByEmail('minister@auswaertiges-amt.example.org'),
      ).toBe(undefined);

      const saved = await postForm(
        visitor,
        '/admin/recipients/new',
        '/admin/recipients',
        withField(
          formFieldsFor(refused.text, '/admin/recipients'),
          'salutation_de',
          ' Sehr geehrter Herr Bundesminister ',
        ),
      );
      expect(saved.status).toBe(303);
      const stored = (await t.platform.repositories.recipients.findByEmail(
        'minister@auswaertiges-amt.example.org',
      ))!;
      expect(stored.salutations).toEqual({
        de: 'Sehr geehrter Herr Bundesminister',
        en: 'Dear Federal Minister',
        ko: '존경하는 독일 외무장관님께',
        uk: 'Шановний пане Федеральний Міністре',
      });

      // The list shows them, the own language's first.
      const list = await visitor.get('/admin/recipients');
      const rows = byClass(mainOf(list.text), 'salutation-list').map((ul) =>
        textOf(innerHtml(mainOf(list.text), ul)),
      );
      expect(rows).toContain(
        'German: Sehr geehrter Herr Bundesminister English: Dear Federal Minister Korean: 존경하는 독일 외무장관님께 Ukrainian: Шановний пане Федеральний Міністре',
      );
      expect(rows).toContain('English: Dear Representative');

      // Editing: clearing one removes it; the audit entry names the salutation that changed by its language.
      const edit = await visitor.get(`/admin/recipients/${stored.id}`);
      const fields = formFieldsFor(edit.text, `/admin/recipients/${stored.id}`);
      expect(fieldValue(fields, 'salutation_de')).toBe('Sehr geehrter Herr Bundesminister');
      const cleared = await postForm(
        visitor,
        `/admin/recipients/${stored.id}`,
        `/admin/recipients/${stored.id}`,
        withField(fields, 'salutation_ko', ''),
      );
      expect(cleared.status).toBe(303);
      expect((await t.platform.repositories.recipients.findById(stored.id))!.salutations).toEqual({
        de: 'Sehr geehrter Herr Bundesminister',
        en: 'Dear Federal Minister',
        uk: 'Шановний пане Федеральний Міністре',
      });
      const audit = await t.platform.db
        .selectFrom('audit_events')
        .select(['action', 'details'])
        .where('target_type', '=', 'recipient')
        .where('target_id', '=', String(stored.id))
        .orderBy('id')
        .execute();
      expect(audit.map((a) => a.action)).toEqual(['recipient-created', 'recipient-changed']);
      expect(JSON.parse(audit[1]!.details)).toMatchObject({ fields: ['salutation_ko'] });
    });

    it('keeps the salutations in languages the form was not asked about when the recipient is saved again', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now(), {
        ...OFFICE,
        email: 'office-2@unhcr-korea.example.org',
        salutations: { fr: 'Madame la Représentante' },
      });
      const edit = await visitor.get(`/admin/recipients/${id}`);
      const fields = formFieldsFor(edit.text, `/admin/recipients/${id}`);
      expect(fieldValue(fields, 'salutation_fr')).toBe('Madame la Représentante');
      expect(
        (await postForm(visitor, `/admin/recipients/${id}`, `/admin/recipients/${id}`, fields)).status,
      ).toBe(303);
      expect((await t.platform.repositories.recipients.findById(id))!.salutations).toEqual({
        en: 'Dear Representative',
        fr: 'Madame la Représentante',
      });
    });
  });

  describe('in the CSV import', () => {
    async function importCsv(csv: string) {
      const staged = await postForm(visitor, '/admin/recipients/import', '/admin/recipients/import', [
        ['pasted', csv],
      ]);
      expect(staged.status).toBe(303);
      const path = staged.headers.location!;
      return { path, page: await visitor.get(path) };
    }

    it('reads salutation_<code> columns beside salutation, shows them, and reports unknown ones as ignored', async () => {
      const csv = [
        'name,email,language,salutation,salutation_ko,salutation_uk,salutation_xx',
        'Embassy of Japan,ambassador@japan-embassy.example.org,ja,大使閣下,존경하는 주한 일본 대사님께,Шановний пане После,?',
        'Ministry of Foreign Affairs of Ukraine,minister@mfa-ukraine-2.example.org,uk,Шановний пане Міністре,,,',
      ].join('\n');
      const { path, page } = await importCsv(csv);
      const main = mainOf(page.text);
      expect(textOf(main)).toContain('These columns are not used and will be ignored: salutation_xx.');
      const shown = byClass(main, 'salutation-list').map((ul) => textOf(innerHtml(main, ul)));
      expect(shown).toEqual([
        'Japanese: 大使閣下 Korean: 존경하는 주한 일본 대사님께 Ukrainian: Шановний пане После',
        'Ukrainian: Шановний пане Міністре',
      ]);
      // The help text documents the columns.
      const help = textOf(mainOf((await visitor.get('/admin/recipients/import')).text));
      expect(help).toContain('Accepted columns: salutation_en, salutation_ko, salutation_uk,');

      const confirmed = await postForm(visitor, path, `${path}/confirm`, []);
      expect(confirmed.status).toBe(303);
      const japan = await t.platform.repositories.recipients.findByEmail(
        'ambassador@japan-embassy.example.org',
      );
      expect(japan?.salutations).toEqual({
        ja: '大使閣下',
        ko: '존경하는 주한 일본 대사님께',
        uk: 'Шановний пане После',
      });
    });

    it("updates only the languages the file has columns for, and refuses two different salutations for the row's language", async () => {
      const csv = [
        'name,email,language,salutation,salutation_uk',
        `${EMBASSY.name},${EMBASSY.email},en,Your Excellency,`,
        `${OFFICE.name},${OFFICE.email},en,Dear Representative,`,
        `Someone,someone@example.org,uk,Шановна пані,Шановний пане`,
      ].join('\n');
      const { path, page } = await importCsv(csv);
      const problems = byClass(mainOf(page.text), 'row-errors').map((ul) =>
        textOf(innerHtml(mainOf(page.text), ul)),
      );
      expect(problems).toEqual([
        "Salutation: The salutation column and the salutation column of this row's language say different things. Keep one of them.",
      ]);
      expect((await postForm(visitor, path, `${path}/confirm`, [])).status).toBe(303);
      // English replaced, the empty Ukrainian cell removes the Ukrainian one, Korean (no column) kept.
      expect((await t.platform.repositories.recipients.findById(embassy))!.salutations).toEqual({
        en: 'Your Excellency',
        ko: EMBASSY.salutations.ko,
      });
    });

    it("takes the row's own salutation from its salutation_<code> column when the file has no salutation column", async () => {
      const csv = [
        'name,email,language,salutation_en,salutation_ko',
        'Office,office@example.org,ko,Dear Director,존경하는 소장님께',
      ].join('\n');
      const { path } = await importCsv(csv);
      expect((await postForm(visitor, path, `${path}/confirm`, [])).status).toBe(303);
      const office = await t.platform.repositories.recipients.findByEmail('office@example.org');
      expect(office).toMatchObject({
        language: 'ko',
        salutation: '존경하는 소장님께',
        salutations: { en: 'Dear Director', ko: '존경하는 소장님께' },
      });
    });
  });
});
