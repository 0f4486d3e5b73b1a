import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, signedIn } from '../support/accounts.js';
import {
  createDraft,
  fieldValue,
  formFields,
  organizerPlatform,
  postForm,
  withField,
} from '../support/admin-forms.js';
import type { Visitor } from '../support/http.js';
import type { TestPlatform } from '../support/test-platform.js';

interface Entry {
  action: string;
  actor_email: string;
  target_type: string;
  target_id: string;
  details: Record<string, unknown>;
}

describe('every step on a letter leaves one audit entry, written with the step', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let admin: Visitor;
  let adminUser: User;
  let recipient: number;

  beforeEach(async () => {
    ({ t, organizer, visitor, recipient } = await organizerPlatform());
    ({ user: adminUser, visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
  });
  afterEach(async () => {
    await t.close();
  });

  async function requireReview(on: boolean) {
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: on }, t.clock.now());
  }
  const entries = async (): Promise<Entry[]> =>
    (
      await t.platform.db
        .selectFrom('audit_events')
        .select(['action', 'actor_email', 'target_type', 'target_id', 'details'])
        .where('action', 'like', 'letter-%')
        .orderBy('id')
        .execute()
    ).map((r) => ({ ...r, details: JSON.parse(r.details) as Record<string, unknown> }));
  /** The entries a step wrote. */
  async function entriesOf(step: () => Promise<unknown>): Promise<Entry[]> {
    const before = (await entries()).length;
    await step();
    return (await entries()).slice(before);
  }
  /** Runs a step and expects exactly one entry: the action, by the account, naming the letter. */
  async function expectOneEntry(step: () => Promise<unknown>, action: string, by: User, letterId: number) {
    const written = await entriesOf(step);
    expect(written.map((e) => e.action)).toEqual([action]);
    expect(written[0]).toMatchObject({
      actor_email: by.email,
      target_type: 'letter',
      target_id: String(letterId),
      details: { letterId },
    });
    return written[0]!;
  }
  const post = (as: Visitor, id: number, step: string, fields: [string, string][] = []) =>
    postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}/${step}`, fields);
  const save = async (as: Visitor, id: number, edit: (fields: [string, string][]) => [string, string][]) => {
    const fields = edit(formFields((await as.get(`/admin/letters/${id}`)).text, 'editor-form'));
    return postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}`, withField(fields, 'action', 'save'));
  };
  const retitled = (title: string) => (fields: [string, string][]) => withField(fields, 'title_en', title);

  it('records creating a letter, from the form and from the gallery', async () => {
    let id = 0;
    const created = await entriesOf(async () => {
      id = await createDraft(visitor, [recipient]);
    });
    expect(created).toMatchObject([
      {
        action: 'letter-created',
        actor_email: organizer.email,
        target_id: String(id),
        details: { letterId: id },
      },
    ]);
    const template = t.platform.letterAdmin.drafting.templates()[0]!.slug;
    const fromGallery = await entriesOf(() =>
      postForm(visitor, '/admin/letters/templates', `/admin/letters/templates/${template}`, []),
    );
    expect(fromGallery).toMatchObject([
      { action: 'letter-created', actor_email: organizer.email, details: { template } },
    ]);
    expect(fromGallery[0]!.details.letterId).toBe(Number(fromGallery[0]!.target_id));
  });

  it('records saving, publishing, closing and reopening; a refused step records nothing', async () => {
    const id = await createDraft(visitor, [recipient]);
    await expectOneEntry(() => save(visitor, id, retitled('A better title')), 'letter-saved', organizer, id);
    // Refused input: nothing saved, nothing recorded.
    expect(await entriesOf(() => save(visitor, id, (f) => withField(f, 'slug', 'Not A Slug')))).toEqual([]);

    await expectOneEntry(() => post(visitor, id, 'publish'), 'letter-published', organizer, id);
    expect(await entriesOf(() => post(visitor, id, 'publish'))).toEqual([]);

    const changed = await expectOneEntry(
      () => save(visitor, id, retitled('A title after publishing')),
      'letter-saved',
      organizer,
      id,
    );
    expect(changed.details.version).toBe(2);

    await expectOneEntry(() => post(visitor, id, 'close'), 'letter-closed', organizer, id);
    expect(await entriesOf(() => post(visitor, id, 'close'))).toEqual([]);
    await expectOneEntry(() => post(visitor, id, 'reopen'), 'letter-reopened', organizer, id);
    expect(await entriesOf(() => post(visitor, id, 'reopen'))).toEqual([]);
  });

  it('records asking for review, returning to draft and publishing as the review', async () => {
    await requireReview(true);
    const id = await createDraft(visitor, [recipient]);
    await expectOneEntry(() => post(visitor, id, 'publish'), 'letter-review-requested', organizer, id);
    // Asking again while it waits changes nothing.
    expect(await entriesOf(() => post(visitor, id, 'publish'))).toEqual([]);
    await expectOneEntry(() => post(admin, id, 'return'), 'letter-returned-to-draft', adminUser, id);
    // Nothing waits any more: returning again is refused and recorded nowhere.
    expect((await post(admin, id, 'return')).status).toBe(409);
    expect(await entriesOf(() => post(admin, id, 'return'))).toEqual([]);

    await post(visitor, id, 'publish');
    const published = await expectOneEntry(
      () => post(admin, id, 'publish'),
      'letter-published',
      adminUser,
      id,
    );
    expect(published.details.reviewed).toBe(true);

    await expectOneEntry(
      () => save(visitor, id, retitled('Changed while review is required')),
      'letter-changes-submitted',
      organizer,
      id,
    );
    const waiting = (await t.platform.repositories.letters.findById(id))!.pendingEditAt!;
    await expectOneEntry(
      () => post(admin, id, 'changes/approve', [['pending_at', waiting.toISOString()]]),
      'letter-changes-approved',
      adminUser,
      id,
    );
    await save(visitor, id, retitled('Changed once more'));
    await expectOneEntry(() => post(admin, id, 'changes/return'), 'letter-changes-returned', adminUser, id);
    expect(await entriesOf(() => post(admin, id, 'changes/return'))).toEqual([]);
  });

  it('records sharing a letter and stopping it, naming the account', async () => {
    const id = await createDraft(visitor, [recipient]);
    const colleague = await createAccount(t.platform, 'organizer');
    const added = await expectOneEntry(
      () => post(visitor, id, 'collaborators', [['email', colleague.email]]),
      'letter-collaborator-added',
      organizer,
      id,
    );
    expect(added.details.userId).toBe(colleague.id);
    // Shared already, or an unknown address: nothing changes, nothing is recorded.
    expect(await entriesOf(() => post(visitor, id, 'collaborators', [['email', colleague.email]]))).toEqual(
      [],
    );
    expect(
      await entriesOf(() => post(visitor, id, 'collaborators', [['email', 'nobody@example.org']])),
    ).toEqual([]);
    const removed = await expectOneEntry(
      () => post(visitor, id, `collaborators/${colleague.id}/remove`),
      'letter-collaborator-removed',
      organizer,
      id,
    );
    expect(removed.details.userId).toBe(colleague.id);
    expect(await entriesOf(() => post(visitor, id, `collaborators/${colleague.id}/remove`))).toEqual([]);
  });

  it('makes no change when its audit entry cannot be written: the entry is part of the step', async () => {
    const id = await createDraft(visitor, [recipient]);
    const letters = t.platform.repositories.letters;
    const audit = t.platform.appDeps.audit;
    const original = audit.with.bind(audit);
    audit.with = () => ({ record: () => Promise.reject(new Error('the audit log is full')) }) as never;
    try {
      expect((await post(visitor, id, 'publish')).status).toBe(500);
      expect((await letters.findById(id))!.status).toBe('draft');
      audit.with = original;
      await post(visitor, id, 'publish');
      await post(visitor, id, 'close');
      audit.with = () => ({ record: () => Promise.reject(new Error('the audit log is full')) }) as never;
      expect((await post(visitor, id, 'reopen')).status).toBe(500);
      expect((await letters.findById(id))!.status).toBe('closed');
      const before = fieldValue(
        formFields((await visitor.get(`/admin/letters/${id}`)).text, 'editor-form'),
        'title_en',
      );
      expect((await save(visitor, id, retitled('Never saved'))).status).toBe(500);
      expect(
        fieldValue(formFields((await visitor.get(`/admin/letters/${id}`)).text, 'editor-form'), 'title_en'),
      ).toBe(before);
    } finally {
      audit.with = original;
    }
  });
});
