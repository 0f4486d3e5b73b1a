import type { User } from '../../server/accounts/account.js';
import type { Db } from '../../server/db/database.js';
import type { NewRecipient } from '../../server/recipients/recipient-repository.js';
import { RecipientRepository } from '../../server/recipients/recipient-repository.js';
import { byId, decodeEntities, innerHtml, startTags, textOf } from './html.js';
import { signedIn } from './accounts.js';
import { csrfTokenIn, Visitor } from './http.js';
import { createTestPlatform, type TestPlatform } from './test-platform.js';

/** Form fields as a browser sends them: a name may repeat (checkboxes, the letter's languages). */
export type FormFields = [string, string][];

/** Fields from an object; an array value becomes one field per item. */
export function fieldsOf(values: Record<string, string | readonly string[]>): FormFields {
  return Object.entries(values).flatMap(([name, value]) =>
    typeof value === 'string'
      ? [[name, value] as [string, string]]
      : value.map((v) => [name, v] as [string, string]),
  );
}

/** The fields with `name` replaced by `value` (added when missing; removed when value is null). */
export function withField(fields: FormFields, name: string, value: string | null): FormFields {
  const rest = fields.filter(([n]) => n !== name);
  return value === null ? rest : [...rest, [name, value]];
}

/** The value of the first field called `name`, or undefined. */
export function fieldValue(fields: FormFields, name: string): string | undefined {
  return fields.find(([n]) => n === name)?.[1];
}

/**
 * What a browser would submit from the form with this id: text, hidden and date inputs, checked boxes and
 * radios, textareas and the selected option of each select. Buttons are left out (the test chooses one).
 */
export function formFields(html: string, formId: string): FormFields {
  const form = byId(html, formId);
  if (!form) throw new Error(`no form #${formId} in the page`);
  return fieldsIn(innerHtml(html, form));
}

/** What a browser would submit from the form that posts to `action` (see formFields). */
export function formFieldsFor(html: string, action: string): FormFields {
  const form = startTags(html, 'form').find((f) => f.attrs.action === action);
  if (!form) throw new Error(`no form posting to ${action} in the page`);
  return fieldsIn(innerHtml(html, form));
}

function fieldsIn(inner: string): FormFields {
  const fields: FormFields = [];
  for (const tag of startTags(inner)) {
    const name = tag.attrs.name;
    // The CSRF token is added when posting, from the page the form is posted from.
    if (!name || name === '_csrf') continue;
    if (tag.name === 'input') {
      const type = (tag.attrs.type ?? 'text').toLowerCase();
      if (type === 'submit' || type === 'button' || type === 'file') continue;
      if ((type === 'checkbox' || type === 'radio') && !('checked' in tag.attrs)) continue;
      fields.push([name, tag.attrs.value ?? (type === 'checkbox' ? 'on' : '')]);
    } else if (tag.name === 'textarea') {
      // A line break right after <textarea> is not part of the value, as browsers read it.
      fields.push([name, decodeEntities(innerHtml(inner, tag)).replace(/^\n/, '')]);
    } else if (tag.name === 'select') {
      const options = startTags(innerHtml(inner, tag), 'option');
      const chosen = options.find((o) => 'selected' in o.attrs) ?? options[0];
      if (chosen) fields.push([name, chosen.attrs.value ?? '']);
    }
  }
  return fields;
}

/** Posts fields (with repeated names kept) and the CSRF token of `formPage`, as a browser form would. */
export async function postForm(visitor: Visitor, formPage: string, action: string, fields: FormFields) {
  const page = await visitor.get(formPage);
  const body = new URLSearchParams([...fields, ['_csrf', csrfTokenIn(page.text)]]);
  return visitor.agent.post(action).type('form').set('Accept', 'text/html').send(body.toString());
}

/** Uploads a recipients CSV file as the import page does; returns the response (303 to its preview when read). */
export async function uploadRecipients(visitor: Visitor, csv: string) {
  const page = await visitor.get('/admin/recipients/import');
  return visitor.agent
    .post('/admin/recipients/import')
    .set('Accept', 'text/html')
    .attach('file', Buffer.from(csv, 'utf8'), 'list.csv')
    .field('_csrf', csrfTokenIn(page.text));
}

/** The messages shown beside one field (the `<p class="field-error" id="<fieldId>-error">` elements). */
export function fieldErrors(html: string, fieldId: string): string[] {
  const strip = (text: string) => text.replace(/^Error:\s*/, '');
  const holders = startTags(html).filter((tag) => tag.attrs.id === `${fieldId}-error`);
  // One paragraph (field-error), or one block of them for a field with several problems (field-errors).
  return holders.flatMap((holder) => {
    const inner = innerHtml(html, holder);
    if (holder.name === 'p') return [strip(textOf(inner))];
    return startTags(inner, 'p').map((p) => strip(textOf(innerHtml(inner, p))));
  });
}

/** Whether the field names its error message (aria-describedby), so a screen reader says it with the field. */
export function describesItsError(html: string, fieldId: string): boolean {
  const described = (byId(html, fieldId)?.attrs['aria-describedby'] ?? '').split(/\s+/);
  return described.includes(`${fieldId}-error`) && byId(html, `${fieldId}-error`) !== undefined;
}

let sequence = 0;

/** Adds a recipient to the directory directly; returns its id. */
export async function addRecipient(
  db: Db,
  now: Date,
  overrides: Partial<NewRecipient> = {},
): Promise<number> {
  sequence += 1;
  return new RecipientRepository(db).findOrCreate(
    {
      name: `Recipient ${sequence}`,
      title: 'Ambassador',
      organisation: `Embassy ${sequence}`,
      country: 'KR',
      email: `recipient-${sequence}@example.org`,
      language: 'en',
      salutation: 'Dear Ambassador',
      ...overrides,
    },
    now,
  );
}

/**
 * A fresh platform as the letter workflow starts: an organizer logged in, a supporter's browser beside
 * it, and one recipient in the directory. The caller closes `t`.
 */
export async function organizerPlatform(): Promise<{
  t: TestPlatform;
  organizer: User;
  visitor: Visitor;
  supporter: Visitor;
  recipient: number;
}> {
  const t = await createTestPlatform();
  const { user: organizer, visitor } = await signedIn(t.app, t.platform, 'organizer');
  const recipient = await addRecipient(t.platform.db, t.clock.now());
  return { t, organizer, visitor, supporter: new Visitor(t.app), recipient };
}

/** Every row of the tables a letter is stored in, to compare before and after a refused request. */
export async function letterTables(db: Db) {
  return {
    letters: await db.selectFrom('letters').selectAll().orderBy('id').execute(),
    versions: await db.selectFrom('letter_versions').selectAll().orderBy('id').execute(),
    texts: await db
      .selectFrom('letter_texts')
      .selectAll()
      .orderBy('letter_version_id')
      .orderBy('language')
      .execute(),
    recipients: await db
      .selectFrom('letter_recipients')
      .selectAll()
      .orderBy('letter_id')
      .orderBy('position')
      .execute(),
  };
}

/** A letter text with the merge fields an organizer uses most. */
export const EN_BODY = `{{date}}

{{recipient.salutation}},

We ask you to let the captured soldiers choose their country of asylum.

{{#each organisations}}{{name}}
{{/each}}`;

/** A complete editor form for a new letter; override any field. */
export function letterForm(
  recipientIds: number[],
  overrides: Record<string, string | string[]> = {},
): FormFields {
  return fieldsOf({
    slug: 'let-them-choose',
    primary_language: 'en',
    sponsor: 'Escapees for freedom',
    organisations: 'Transitional Justice Working Group\nNK Watch',
    goal: '500',
    opens_at: '',
    closes_at: '2027-01-31',
    recipients: recipientIds.map(String),
    languages: ['en'],
    title_en: 'Let them choose freedom',
    summary_en: 'Two soldiers want to go to South Korea.',
    body_en: EN_BODY,
    action: 'save',
    ...overrides,
  });
}

/** The letter id in an editor redirect (`/admin/letters/12?done=created`). */
export function letterIdIn(location: string | undefined): number {
  const match = /^\/admin\/letters\/(\d+)\?done=\w+$/.exec(location ?? '');
  if (!match) throw new Error(`not a redirect to the editor: ${location}`);
  return Number(match[1]);
}

/** Creates a draft through the new-letter form, as an organizer would; returns its id. */
export async function createDraft(
  visitor: Visitor,
  recipientIds: number[],
  overrides: Record<string, string | string[]> = {},
): Promise<number> {
  const response = await postForm(
    visitor,
    '/admin/letters/new',
    '/admin/letters',
    letterForm(recipientIds, overrides),
  );
  if (response.status !== 303) throw new Error(`the draft was not created (${response.status})`);
  return letterIdIn(response.headers.location);
}

/**
 * Saves the letter with a paragraph added to its English text, as its organizer would: a new version of
 * a published letter (its recipients get it as a second letter, or an update).
 */
export async function saveNewVersion(platform: TestPlatform['platform'], organizer: User, id: number) {
  const { drafting } = platform.letterAdmin;
  const values = drafting.valuesOf(await drafting.editor(organizer, id));
  const en = values.texts.en!;
  const changed = {
    ...values,
    texts: { ...values.texts, en: { ...en, body: `${en.body}\n\nA new paragraph.` } },
  };
  const saved = await drafting.save(organizer, id, changed, true);
  if (saved.kind !== 'saved') throw new Error(`the new version was not saved (${saved.kind})`);
}
