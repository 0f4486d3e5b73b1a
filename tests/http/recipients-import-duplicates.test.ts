import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  formFieldsFor,
  postForm,
  uploadRecipients,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { auditEntries } from '../support/audit-log.js';
import { byClass, byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const HEADER = 'name,title,organisation,country,email,language,salutation,notes';
const KNOWN = {
  name: 'Ministry of Unification',
  organisation: 'Ministry of Unification',
  email: 'minister@unification.example.org',
  salutation: 'Dear Minister',
};
// The same name as the directory's, typed differently: letter case and spaces.
const CSV = [
  HEADER,
  'UNHCR Korea,Representative,UNHCR,KR,korea@unhcr.example.org,en,Dear Representative,',
  '  ministry   of UNIFICATION ,Minister,Ministry of Unification,KR,office@unification.example.org,en,Dear Minister,',
].join('\n');
const DUPLICATE_LINE = '3';

/** The preview's rows: line, what will happen, problems, and the choices offered (radio values). */
function previewRows(html: string) {
  const main = mainOf(html);
  return byClass(main, 'import-row').map((tr) => {
    const row = innerHtml(main, tr);
    const cells = startTags(row, 'td').map((td) => innerHtml(row, td));
    return {
      line: textOf(cells[0]!),
      action: textOf(cells[1]!),
      problems: startTags(cells[5]!, 'li').map((li) => textOf(innerHtml(cells[5]!, li))),
      choices: startTags(row, 'input')
        .filter((input) => input.attrs.type === 'radio')
        .map((input) => ({ value: input.attrs.value, checked: 'checked' in input.attrs })),
    };
  });
}

describe('a CSV import does not add a recipient the directory has under another address without a word', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let known: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ visitor } = await signedIn(t.app, t.platform, 'admin'));
    known = await addRecipient(t.platform.db, t.clock.now(), KNOWN);
  });
  afterEach(async () => {
    await t.close();
  });

  const byEmail = (email: string) => t.platform.repositories.recipients.findByEmail(email);
  const named = async (name: string) =>
    (await t.platform.repositories.recipients.listAll()).filter((r) => r.name.trim() === name);

  /** Uploads `csv` and returns the preview's path. */
  async function upload(csv: string): Promise<string> {
    const response = await uploadRecipients(visitor, csv);
    expect(response.status).toBe(303);
    return response.headers.location!;
  }

  /** Confirms the import with the form's own fields (the choices as shown), changed by `change`. */
  async function confirm(path: string, change: (fields: FormFields) => FormFields = (f) => f) {
    const page = await visitor.get(path);
    const fields = change(formFieldsFor(page.text, `${path}/confirm`));
    return postForm(visitor, path, `${path}/confirm`, fields);
  }

  it('shows the row as a possible duplicate, naming the recipient it may duplicate, and skips it by default', async () => {
    const path = await upload(CSV);
    const page = await visitor.get(path);
    expect(page.status).toBe(200);
    const rows = previewRows(page.text);
    expect(rows.map((r) => [r.line, r.action])).toEqual([
      ['2', 'added'],
      [DUPLICATE_LINE, 'possible duplicate'],
    ]);
    expect(rows[1]!.problems).toEqual([
      'Possibly already in the directory as Ministry of Unification (minister@unification.example.org, Ministry of Unification).',
    ]);
    expect(rows[1]!.choices).toEqual([
      { value: 'skip', checked: true },
      { value: 'add', checked: false },
      { value: `update-${known}`, checked: false },
    ]);
    expect(byId(page.text, `choice-${DUPLICATE_LINE}-skip`)).toBeDefined();
    expect(textOf(mainOf(page.text))).toContain('1 possible duplicate');

    const confirmed = await confirm(path);
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=1&updated=0&skipped=1');
    expect(await byEmail('office@unification.example.org')).toBeUndefined();
    expect(await named('Ministry of Unification')).toHaveLength(1);
    expect(await byEmail('korea@unhcr.example.org')).toBeDefined();
  });

  it('skips the row when the confirmation carries no choice (a script, an older page)', async () => {
    const path = await upload(CSV);
    const confirmed = await postForm(visitor, path, `${path}/confirm`, []);
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=1&updated=0&skipped=1');
    expect(await byEmail('office@unification.example.org')).toBeUndefined();
  });

  it('adds it anyway when asked to', async () => {
    const path = await upload(CSV);
    const confirmed = await confirm(path, (f) => withField(f, `choice-${DUPLICATE_LINE}`, 'add'));
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=2&updated=0&skipped=0');
    expect(await byEmail('office@unification.example.org')).toMatchObject({ title: 'Minister' });
    expect(await byEmail(KNOWN.email)).toBeDefined();
  });

  it('updates the recipient it duplicates when asked to, new address included, and records the change', async () => {
    const path = await upload(CSV);
    const confirmed = await confirm(path, (f) => withField(f, `choice-${DUPLICATE_LINE}`, `update-${known}`));
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=1&updated=1&skipped=0');
    const updated = (await t.platform.repositories.recipients.findById(known))!;
    expect(updated).toMatchObject({ email: 'office@unification.example.org', title: 'Minister' });
    expect(await named('Ministry of Unification')).toHaveLength(0);
    const [entry] = (await auditEntries(t.platform.db, 'recipient-changed')).slice(-1);
    expect(entry).toMatchObject({
      target_id: String(known),
      details: { emailFrom: KNOWN.email, emailTo: 'office@unification.example.org' },
    });
  });

  it('never updates a recipient the preview did not offer, whatever id is posted', async () => {
    const other = await addRecipient(t.platform.db, t.clock.now(), { name: 'Someone Else' });
    const before = await t.platform.repositories.recipients.findById(other);
    const path = await upload(CSV);
    const confirmed = await confirm(path, (f) => withField(f, `choice-${DUPLICATE_LINE}`, `update-${other}`));
    expect(confirmed.headers.location).toBe('/admin/recipients?done=imported&created=1&updated=0&skipped=1');
    expect(await t.platform.repositories.recipients.findById(other)).toEqual(before);
    expect(await byEmail('office@unification.example.org')).toBeUndefined();
  });

  it.each([['maybe'], ['update-'], ['update-0'], ['add ']])(
    'takes %j as no choice: the row is skipped',
    async (value) => {
      const path = await upload(CSV);
      const confirmed = await confirm(path, (f) => withField(f, `choice-${DUPLICATE_LINE}`, value));
      expect(confirmed.status).toBe(303);
      expect(confirmed.headers.location).toBe(
        '/admin/recipients?done=imported&created=1&updated=0&skipped=1',
      );
    },
  );

  it('does not flag a row whose name is only similar', async () => {
    const path = await upload(
      [HEADER, 'Ministry of Unification Office,,,KR,office@unification.example.org,en,Dear Sir,'].join('\n'),
    );
    const rows = previewRows((await visitor.get(path)).text);
    expect(rows.map((r) => [r.action, r.choices.length])).toEqual([['added', 0]]);
  });
});
