import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Recipient } from '../../server/recipients/recipient.js';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldErrors,
  fieldsOf,
  fieldValue,
  formFieldsFor,
  postForm,
} from '../support/admin-forms.js';
import { byClass, byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { csrfTokenIn, type Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const MESSAGES = {
  emailInvalid: 'This is not an e-mail address. Check it for typing mistakes, like name@example.org.',
  emailTaken: 'Another recipient in the directory already has this address.',
  salutationRequired:
    "Enter the salutation in the recipient's own language: the letters sent to them open with it.",
  languageUnsupported: 'Letters cannot be sent in this language yet. Choose one from the list.',
  nameRequired: "Enter the recipient's name or the name of the institution.",
};

/** A valid recipient form; override any field. */
function recipientForm(overrides: Record<string, string> = {}) {
  return fieldsOf({
    name: 'Embassy of Ukraine in the Republic of Korea',
    title: 'Ambassador',
    organisation: 'Embassy of Ukraine',
    country: 'KR',
    email: 'Ambassador@Ukraine-Embassy.example.org',
    language: 'uk',
    salutation_uk: 'Шановний пане Посол',
    notes: 'Prefers letters in Ukrainian.\nCall before sending.',
    ...overrides,
  });
}

/** One row of the import preview as a person reads it. */
interface PreviewRow {
  line: string;
  action: string;
  name: string;
  email: string;
  language: string;
  problems: string[];
}

function previewRows(html: string): PreviewRow[] {
  const main = mainOf(html);
  return byClass(main, 'import-row').map((tr) => {
    const row = innerHtml(main, tr);
    const cells = startTags(row, 'td').map((td) => innerHtml(row, td));
    const problems = startTags(cells[5] ?? '', 'li').map((li) => textOf(innerHtml(cells[5]!, li)));
    const [line, action, name, email, language] = cells.map((cell) => textOf(cell));
    return { line: line!, action: action!, name: name!, email: email!, language: language!, problems };
  });
}

/** The message in the error summary at the top of the import form (its list, under the heading), or "". */
function uploadError(html: string): string {
  const main = mainOf(html);
  const [summary] = byClass(main, 'error-summary');
  if (!summary) return '';
  const inner = innerHtml(main, summary);
  return startTags(inner, 'li')
    .map((li) => textOf(innerHtml(inner, li)))
    .join(' ');
}

describe('the recipients directory', () => {
  let t: TestPlatform;
  let visitor: Visitor;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor } = await signedIn(t.app, t.platform, 'organizer'));
  });
  afterEach(async () => {
    await t.close();
  });

  const directory = () => t.platform.repositories.recipients.listAll();
  const recipientCount = async () => (await directory()).length;
  const byEmail = (email: string) => t.platform.repositories.recipients.findByEmail(email);

  describe('list and search', () => {
    beforeEach(async () => {
      const now = t.clock.now();
      await addRecipient(t.platform.db, now, {
        name: 'Ministry of Unification',
        organisation: 'Government of the Republic of Korea',
        email: 'minister@unification.example.org',
        country: 'KR',
        language: 'ko',
      });
      await addRecipient(t.platform.db, now, {
        name: 'UNHCR Representation in Korea',
        organisation: 'UNHCR',
        email: 'korea@unhcr.example.org',
        country: 'KR',
      });
      await addRecipient(t.platform.db, now, {
        name: 'Посольство України',
        organisation: 'Embassy of Ukraine',
        email: 'seoul@mfa-ukraine.example.org',
        country: 'UA',
        language: 'uk',
      });
    });

    /** The first cell of each row: the recipient's link text. */
    async function names(query = ''): Promise<string[]> {
      const page = await visitor.get(`/admin/recipients${query ? `?q=${encodeURIComponent(query)}` : ''}`);
      expect(page.status).toBe(200);
      const main = mainOf(page.text);
      return startTags(main, 'a')
        .filter((a) => /^\/admin\/recipients\/\d+$/.test(a.attrs.href ?? ''))
        .map((a) => textOf(innerHtml(main, a)));
    }

    it('lists every recipient, by organisation', async () => {
      expect(await names()).toEqual([
        'Посольство України',
        'Ministry of Unification',
        'UNHCR Representation in Korea',
      ]);
    });

    it('finds recipients by name, organisation, address or country, ignoring case', async () => {
      expect(await names('unification')).toEqual(['Ministry of Unification']);
      expect(await names('UNHCR')).toEqual(['UNHCR Representation in Korea']);
      expect(await names('mfa-ukraine.example')).toEqual(['Посольство України']);
      expect(await names('посольство')).toEqual(['Посольство України']);
      expect(await names('ua')).toEqual(['Посольство України']);
    });

    it('says so when nothing matches, and survives odd searches', async () => {
      const page = await visitor.get('/admin/recipients?q=nobody-at-all');
      expect(textOf(mainOf(page.text))).toContain('No recipient matches this search.');
      for (const q of ['%', "' or 1=1 --", '<script>', 'x'.repeat(5000)]) {
        const response = await visitor.get(`/admin/recipients?q=${encodeURIComponent(q)}`);
        expect(response.status).toBe(200);
        // The search is shown back in its box (cut at the box's 100 characters), as text: the markup
        // typed never becomes markup.
        const box = startTags(mainOf(response.text), 'input').find((i) => i.attrs.name === 'q');
        expect(box?.attrs.value, q.slice(0, 20)).toBe(q.slice(0, 100));
        expect(response.text).not.toContain('<script>');
      }
      expect((await visitor.get('/admin/recipients?q=a&q=b')).status).toBe(200);
    });
  });

  describe('adding and editing', () => {
    it('adds a recipient, with the address stored in lower case', async () => {
      const response = await postForm(visitor, '/admin/recipients/new', '/admin/recipients', recipientForm());
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe('/admin/recipients?done=created');
      expect(await byEmail('ambassador@ukraine-embassy.example.org')).toMatchObject({
        name: 'Embassy of Ukraine in the Republic of Korea',
        language: 'uk',
        country: 'KR',
        salutation: 'Шановний пане Посол',
        notes: 'Prefers letters in Ukrainian.\nCall before sending.',
      });
    });

    const invalid: { name: string; fields: Record<string, string>; field: string; message: string }[] = [
      {
        name: 'a malformed address',
        fields: { email: 'not an address' },
        field: 'field-email',
        message: MESSAGES.emailInvalid,
      },
      {
        name: 'an address with two @',
        fields: { email: 'a@b@example.org' },
        field: 'field-email',
        message: MESSAGES.emailInvalid,
      },
      {
        name: 'no salutation',
        fields: { salutation_uk: '   ' },
        field: 'field-salutation_uk',
        message: MESSAGES.salutationRequired,
      },
      {
        name: 'an unsupported language',
        fields: { language: 'xx' },
        field: 'field-language',
        message: MESSAGES.languageUnsupported,
      },
      { name: 'no name', fields: { name: '' }, field: 'field-name', message: MESSAGES.nameRequired },
    ];

    it.each(invalid)(
      'refuses $name with 422, the message beside the field and the values kept',
      async ({ fields, field, message }) => {
        const sent = recipientForm(fields);
        const before = await directory();
        const response = await postForm(visitor, '/admin/recipients/new', '/admin/recipients', sent);
        expect(response.status).toBe(422);
        expect(fieldErrors(response.text, field)).toEqual([message]);
        const shown = formFieldsFor(response.text, '/admin/recipients');
        for (const name of ['name', 'title', 'organisation', 'country', 'email', 'salutation_uk', 'notes']) {
          expect(fieldValue(shown, name), name).toBe(fieldValue(sent, name));
        }
        expect(await directory()).toEqual(before);
      },
    );

    it('refuses an address already in the directory, whatever its case', async () => {
      await addRecipient(t.platform.db, t.clock.now(), { email: 'ambassador@ukraine-embassy.example.org' });
      const before = await directory();
      const response = await postForm(visitor, '/admin/recipients/new', '/admin/recipients', recipientForm());
      expect(response.status).toBe(422);
      expect(fieldErrors(response.text, 'field-email')).toEqual([MESSAGES.emailTaken]);
      expect(await directory()).toEqual(before);
    });

    it('edits a recipient, and refuses to give it another recipient’s address', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now(), {
        name: 'Old name',
        email: 'old@example.org',
      });
      await addRecipient(t.platform.db, t.clock.now(), { email: 'someone-else@example.org' });
      const form = await visitor.get(`/admin/recipients/${id}`);
      expect(form.status).toBe(200);
      const fields = formFieldsFor(form.text, `/admin/recipients/${id}`);
      expect(fieldValue(fields, 'name')).toBe('Old name');

      const edited = fields.map(([n, v]): [string, string] => [
        n,
        n === 'name' ? 'Ministry of Foreign Affairs' : v,
      ]);
      const saved = await postForm(visitor, `/admin/recipients/${id}`, `/admin/recipients/${id}`, edited);
      expect(saved.status).toBe(303);
      expect(saved.headers.location).toBe('/admin/recipients?done=saved');
      expect((await t.platform.repositories.recipients.findById(id))!.name).toBe(
        'Ministry of Foreign Affairs',
      );

      const before = await directory();
      const taken = edited.map(([n, v]): [string, string] => [
        n,
        n === 'email' ? 'Someone-Else@example.org' : v,
      ]);
      const refused = await postForm(visitor, `/admin/recipients/${id}`, `/admin/recipients/${id}`, taken);
      expect(refused.status).toBe(422);
      expect(fieldErrors(refused.text, 'field-email')).toEqual([MESSAGES.emailTaken]);
      expect(await directory()).toEqual(before);

      expectErrorPage(await visitor.get('/admin/recipients/999999'), 404, ERROR_TITLES[404]);
    });
  });

  describe("a recipient's page", () => {
    const REASON = '5.1.1 550 5.1.1 <consul@embassy.example.org>: Recipient address rejected: User unknown';

    it('says that mail to the address bounces, since when and what the server said', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now(), { email: 'consul@embassy.example.org' });
      const quiet = await addRecipient(t.platform.db, t.clock.now(), { email: 'desk@embassy.example.org' });
      await t.platform.repositories.recipients.markBouncing(id, REASON, new Date('2026-11-20T08:30:00Z'));

      const page = await visitor.get(`/admin/recipients/${id}`);
      expect(page.status).toBe(200);
      const shown = textOf(innerHtml(page.text, byId(page.text, 'recipient-bouncing')!));
      expect(shown).toContain('bouncing');
      expect(shown).toContain('Mail to this address bounces.');
      expect(shown).toContain('Last bounce: Nov 20, 2026, 8:30:00 AM UTC.');
      expect(shown).toContain(REASON);
      expect(
        byId((await visitor.get(`/admin/recipients/${quiet}`)).text, 'recipient-bouncing'),
      ).toBeUndefined();

      // In the interface language the person chose.
      expect((await visitor.get('/language/ko?next=/admin')).status).toBe(303);
      const inKorean = (await visitor.get(`/admin/recipients/${id}`)).text;
      const korean = textOf(innerHtml(inKorean, byId(inKorean, 'recipient-bouncing')!));
      expect(korean).toContain('이 주소로 보낸 메일이 반송되고 있습니다.');
      expect(korean).toContain(REASON);
    });

    it('no longer says it once a corrected address is saved', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now(), { email: 'consul@embassy.example.org' });
      await t.platform.repositories.recipients.markBouncing(id, REASON, t.clock.now());
      const form = await visitor.get(`/admin/recipients/${id}`);
      const corrected = formFieldsFor(form.text, `/admin/recipients/${id}`).map(
        ([n, v]): [string, string] => [n, n === 'email' ? 'consulate@embassy.example.org' : v],
      );
      expect(
        (await postForm(visitor, `/admin/recipients/${id}`, `/admin/recipients/${id}`, corrected)).status,
      ).toBe(303);
      expect(byId((await visitor.get(`/admin/recipients/${id}`)).text, 'recipient-bouncing')).toBeUndefined();
    });
  });

  describe('deleting', () => {
    it('asks first, then deletes a recipient no letter addresses', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now());
      const ask = await visitor.get(`/admin/recipients/${id}/delete`);
      expect(ask.status).toBe(200);
      expect(startTags(mainOf(ask.text), 'form').map((f) => f.attrs.action)).toEqual([
        `/admin/recipients/${id}/delete`,
      ]);
      expect(await t.platform.repositories.recipients.findById(id)).toBeDefined();

      const deleted = await postForm(
        visitor,
        `/admin/recipients/${id}/delete`,
        `/admin/recipients/${id}/delete`,
        [],
      );
      expect(deleted.headers.location).toBe('/admin/recipients?done=deleted');
      expect(await t.platform.repositories.recipients.findById(id)).toBeUndefined();
    });

    it('says which letters address a recipient instead of offering to delete it, and refuses a delete posted anyway (409)', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now());
      const letterId = await createDraft(visitor, [id], { title_en: 'Protect the captured soldiers' });
      // The page asks nothing it would refuse: it names the letter, linked to its editor, and has no button.
      const ask = mainOf((await visitor.get(`/admin/recipients/${id}/delete`)).text);
      expect(textOf(ask)).toContain('cannot be deleted while letters address them');
      const links = startTags(ask, 'a').filter((a) => a.attrs.href === `/admin/letters/${letterId}`);
      expect(links.map((a) => textOf(innerHtml(ask, a)))).toEqual(['Protect the captured soldiers']);
      expect(startTags(ask, 'form')).toEqual([]);

      const response = await postForm(visitor, '/admin/recipients', `/admin/recipients/${id}/delete`, []);
      expectErrorPage(response, 409, ERROR_TITLES[409]);
      expect(textOf(mainOf(response.text))).toContain(
        'This recipient is on at least one letter. Remove them from those letters first.',
      );
      expect(await t.platform.repositories.recipients.findById(id)).toBeDefined();
    });
  });

  describe('CSV import', () => {
    const HEADER = 'name,title,organisation,country,email,language,salutation,notes';

    /** Opens the import form and uploads `csv` as a file, as a browser would (multipart). */
    async function upload(as: Visitor, csv: string | Buffer, fileName = 'list.csv') {
      const page = await as.get('/admin/recipients/import');
      return as.agent
        .post('/admin/recipients/import')
        .set('Accept', 'text/html')
        .attach('file', typeof csv === 'string' ? Buffer.from(csv, 'utf8') : csv, fileName)
        .field('_csrf', csrfTokenIn(page.text));
    }

    it('says both of its limits beside the file field: the size and the number of recipients', async () => {
      const page = await visitor.get('/admin/recipients/import');
      expect(textOf(innerHtml(page.text, byId(page.text, 'field-file-hint')!))).toBe(
        'UTF-8, comma or semicolon separated, at most 2 MB and 5,000 recipients. The first row names the columns.',
      );
    });

    /** Opens the import form and sends `csv` as pasted text (multipart, as the form is). */
    async function paste(as: Visitor, csv: string) {
      const page = await as.get('/admin/recipients/import');
      return as.agent
        .post('/admin/recipients/import')
        .set('Accept', 'text/html')
        .field('pasted', csv)
        .field('_csrf', csrfTokenIn(page.text));
    }

    function previewPath(response: { status: number; headers: Record<string, string> }): string {
      expect(response.status).toBe(303);
      expect(response.headers.location).toMatch(/^\/admin\/recipients\/import\/[A-Za-z0-9_-]{10,40}$/);
      return response.headers.location!;
    }

    const confirm = (as: Visitor, path: string) => postForm(as, path, `${path}/confirm`, []);

    it('shows the salutation of a row without a language as in no language (it said "root")', async () => {
      const path = previewPath(
        await upload(visitor, [HEADER, 'No Language,,,KR,nolang@example.org,,Dear Sir,'].join('\n')),
      );
      const main = mainOf((await visitor.get(path)).text);
      const [list] = byClass(main, 'salutation-list');
      expect(textOf(innerHtml(main, list!))).toBe('no language given: Dear Sir');
      expect(main).not.toContain('root');
      expect(startTags(innerHtml(main, list!), 'span').some((s) => s.attrs.lang !== undefined)).toBe(false);
    });

    it('previews every row with its line, what will happen and its problems, and writes nothing', async () => {
      await addRecipient(t.platform.db, t.clock.now(), {
        name: 'Ministry of Unification',
        email: 'minister@unification.example.org',
        salutation: 'Dear Minister',
      });
      const before = await directory();
      const csv = [
        HEADER,
        'UNHCR Korea,Representative,UNHCR,KR,korea@unhcr.example.org,en,Dear Representative,',
        'Ministry of Unification,Minister,Ministry of Unification,South Korea,MINISTER@unification.example.org,Korean,존경하는 장관님께,"Two lines',
        'of notes"',
        'No Address,,,KR,not-an-address,en,Dear Sir,',
        'Bad Language,,,KR,lang@example.org,xx,Dear Sir,',
        'Twice,,,KR,korea@unhcr.example.org,en,Dear Sir,',
        'Too,few,values',
      ].join('\n');
      const path = previewPath(await upload(visitor, csv));
      expect(await directory()).toEqual(before);

      const page = await visitor.get(path);
      expect(page.status).toBe(200);
      expect(textOf(mainOf(page.text))).toContain('Nothing has been imported yet from list.csv.');
      const rows = previewRows(page.text);
      expect(rows.map((r) => [r.line, r.action, r.email])).toEqual([
        ['2', 'added', 'korea@unhcr.example.org'],
        // An update names what it changes (the Korean salutation is added beside the English one).
        [
          '3',
          'updated Changes: Title Organisation Language Salutation in Korean Notes',
          'MINISTER@unification.example.org',
        ],
        ['5', 'skipped', 'not-an-address'],
        ['6', 'skipped', 'lang@example.org'],
        ['7', 'skipped', 'korea@unhcr.example.org'],
        ['8', 'skipped', ''],
      ]);
      expect(rows.slice(0, 2).map((r) => r.problems)).toEqual([[], []]);
      expect(rows[2]!.problems).toEqual([`E-mail address: ${MESSAGES.emailInvalid}`]);
      expect(rows[3]!.problems).toEqual([
        'Language: "xx" is not one of the languages letters can be sent in: en, ko, uk, ru, ja, zh, de, fr, es, it, pl, nl.',
      ]);
      expect(rows[4]!.problems).toEqual([
        'E-mail address: This e-mail address is already on line 2 of the file.',
      ]);
      expect(rows[5]!.problems).toEqual([
        'Row: This row has 3 values, but the first row names 8 columns. A comma or semicolon inside a value must be in double quotes.',
      ]);
      const counts = startTags(mainOf(page.text), 'li').map((li) => textOf(innerHtml(mainOf(page.text), li)));
      expect(counts).toEqual(
        expect.arrayContaining([
          '1 new recipient',
          '1 recipient already in the directory, to be updated',
          '4 rows with problems, to be skipped',
        ]),
      );
      // Looking at the preview writes nothing either.
      expect(await directory()).toEqual(before);
    });

    it('says a row of one value has "1 value", in the singular', async () => {
      const csv = [
        HEADER,
        'UNHCR Korea,Representative,UNHCR,KR,korea@unhcr.example.org,en,Dear Representative,',
        'Alone',
      ].join('\n');
      const rows = previewRows((await visitor.get(previewPath(await upload(visitor, csv)))).text);
      expect(rows[1]!.problems).toEqual([
        'Row: This row has 1 value, but the first row names 8 columns. A comma or semicolon inside a value must be in double quotes.',
      ]);
    });

    it('imports the valid rows and updates the known addresses when confirmed, once', async () => {
      const known = await addRecipient(t.platform.db, t.clock.now(), {
        name: 'Ministry of Unification',
        email: 'minister@unification.example.org',
        salutation: 'Dear Minister',
        language: 'en',
      });
      const csv = [
        HEADER,
        'UNHCR Korea,Representative,UNHCR,KR,korea@unhcr.example.org,en,Dear Representative,',
        'Ministry of Unification,Minister,Ministry of Unification,KR,Minister@Unification.example.org,ko,존경하는 장관님께,',
        'Broken,,,KR,broken,en,Dear Sir,',
      ].join('\n');
      const path = previewPath(await upload(visitor, csv));
      const confirmed = await confirm(visitor, path);
      expect(confirmed.status).toBe(303);
      expect(confirmed.headers.location).toBe(
        '/admin/recipients?done=imported&created=1&updated=1&skipped=1',
      );
      const list = await visitor.get(confirmed.headers.location!);
      expect(textOf(mainOf(list.text))).toContain('Import finished. Added: 1; updated: 1; rows skipped: 1.');
      // The address edited by hand, a figure missing or not a number: no notice, rather than "{{updated}}".
      for (const edited of ['created=2', 'created=2&updated=x&skipped=1']) {
        const page = textOf(mainOf((await visitor.get(`/admin/recipients?done=imported&${edited}`)).text));
        expect(page, edited).not.toContain('{{');
        expect(page, edited).not.toContain('Import finished');
      }

      expect(await recipientCount()).toBe(2);
      expect(await byEmail('korea@unhcr.example.org')).toMatchObject({
        name: 'UNHCR Korea',
        title: 'Representative',
      });
      const updated = (await t.platform.repositories.recipients.findById(known))!;
      expect(updated).toMatchObject({
        email: 'minister@unification.example.org',
        language: 'ko',
        salutation: '존경하는 장관님께',
      });
      expect(await byEmail('broken')).toBeUndefined();

      // A second click imports nothing more: the staged file is gone.
      const again = await confirm(visitor, path);
      expectErrorPage(again, 404, ERROR_TITLES[404]);
      expect(await recipientCount()).toBe(2);
      expectErrorPage(await visitor.get(path), 404, ERROR_TITLES[404]);
    });

    it('keeps what the directory knows about a recipient when the file has no column for it', async () => {
      const id = await addRecipient(t.platform.db, t.clock.now(), {
        name: 'Ministry of Unification',
        title: 'Minister of Unification',
        organisation: 'Government of the Republic of Korea',
        country: 'KR',
        email: 'minister@unification.example.org',
        salutation: 'Dear Minister',
        notes: 'Call the office before sending.',
      });
      const csv = [
        'name,email,language,salutation',
        'Ministry of Unification,minister@unification.example.org,ko,존경하는 장관님께',
      ].join('\n');
      const path = previewPath(await upload(visitor, csv));
      expect(previewRows((await visitor.get(path)).text).map((r) => r.action)).toEqual([
        'updated Changes: Language Salutation in Korean',
      ]);
      await confirm(visitor, path);
      expect(await t.platform.repositories.recipients.findById(id)).toMatchObject({
        language: 'ko',
        salutation: '존경하는 장관님께',
        title: 'Minister of Unification',
        organisation: 'Government of the Republic of Korea',
        country: 'KR',
        notes: 'Call the office before sending.',
      });
    });

    it('imports pasted CSV text the same way', async () => {
      const csv = `${HEADER}\nICRC Delegation,Head of Delegation,ICRC,KR,seoul@icrc.example.org,en,Dear Head of Delegation,`;
      const path = previewPath(await paste(visitor, csv));
      expect(textOf(mainOf((await visitor.get(path)).text))).toContain('pasted.csv');
      expect(await recipientCount()).toBe(0);
      await confirm(visitor, path);
      expect(await byEmail('seoul@icrc.example.org')).toMatchObject({
        name: 'ICRC Delegation',
        organisation: 'ICRC',
      });
    });

    it('discards a cancelled import', async () => {
      const path = previewPath(await upload(visitor, `${HEADER}\nUNHCR,,,KR,unhcr@example.org,en,Dear Sir,`));
      const cancelled = await postForm(visitor, path, `${path}/cancel`, []);
      expect(cancelled.headers.location).toBe('/admin/recipients/import?done=cancelled');
      expect(textOf(mainOf((await visitor.get(cancelled.headers.location!)).text))).toContain(
        'The import was cancelled. Nothing was imported.',
      );
      expectErrorPage(await visitor.get(path), 404, ERROR_TITLES[404]);
      expectErrorPage(await confirm(visitor, path), 404, ERROR_TITLES[404]);
      expect(await recipientCount()).toBe(0);
    });

    it('keeps an import to the person who uploaded it: another account can neither see nor confirm it', async () => {
      const path = previewPath(await upload(visitor, `${HEADER}\nUNHCR,,,KR,unhcr@example.org,en,Dear Sir,`));
      for (const role of ['organizer', 'admin'] as const) {
        const { visitor: other } = await signedIn(t.app, t.platform, role);
        expectErrorPage(await other.get(path), 404, ERROR_TITLES[404]);
        expectErrorPage(await confirm(other, path), 404, ERROR_TITLES[404]);
        expectErrorPage(
          await postForm(other, '/admin/recipients', `${path}/cancel`, []),
          404,
          ERROR_TITLES[404],
        );
      }
      expect(await recipientCount()).toBe(0);
      // Still there for its owner.
      expect((await confirm(visitor, path)).status).toBe(303);
      expect(await recipientCount()).toBe(1);
    });

    const unreadable: { name: string; file: string | Buffer; message: string }[] = [
      { name: 'an empty file', file: '', message: 'Choose a file or paste the CSV text.' },
      { name: 'a file of blank lines', file: '\n\n  \n', message: 'Choose a file or paste the CSV text.' },
      {
        name: 'a header without rows',
        file: `${HEADER}\n`,
        message: 'The file has column names but no recipients under them.',
      },
      {
        name: 'missing required columns',
        file: 'name,title\nUNHCR,Representative',
        message: 'The first row must name the columns. These are missing: email, language, salutation.',
      },
      {
        name: 'misspelt columns',
        file: 'name,e-mial,language,salutation\nUNHCR,unhcr@example.org,en,Dear Sir',
        message:
          'The first row must name the columns. These are missing: email. These column names were not recognised: e-mial.',
      },
      {
        name: 'binary garbage',
        file: Buffer.from([0x50, 0x4b, 0x03, 0x04, 0x00, 0xff, 0xfe, 0x00, 0x89, 0x13]),
        message:
          'This file could not be read as text. In your spreadsheet, choose "Save as" and the format "CSV UTF-8", then upload that file.',
      },
      {
        name: 'a quotation mark never closed',
        file: `${HEADER}\nUNHCR,,,KR,unhcr@example.org,en,Dear Sir,\n"ICRC,,,KR,icrc@example.org,en,Dear Sir,\n`,
        message:
          'The value that starts on line 3 opens a quotation mark that is never closed. Close it, or remove it.',
      },
    ];

    it.each(unreadable)(
      'shows the upload form again with 422 and a clear message for $name',
      async ({ file, message }) => {
        const response = await upload(visitor, file);
        expect(response.status).toBe(422);
        expect(uploadError(response.text)).toBe(message);
        expect(byId(response.text, 'field-file')).toBeDefined();
        expect(await t.platform.db.selectFrom('recipient_imports').selectAll().execute()).toEqual([]);
        expect(await recipientCount()).toBe(0);
      },
    );

    it('answers a broken upload with 400, not 500, and stores nothing', async () => {
      const page = await visitor.get('/admin/recipients/import');
      const token = csrfTokenIn(page.text);
      const broken = await visitor.agent
        .post('/admin/recipients/import')
        .set('Accept', 'text/html')
        .set('Content-Type', 'multipart/form-data; boundary=xyz')
        .send(
          `--xyz\r\nContent-Disposition: form-data; name="_csrf"\r\n\r\n${token}\r\n--xyz\r\nContent-Disp`,
        );
      expectErrorPage(broken, 400, ERROR_TITLES[400]);
      // Two files where one is expected.
      const twice = await visitor.agent
        .post('/admin/recipients/import')
        .set('Accept', 'text/html')
        .attach('file', Buffer.from(`${HEADER}\n`), 'a.csv')
        .attach('file', Buffer.from(`${HEADER}\n`), 'b.csv')
        .field('_csrf', token);
      expectErrorPage(twice, 400, ERROR_TITLES[400]);
      expect(await t.platform.db.selectFrom('recipient_imports').selectAll().execute()).toEqual([]);
    });

    it('keeps pasted text that cannot be read in the form, with the message', async () => {
      const pasted = 'name;title\nUNHCR;Representative';
      const response = await paste(visitor, pasted);
      expect(response.status).toBe(422);
      expect(uploadError(response.text)).toContain('These are missing: email, language, salutation.');
      expect(fieldValue(formFieldsFor(response.text, '/admin/recipients/import'), 'pasted')).toBe(pasted);
    });

    it('refuses a file over 2 MB with 413 and stores nothing', async () => {
      const row = 'UNHCR Representation,Representative,UNHCR,KR,unhcr@example.org,en,Dear Representative,\n';
      const big = `${HEADER}\n${row.repeat(Math.ceil((2 * 1024 * 1024) / row.length) + 1)}`;
      expect(Buffer.byteLength(big)).toBeGreaterThan(2 * 1024 * 1024);
      const response = await upload(visitor, big);
      expectErrorPage(response, 413, ERROR_TITLES[413]);
      expect(textOf(mainOf(response.text))).toContain('The file is larger than the import accepts.');
      expect(await t.platform.db.selectFrom('recipient_imports').selectAll().execute()).toEqual([]);
    });

    it('refuses pasted text over 2 MB with 413 too', async () => {
      const row = 'UNHCR Representation,Representative,UNHCR,KR,unhcr@example.org,en,Dear Representative,\n';
      const big = `${HEADER}\n${row.repeat(Math.ceil((2 * 1024 * 1024) / row.length) + 1)}`;
      const response = await paste(visitor, big);
      expectErrorPage(response, 413, ERROR_TITLES[413]);
      expect(await t.platform.db.selectFrom('recipient_imports').selectAll().execute()).toEqual([]);
    });

    it('refuses over 2 MB of CSV sent as an ordinary form too', async () => {
      // 1,200 valid rows with long notes: few enough rows, but more than 2 MB.
      const rows = Array.from(
        { length: 1200 },
        (_, i) =>
          `UNHCR ${i},Representative,UNHCR,KR,unhcr-${i}@example.org,en,Dear Representative,${'n'.repeat(1900)}`,
      );
      const big = `${HEADER}\n${rows.join('\n')}`;
      expect(Buffer.byteLength(big)).toBeGreaterThan(2 * 1024 * 1024);
      const page = await visitor.get('/admin/recipients/import');
      const response = await visitor.agent
        .post('/admin/recipients/import')
        .type('form')
        .set('Accept', 'text/html')
        .send(new URLSearchParams({ pasted: big, _csrf: csrfTokenIn(page.text) }).toString());
      expectErrorPage(response, 413, ERROR_TITLES[413]);
      expect(await t.platform.db.selectFrom('recipient_imports').selectAll().execute()).toEqual([]);
    });

    it('accepts a file just under 2 MB as pasted text too', async () => {
      const row = 'UNHCR Representation,Representative,UNHCR,KR,unhcr@example.org,en,Dear Representative,\n';
      // About 1.5 MB of rows: over the default form-field size, under the import's limit.
      const rows = Array.from({ length: 4000 }, (_, i) =>
        row
          .replace('unhcr@', `unhcr-${i}@`)
          .replace('Representative,\n', `Representative ${'x'.repeat(300)},\n`),
      );
      const csv = `${HEADER}\n${rows.join('')}`;
      expect(Buffer.byteLength(csv)).toBeGreaterThan(1024 * 1024);
      expect(Buffer.byteLength(csv)).toBeLessThan(2 * 1024 * 1024);
      const path = previewPath(await paste(visitor, csv));
      expect(previewRows((await visitor.get(path)).text)).toHaveLength(4000);
    });

    it('keeps Korean and Ukrainian names and salutations exactly through the round trip', async () => {
      const csv = [
        `\uFEFF${HEADER}`,
        '대한민국 통일부,통일부 장관,대한민국 정부,KR,minister@unification.example.org,한국어,존경하는 장관님께,',
        '"Посольство України в Республіці Корея","Посол","МЗС України",UA,ambassador@mfa-ukraine.example.org,Ukrainian,"Шановний пане Посол, ","Їжак, ґанок, є"',
      ].join('\r\n');
      const path = previewPath(await upload(visitor, csv, '수신자 목록.csv'));
      const previewPage = await visitor.get(path);
      // The file's name as the organizer's computer has it (browsers send it in UTF-8).
      expect(textOf(mainOf(previewPage.text))).toContain(
        'Nothing has been imported yet from 수신자 목록.csv.',
      );
      const preview = previewRows(previewPage.text);
      expect(preview.map((r) => [r.name, r.action])).toEqual([
        ['대한민국 통일부', 'added'],
        ['Посольство України в Республіці Корея', 'added'],
      ]);
      await confirm(visitor, path);
      const korean = (await byEmail('minister@unification.example.org')) as Recipient;
      expect(korean).toMatchObject({
        name: '대한민국 통일부',
        title: '통일부 장관',
        organisation: '대한민국 정부',
        language: 'ko',
        salutation: '존경하는 장관님께',
      });
      expect(await byEmail('ambassador@mfa-ukraine.example.org')).toMatchObject({
        name: 'Посольство України в Республіці Корея',
        title: 'Посол',
        organisation: 'МЗС України',
        country: 'UA',
        language: 'uk',
        salutation: 'Шановний пане Посол,',
        notes: 'Їжак, ґанок, є',
      });
      const list = await visitor.get('/admin/recipients');
      expect(textOf(mainOf(list.text))).toContain('대한민국 통일부');
      expect(textOf(mainOf(list.text))).toContain('Посольство України в Республіці Корея');
      expect(hrefsIn(list.text)).toContain(`/admin/recipients/${korean.id}`);
      const edit = await visitor.get(`/admin/recipients/${korean.id}`);
      expect(fieldValue(formFieldsFor(edit.text, `/admin/recipients/${korean.id}`), 'salutation_ko')).toBe(
        '존경하는 장관님께',
      );
    });
  });
});
