import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { loginAs, signedIn } from '../../support/accounts.js';
import {
  createDraft,
  EN_BODY,
  fieldValue,
  formFields,
  letterTables,
  organizerPlatform,
  postForm,
  withField,
  type FormFields,
} from '../../support/admin-forms.js';
import { byClass, innerHtml, mainOf, startTags, textOf } from '../../support/html.js';
import type { Visitor } from '../../support/http.js';
import { signAndConfirm, signAndGetLinks, signatureRows } from '../../support/signing.js';
import type { TestPlatform } from '../../support/test-platform.js';

const CHANGED_BODY = EN_BODY.replace(
  'let the captured soldiers choose their country of asylum',
  'let the captured soldiers freely choose their country of refuge',
);

describe('letter versions', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let supporter: Visitor;
  let recipient: number;

  beforeEach(async () => {
    ({ t, organizer, visitor, supporter, recipient } = await organizerPlatform());
  });
  afterEach(async () => {
    await t.close();
  });

  const letter = async (id: number) => (await t.platform.repositories.letters.findById(id))!;
  const versionNumbers = async (id: number) =>
    (await t.platform.repositories.letters.versions(id)).map((v) => v.number);
  const versionIds = async (id: number) =>
    new Map((await t.platform.repositories.letters.versions(id)).map((v) => [v.number, v.id]));
  const currentBody = async (id: number) => {
    const texts = await t.platform.repositories.letters.textsOfVersion((await letter(id)).currentVersionId);
    return texts.find((x) => x.language === 'en')!.body;
  };
  const editorFields = async (as: Visitor, id: number) =>
    formFields((await as.get(`/admin/letters/${id}`)).text, 'editor-form');
  const save = (as: Visitor, id: number, fields: FormFields) =>
    postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...withField(fields, 'action', null),
      ['action', 'save'],
    ]);

  /** An open letter made through the editor; returns its id and slug. */
  async function openLetter(): Promise<{ id: number; slug: string }> {
    const id = await createDraft(visitor, [recipient]);
    const published = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, []);
    expect(published.status).toBe(303);
    return { id, slug: (await letter(id)).slug };
  }

  it('records on each signature the version that was current when it was signed', async () => {
    const { id, slug } = await openLetter();
    await signAndConfirm(t, supporter, slug, { email: 'first@example.org' });
    const [first] = await signatureRows(t.platform.db);
    expect(first!.letter_version_id).toBe((await versionIds(id)).get(1));
  });

  it('asks before saving changed text of an open letter that people have signed, and saves nothing until confirmed', async () => {
    const { id, slug } = await openLetter();
    await signAndConfirm(t, supporter, slug, { email: 'first@example.org' });
    // Signed but not confirmed yet: it stands too, so it is counted.
    await signAndGetLinks(t, supporter, slug, { email: 'second@example.org' });
    const before = await letterTables(t.platform.db);

    const changed = withField(await editorFields(visitor, id), 'body_en', CHANGED_BODY);
    const asked = await save(visitor, id, changed);
    expect(asked.status).toBe(409);
    const [panel] = byClass(asked.text, 'confirm-panel');
    expect(panel, 'a confirmation panel').toBeDefined();
    const panelText = textOf(innerHtml(asked.text, panel!));
    expect(panelText).toContain('Save the change as version 2?');
    expect(panelText).toContain('2 people have signed this letter.');
    expect(await letterTables(t.platform.db)).toEqual(before);

    // The form comes back with the change and the confirmation in it.
    const confirmForm = formFields(asked.text, 'editor-form');
    expect(fieldValue(confirmForm, 'body_en')).toBe(CHANGED_BODY);
    expect(fieldValue(confirmForm, 'confirm_new_version')).toBe('yes');
    const buttons = startTags(mainOf(asked.text), 'button').filter((b) => b.attrs.value === 'save');
    expect(buttons.map((b) => textOf(innerHtml(mainOf(asked.text), b)))).toContain('Yes, save as version 2');

    const confirmed = await save(visitor, id, confirmForm);
    expect(confirmed.status).toBe(303);
    expect(confirmed.headers.location).toBe(`/admin/letters/${id}?done=newVersion`);
    expect(await versionNumbers(id)).toEqual([2, 1]);
    expect(await currentBody(id)).toBe(CHANGED_BODY);

    const versions = await versionIds(id);
    // Old signatures keep the version they signed, even one confirmed after the change.
    const rows = await signatureRows(t.platform.db);
    expect(rows.map((r) => r.letter_version_id)).toEqual([versions.get(1), versions.get(1)]);
    // Version 1 is kept as it was.
    const v1 = await t.platform.repositories.letters.textsOfVersion(versions.get(1)!);
    expect(v1[0]!.body).toBe(EN_BODY);

    await signAndConfirm(t, supporter, slug, { email: 'third@example.org' });
    const after = await signatureRows(t.platform.db);
    expect(after.map((r) => r.letter_version_id)).toEqual([
      versions.get(1),
      versions.get(1),
      versions.get(2),
    ]);
    // The public page shows the new text.
    expect(textOf(mainOf((await supporter.get(`/letters/${slug}`)).text))).toContain('freely choose');
  });

  it('saves changed text of an open letter nobody has signed as a new version without asking', async () => {
    const { id } = await openLetter();
    const saved = await save(
      visitor,
      id,
      withField(await editorFields(visitor, id), 'body_en', CHANGED_BODY),
    );
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=newVersion`);
    expect(await versionNumbers(id)).toEqual([2, 1]);
  });

  it('changes the text of a draft in place: it stays version 1', async () => {
    const id = await createDraft(visitor, [recipient]);
    const versionId = (await letter(id)).currentVersionId;
    const saved = await save(
      visitor,
      id,
      withField(await editorFields(visitor, id), 'body_en', CHANGED_BODY),
    );
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=saved`);
    expect(await versionNumbers(id)).toEqual([1]);
    expect((await letter(id)).currentVersionId).toBe(versionId);
    expect(await currentBody(id)).toBe(CHANGED_BODY);
  });

  it('creates no version when the text did not change, even with signatures', async () => {
    const { id, slug } = await openLetter();
    await signAndConfirm(t, supporter, slug, { email: 'first@example.org' });
    const versionId = (await letter(id)).currentVersionId;
    // Other settings change; the text is saved exactly as it was (the textarea round trip included).
    const fields = withField(await editorFields(visitor, id), 'goal', '750');
    const saved = await save(visitor, id, fields);
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=saved`);
    expect(await versionNumbers(id)).toEqual([1]);
    expect((await letter(id)).currentVersionId).toBe(versionId);
    expect((await letter(id)).goal).toBe(750);

    // Only white space around the text differs: it is the same text.
    const padded = withField(fields, 'body_en', `\n\n${EN_BODY}\r\n  `);
    expect((await save(visitor, id, padded)).headers.location).toBe(`/admin/letters/${id}?done=saved`);
    expect(await versionNumbers(id)).toEqual([1]);
  });

  it('lists the versions with who saved them, and the changed words as a diff', async () => {
    const { id, slug } = await openLetter();
    await signAndConfirm(t, supporter, slug, { email: 'first@example.org' });
    const asked = await save(
      visitor,
      id,
      withField(await editorFields(visitor, id), 'body_en', CHANGED_BODY),
    );
    await save(visitor, id, formFields(asked.text, 'editor-form'));

    // An admin saves a third version, with a new title.
    const { user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin');
    const adminFields = withField(
      withField(await editorFields(adminVisitor, id), 'title_en', 'Let them choose freedom now'),
      'confirm_new_version',
      'yes',
    );
    expect((await save(adminVisitor, id, adminFields)).headers.location).toBe(
      `/admin/letters/${id}?done=newVersion`,
    );

    const history = await visitor.get(`/admin/letters/${id}/versions`);
    expect(history.status).toBe(200);
    const main = mainOf(history.text);
    const items = startTags(main, 'li')
      .filter((li) => (li.attrs.class ?? '').split(/\s+/).includes('card'))
      .map((li) => innerHtml(main, li));
    expect(items).toHaveLength(3);
    const headings = items.map((item) => textOf(innerHtml(item, startTags(item, 'h2')[0]!)));
    expect(headings).toEqual(['Version 3 current', 'Version 2', 'Version 1']);
    expect(textOf(items[0]!)).toContain(admin.email);
    expect(textOf(items[1]!)).toContain(organizer.email);
    expect(textOf(items[1]!)).toContain('0 signatures on this version');
    expect(textOf(items[2]!)).toContain(organizer.email);
    expect(textOf(items[2]!)).toContain('1 signature on this version');
    expect(textOf(items[2]!)).toContain('The first version.');

    const marked = (item: string, tag: 'ins' | 'del') =>
      startTags(item, tag).map((el) => textOf(innerHtml(item, el)));
    expect(marked(items[1]!, 'ins')).toEqual(expect.arrayContaining(['freely', 'refuge']));
    expect(marked(items[1]!, 'del')).toEqual(['asylum']);
    // Only the text changed in version 2; in version 3 only the title. Each field changed is named.
    expect(textOf(items[1]!)).toContain('Text of the letter');
    expect(textOf(items[1]!)).not.toContain('Title');
    expect(marked(items[0]!, 'ins')).toEqual(['now']);
    expect(marked(items[0]!, 'del')).toEqual([]);
    expect(textOf(items[0]!)).toContain('Title');
    expect(textOf(items[0]!)).not.toContain('Text of the letter');
  });

  it("shows on the dashboard today's signatures and a chart of the signatures per day", async () => {
    t.clock.set(new Date('2026-11-22T12:00:00.000Z'));
    const { id, slug } = await openLetter();
    await signAndConfirm(t, supporter, slug, { email: 'yesterday@example.org' });
    t.clock.set(new Date('2026-11-23T10:00:00.000Z'));
    // A day later the session has ended: the organizer logs in again.
    visitor = await loginAs(t.app, organizer);
    await signAndConfirm(t, supporter, slug, { email: 'today-1@example.org' });
    await signAndConfirm(t, supporter, slug, { email: 'today-2@example.org' });
    // Pending signatures are not counted.
    await signAndGetLinks(t, supporter, slug, { email: 'pending@example.org' });

    const dashboard = await visitor.get('/admin');
    expect(dashboard.status, dashboard.headers.location).toBe(200);
    const main = mainOf(dashboard.text);
    const [card] = startTags(main, 'li').filter((li) => innerHtml(main, li).includes(`/admin/letters/${id}`));
    expect(card).toBeDefined();
    const cardHtml = innerHtml(main, card!);
    const facts = Object.fromEntries(
      startTags(cardHtml, 'dt').map((dt) => {
        const term = textOf(innerHtml(cardHtml, dt));
        const dd = startTags(cardHtml.slice(dt.end), 'dd')[0]!;
        return [term, textOf(innerHtml(cardHtml.slice(dt.end), dd))];
      }),
    );
    expect(facts).toMatchObject({ 'Confirmed signatures': '3 / 500', Today: '2' });

    // Drawn twice, wide and for a phone (the stylesheet shows one), from the same figures.
    expect(startTags(cardHtml, 'svg').map((drawing) => drawing.attrs.viewbox)).toEqual([
      '0 0 600 180',
      '0 0 320 160',
    ]);
    const [svg] = startTags(cardHtml, 'svg');
    expect(svg?.attrs.role).toBe('img');
    const svgHtml = innerHtml(cardHtml, svg!);
    expect(textOf(innerHtml(svgHtml, startTags(svgHtml, 'title')[0]!))).toBe(
      'Confirmed signatures per day: Let them choose freedom',
    );
    expect(textOf(innerHtml(svgHtml, startTags(svgHtml, 'desc')[0]!))).toBe(
      '3 confirmed signatures in the last 30 days; the busiest day was Nov 23 with 2.',
    );
    const bars = startTags(svgHtml, 'rect').filter((r) => r.attrs.class === 'signature-chart-bar');
    expect(bars).toHaveLength(30);
    const heights = bars.map((bar) => Number(bar.attrs.height));
    expect(heights.slice(0, 28).every((h) => h === 0)).toBe(true);
    expect(heights[28]).toBeGreaterThan(0);
    expect(heights[29]).toBeGreaterThan(heights[28]!);
  });
});
