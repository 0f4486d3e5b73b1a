import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { signedIn } from '../support/accounts.js';
import {
  addRecipient,
  createDraft,
  fieldValue,
  formFields,
  formFieldsFor,
  letterTables,
  organizerPlatform,
  postForm,
  withField,
  type FormFields,
} from '../support/admin-forms.js';
import { byClass, byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, signAndConfirm } from '../support/signing.js';
import type { SinkMessage } from '../support/smtp-sink.js';
import type { TestPlatform } from '../support/test-platform.js';

const APPROVED_TITLE = 'Let them choose freedom';
const NEW_TITLE = 'Send them home, whatever they say';
const NEW_SENTENCE = 'We no longer object to their return.';
const SECOND_ADDRESS = 'second@ministry.example.org';

const isLetter = (m: SinkMessage) => m.parsed.headers.has('x-undersigned-letter');

describe('changes to a published letter when the platform requires review', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let supporter: Visitor;
  let admin: Visitor;
  let first: number;
  let second: number;
  let id: number;
  let slug: string;

  async function requireReview(on: boolean) {
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: on }, t.clock.now());
  }

  beforeEach(async () => {
    ({ t, organizer, visitor, supporter, recipient: first } = await organizerPlatform());
    second = await addRecipient(t.platform.db, t.clock.now(), {
      email: SECOND_ADDRESS,
      name: 'Second Ministry',
    });
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
    await requireReview(true);
    id = await createDraft(visitor, [first]);
    // The organizer asks, the admin approves: the letter is open as reviewed.
    expect((await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).status).toBe(
      303,
    );
    expect(
      (await postForm(admin, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, [])).headers.location,
    ).toBe(`/admin/letters/${id}?done=published`);
    slug = (await t.platform.repositories.letters.findById(id))!.slug;
  });
  afterEach(async () => {
    await t.close();
  });

  const editorForm = async (as: Visitor) =>
    formFields((await as.get(`/admin/letters/${id}`)).text, 'editor-form');
  /** The organizer's edit: a new title, a new sentence, and the second recipient instead of the first. */
  async function rewritten(as: Visitor = visitor): Promise<FormFields> {
    let fields = await editorForm(as);
    fields = withField(fields, 'title_en', NEW_TITLE);
    fields = withField(fields, 'body_en', `${fieldValue(fields, 'body_en')}\n\n${NEW_SENTENCE}`);
    fields = withField(fields, 'recipients', String(second));
    return withField(fields, 'action', 'save');
  }
  const save = (as: Visitor, fields: FormFields) =>
    postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}`, fields);
  const publicText = async () => {
    const page = await supporter.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    return textOf(mainOf(page.text));
  };
  const listedRecipients = async () =>
    (
      await t.platform.db
        .selectFrom('letter_recipients')
        .select('recipient_id')
        .where('letter_id', '=', id)
        .execute()
    ).map((r) => r.recipient_id);
  const auditActions = async () =>
    (
      await t.platform.db
        .selectFrom('audit_events')
        .select('action')
        .where('target_type', '=', 'letter')
        .where('target_id', '=', String(id))
        .orderBy('id')
        .execute()
    ).map((r) => r.action);
  /** The panel of waiting changes in the editor, as text ('' when there is none). */
  const pendingPanel = (html: string) => {
    const heading = byId(html, 'pending-heading');
    if (!heading) return '';
    const section = startTags(html, 'section')
      .filter((s) => s.index < heading.index)
      .at(-1)!;
    return textOf(innerHtml(html, section));
  };
  const reviewList = async () => {
    const dashboard = await admin.get('/admin');
    const heading = byId(dashboard.text, 'review-heading');
    if (!heading) return [];
    const section = startTags(dashboard.text, 'section')
      .filter((s) => s.index < heading.index)
      .at(-1)!;
    return hrefsIn(innerHtml(dashboard.text, section));
  };

  it('asks before a signed letter’s change goes to review, saying the public page stays as it is until approved', async () => {
    await signAndConfirm(t, supporter, slug, { email: 'signed-before@example.org' });
    const asked = await save(visitor, await rewritten());
    expect(asked.status).toBe(409);
    const [panel] = byClass(asked.text, 'confirm-panel');
    const said = textOf(innerHtml(asked.text, panel!));
    // It said the new text became version 2 and the public page changed, while the change went to review.
    expect(said).toContain('Send the change to an admin for review?');
    expect(said).toContain('your change waits for an admin’s review and the public page stays as it is');
    expect(said).not.toContain('Save the change as version');
    const buttons = startTags(mainOf(asked.text), 'button').filter((b) => b.attrs.value === 'save');
    expect(buttons.map((b) => textOf(innerHtml(mainOf(asked.text), b)))).toContain('Yes, send it for review');
    const confirmed = await save(visitor, formFields(asked.text, 'editor-form'));
    expect(confirmed.headers.location).toBe(`/admin/letters/${id}?done=changesWaiting`);
    expect(await publicText()).not.toContain(NEW_TITLE);
  });

  it("keeps the approved title, text and recipients public until an admin approves the organizer's changes", async () => {
    // The editor says so before the organizer saves.
    const form = await visitor.get(`/admin/letters/${id}`);
    const hint = byId(form.text, 'save-review-hint');
    expect(hint && textOf(innerHtml(form.text, hint))).toContain(
      "Your changes will wait for an admin's review",
    );
    const before = await letterTables(t.platform.db);
    const saved = await save(visitor, await rewritten());
    expect(saved.status).toBe(303);
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=changesWaiting`);

    // The public page, the versions and the recipient list are as approved.
    const shown = await publicText();
    expect(shown).toContain(APPROVED_TITLE);
    expect(shown).not.toContain(NEW_TITLE);
    expect(shown).not.toContain(NEW_SENTENCE);
    const after = await letterTables(t.platform.db);
    expect(after.versions).toEqual(before.versions);
    expect(after.texts).toEqual(before.texts);
    expect(after.recipients).toEqual(before.recipients);
    const overview = await t.platform.deliveries.overview(organizer, id);
    expect(overview.recipients.map((r) => r.id)).toEqual([first]);

    // The organizer sees the changes waiting, and goes on editing from them.
    const editor = await visitor.get(`/admin/letters/${id}`);
    expect(pendingPanel(editor.text)).toContain('Changes waiting for review');
    expect(pendingPanel(editor.text)).toContain('Recipient added: Second Ministry');
    expect(fieldValue(formFields(editor.text, 'editor-form'), 'title_en')).toBe(NEW_TITLE);
    expect(pendingPanel(editor.text)).not.toContain('Approve changes');
    // The organizer cannot approve them.
    expectErrorPage(
      await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/changes/approve`, [
        ['pending_at', t.clock.now().toISOString()],
      ]),
      403,
      ERROR_TITLES[403],
    );
    expect(await publicText()).not.toContain(NEW_TITLE);

    // The admin finds them in the review list, sees what changed word by word, and approves.
    expect(await reviewList()).toEqual([`/admin/letters/${id}`]);
    const page = await admin.get(`/admin/letters/${id}`);
    const changes = mainOf(page.text);
    const inserted = startTags(changes, 'ins').map((tag) => textOf(innerHtml(changes, tag)));
    expect(inserted.join(' ')).toContain('whatever they say');
    expect(inserted.join(' ')).toContain('We no longer object to their return.');
    expect(
      startTags(changes, 'del')
        .map((tag) => textOf(innerHtml(changes, tag)))
        .join(' '),
    ).toContain('choose freedom');
    const approved = await postForm(
      admin,
      `/admin/letters/${id}`,
      `/admin/letters/${id}/changes/approve`,
      formFieldsFor(page.text, `/admin/letters/${id}/changes/approve`),
    );
    expect(approved.status).toBe(303);
    expect(approved.headers.location).toBe(`/admin/letters/${id}?done=changesApproved`);

    const now = await publicText();
    expect(now).toContain(NEW_TITLE);
    expect(now).toContain(NEW_SENTENCE);
    expect(await listedRecipients()).toEqual([second]);
    const letter = (await t.platform.repositories.letters.findById(id))!;
    expect(letter.pendingEditAt).toBeNull();
    const versions = await t.platform.repositories.letters.versions(id);
    expect(versions.map((v) => [v.number, v.createdBy])).toEqual([
      [2, organizer.id],
      [1, organizer.id],
    ]);
    expect(letter.currentVersionId).toBe(versions[0]!.id);
    expect(await reviewList()).toEqual([]);
    expect(await auditActions()).toEqual([
      'letter-created',
      'letter-review-requested',
      'letter-published',
      'letter-changes-submitted',
      // The organizer's refused approval above, on record (audit/access-refusals.ts).
      'access-refused',
      'letter-changes-approved',
    ]);
  });

  it('delivers the approved version to the approved recipients while changes wait', async () => {
    expect((await save(visitor, await rewritten())).headers.location).toBe(
      `/admin/letters/${id}?done=changesWaiting`,
    );
    const path = `/admin/letters/${id}/delivery`;
    const press = (action: string) =>
      postForm(visitor, path, `${path}/${action}`, [['request_key', randomBytes(12).toString('base64url')]]);
    expect((await press('test')).status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    expect((await press('deliver')).status).toBe(303);
    await t.compileDeliveries();
    await t.drainOutbox();
    const delivered = t.sink.messages.filter(isLetter).filter((m) => !m.envelopeTo.includes(organizer.email));
    expect(delivered).toHaveLength(1);
    expect(delivered[0]!.envelopeTo).not.toContain(SECOND_ADDRESS);
    expect(delivered[0]!.parsed.subject).toContain(APPROVED_TITLE);
    expect(delivered[0]!.parsed.text).not.toContain(NEW_SENTENCE);
    expect(t.sink.to(SECOND_ADDRESS)).toEqual([]);
  });

  it('lets the admin return the changes: the letter stays as approved and the organizer edits it again', async () => {
    await save(visitor, await rewritten());
    const returned = await postForm(admin, `/admin/letters/${id}`, `/admin/letters/${id}/changes/return`, []);
    expect(returned.headers.location).toBe(`/admin/letters/${id}?done=changesReturned`);
    expect((await t.platform.repositories.letters.findById(id))!.pendingEditAt).toBeNull();
    expect(await publicText()).toContain(APPROVED_TITLE);
    expect(await listedRecipients()).toEqual([first]);
    const editor = await visitor.get(`/admin/letters/${id}`);
    expect(pendingPanel(editor.text)).toBe('');
    expect(fieldValue(formFields(editor.text, 'editor-form'), 'title_en')).toBe(APPROVED_TITLE);
    expect(await reviewList()).toEqual([]);
    expect(await auditActions()).toEqual([
      'letter-created',
      'letter-review-requested',
      'letter-published',
      'letter-changes-submitted',
      'letter-changes-returned',
    ]);
  });

  it('does not approve changes edited again after the admin looked at them', async () => {
    await save(visitor, await rewritten());
    const seen = formFieldsFor(
      (await admin.get(`/admin/letters/${id}`)).text,
      `/admin/letters/${id}/changes/approve`,
    );
    t.clock.advance(60_000);
    let again = await editorForm(visitor);
    again = withField(withField(again, 'title_en', 'Yet another title'), 'action', 'save');
    expect((await save(visitor, again)).headers.location).toBe(`/admin/letters/${id}?done=changesWaiting`);
    const stale = await postForm(admin, `/admin/letters/${id}`, `/admin/letters/${id}/changes/approve`, seen);
    expectErrorPage(stale, 409, ERROR_TITLES[409]);
    expect(await publicText()).toContain(APPROVED_TITLE);
    expect((await t.platform.repositories.letters.findById(id))!.pendingEditAt).toEqual(t.clock.now());
  });

  it('applies the changes at once when review is off, as before', async () => {
    await requireReview(false);
    const saved = await save(visitor, await rewritten());
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=newVersion`);
    expect(await publicText()).toContain(NEW_TITLE);
    expect(await listedRecipients()).toEqual([second]);
    expect((await t.platform.repositories.letters.findById(id))!.pendingEditAt).toBeNull();
  });

  it("applies an admin's own edit at once", async () => {
    const saved = await save(admin, await rewritten(admin));
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=newVersion`);
    expect(await publicText()).toContain(NEW_TITLE);
  });
});

describe('saving a draft decides inside its transaction', () => {
  it('never rewrites the text of a letter published between reading it and saving: the change becomes a new version', async () => {
    const { t, organizer, visitor } = await organizerPlatform();
    try {
      const recipient = await addRecipient(t.platform.db, t.clock.now());
      const id = await createDraft(visitor, [recipient]);
      const letters = t.platform.repositories.letters;
      const editor = t.platform.letterAdmin.drafting;
      const draft = (await letters.findById(id))!;
      const values = editor.valuesOf(await editor.editor(organizer, id));
      values.texts.en = { ...values.texts.en!, title: 'A title written too late' };
      // Someone publishes the letter just after the save has checked who may edit it.
      const collaboratorIds = letters.collaboratorIds.bind(letters);
      letters.collaboratorIds = async (letterId: number) => {
        letters.collaboratorIds = collaboratorIds;
        const ids = await collaboratorIds(letterId);
        await letters.transition(letterId, 'draft', 'open', { publishedAt: t.clock.now() }, t.clock.now());
        return ids;
      };
      const outcome = await editor.save(organizer, id, values, false);
      expect(outcome.kind).toBe('saved');
      // The version the public was shown (and may have signed) keeps its text.
      expect((await letters.textsOfVersion(draft.currentVersionId)).map((x) => x.title)).toEqual([
        'Let them choose freedom',
      ]);
      const letter = (await letters.findById(id))!;
      expect(letter.status).toBe('open');
      expect(letter.currentVersionId).not.toBe(draft.currentVersionId);
      expect((await letters.textsOfVersion(letter.currentVersionId)).map((x) => x.title)).toEqual([
        'A title written too late',
      ]);
    } finally {
      await t.close();
    }
  });
});
