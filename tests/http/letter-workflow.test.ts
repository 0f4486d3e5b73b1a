import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { signedIn } from '../support/accounts.js';
import {
  createDraft,
  EN_BODY,
  fieldErrors,
  fieldValue,
  formFields,
  letterTables,
  organizerPlatform,
  postForm,
  withField,
} from '../support/admin-forms.js';
import { signingForm } from '../support/factories.js';
import { byClass, byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, rowCounts, signAndConfirm } from '../support/signing.js';
import type { TestPlatform } from '../support/test-platform.js';

/** The messages of the publishing panel beside the editor. */
function workflowPanel(html: string): string {
  const heading = byId(html, 'workflow-heading');
  if (!heading) return '';
  const section = startTags(html, 'section')
    .filter((s) => s.index < heading.index)
    .at(-1)!;
  return textOf(innerHtml(html, section));
}

describe('the letter workflow: draft, open, closed', () => {
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
  const post = (as: Visitor, id: number, step: string) =>
    postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}/${step}`, []);
  // From the letter's own page, whatever it shows (a closed letter's has no form): anonymous forms carry no token.
  const signAttempt = (slug: string, email: string) =>
    supporter.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm({ email }));

  it("names the letter on the publish page in the reader's language when it has a text in it", async () => {
    const id = await createDraft(visitor, [recipient], {
      languages: ['en', 'ko'],
      title_ko: '자유를 선택하게 해 주십시오',
      summary_ko: '두 병사가 한국으로 가기를 원합니다.',
      body_ko: EN_BODY,
    });
    const crumb = async (language: string) => {
      const html = (await visitor.get(`/admin/letters/${id}/publish?lang=${language}`)).text;
      const link = startTags(byClass(html, 'breadcrumbs').map((p) => innerHtml(html, p))[0]!, 'a')[0]!;
      const inner = byClass(html, 'breadcrumbs').map((p) => innerHtml(html, p))[0]!;
      return { text: textOf(inner), lang: link.attrs.lang };
    };
    expect(await crumb('ko')).toEqual({ text: '자유를 선택하게 해 주십시오', lang: undefined });
    expect(await crumb('en')).toEqual({ text: 'Let them choose freedom', lang: undefined });
    // No Ukrainian text: the primary one, marked as English for a screen reader.
    expect(await crumb('uk')).toEqual({ text: 'Let them choose freedom', lang: 'en' });

    // A translation begun but not finished is named by its title, as the editor and the lists name it.
    const unfinished = await createDraft(visitor, [recipient], {
      slug: 'translation-begun',
      languages: ['en', 'ko'],
      title_ko: '번역 중인 편지',
      summary_ko: '',
      body_ko: '',
    });
    const html = (await visitor.get(`/admin/letters/${unfinished}/publish?lang=ko`)).text;
    expect(textOf(innerHtml(html, byClass(html, 'breadcrumbs')[0]!))).toBe('번역 중인 편지');
  });

  it('publishes a draft: the letter opens and its public page appears', async () => {
    const id = await createDraft(visitor, [recipient]);
    const slug = (await letter(id)).slug;
    expectErrorPage(await supporter.get(`/letters/${slug}`), 404, ERROR_TITLES[404]);
    expect(workflowPanel((await visitor.get(`/admin/letters/${id}`)).text)).toContain('Publish');

    const response = await post(visitor, id, 'publish');
    expect(response.status).toBe(303);
    expect(response.headers.location).toBe(`/admin/letters/${id}?done=published`);
    const published = await letter(id);
    expect(published.status).toBe('open');
    expect(published.publishedAt).toEqual(t.clock.now());
    // Without an opening date it opens now.
    expect(published.opensAt).toEqual(t.clock.now());

    const page = await supporter.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain('Let them choose freedom');
    expect(hrefsIn((await supporter.get('/')).text)).toContain(`/letters/${slug}`);
    expect((await signAttempt(slug, 'first@example.org')).status).toBe(303);

    // Publishing twice is refused: it is open already.
    expectErrorPage(await post(visitor, id, 'publish'), 409, ERROR_TITLES[409]);
  });

  it('asks before publishing, saying what will happen, and publishes only from the confirmation (no JavaScript needed)', async () => {
    const id = await createDraft(visitor, [recipient]);
    const { slug } = await letter(id);
    const editor = (await visitor.get(`/admin/letters/${id}`)).text;
    // The editor links to the confirmation: no form there publishes in one click.
    expect(startTags(editor, 'form').map((f) => f.attrs.action)).not.toContain(
      `/admin/letters/${id}/publish`,
    );
    expect(hrefsIn(editor)).toContain(`/admin/letters/${id}/publish`);

    const before = await letterTables(t.platform.db);
    const page = await visitor.get(`/admin/letters/${id}/publish`);
    expect(page.status).toBe(200);
    const text = textOf(mainOf(page.text));
    expect(textOf(innerHtml(page.text, startTags(page.text, 'h1')[0]!))).toBe('Publish this letter?');
    expect(text).toContain(`“Let them choose freedom” is public at /letters/${slug}`);
    expect(text).toContain('It is addressed to:');
    expect(text).toContain((await t.platform.repositories.recipients.findById(recipient))!.name);
    expect(text).toContain('Signatures are collected from now on');
    // Looking changes nothing.
    expect(await letterTables(t.platform.db)).toEqual(before);
    expect((await letter(id)).status).toBe('draft');

    const confirmed = await postForm(
      visitor,
      `/admin/letters/${id}/publish`,
      `/admin/letters/${id}/publish`,
      [],
    );
    expect(confirmed.headers.location).toBe(`/admin/letters/${id}?done=published`);
    expect((await letter(id)).status).toBe('open');
    // Published already: the confirmation is not offered again.
    expectErrorPage(await visitor.get(`/admin/letters/${id}/publish`), 409, ERROR_TITLES[409]);
  });

  it('says on the confirmation page why a draft cannot be published yet, and offers no button', async () => {
    const id = await createDraft(visitor, []);
    const page = await visitor.get(`/admin/letters/${id}/publish`);
    expect(page.status).toBe(200);
    expect(workflowPanel(page.text)).toContain('Choose at least one recipient before publishing.');
    expect(startTags(page.text, 'form').map((f) => f.attrs.action)).not.toContain(
      `/admin/letters/${id}/publish`,
    );
  });

  it('opens a letter with a later opening date on that date, not before', async () => {
    const id = await createDraft(visitor, [recipient], { opens_at: '2026-11-25' });
    await post(visitor, id, 'publish');
    const published = await letter(id);
    expect(published.status).toBe('open');
    expect(published.opensAt?.toISOString()).toBe('2026-11-25T00:00:00.000Z');
    expect((await signAttempt(published.slug, 'early@example.org')).status).toBe(409);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  describe('refuses to publish, with the reason, a draft that', () => {
    const refused = async (id: number, reason: string) => {
      const before = await letterTables(t.platform.db);
      const response = await post(visitor, id, 'publish');
      expect(response.status).toBe(422);
      expect(workflowPanel(response.text)).toContain(reason);
      expect(await letterTables(t.platform.db)).toEqual(before);
      expect((await letter(id)).status).toBe('draft');
      expectErrorPage(await supporter.get(`/letters/${(await letter(id)).slug}`), 404, ERROR_TITLES[404]);
    };

    it('has an incomplete text in its main language', async () => {
      const id = await createDraft(visitor, [recipient]);
      await t.platform.db
        .updateTable('letter_texts')
        .set({ summary: '' })
        .where('letter_version_id', '=', (await letter(id)).currentVersionId)
        .execute();
      await refused(
        id,
        'The letter needs a title, a summary and a text in its main language before it can be published.',
      );
    });

    it('has no recipients', async () => {
      const id = await createDraft(visitor, []);
      await refused(id, 'Choose at least one recipient before publishing.');
    });

    it('has a closing date that has passed', async () => {
      const id = await createDraft(visitor, [recipient], { closes_at: '2026-11-24' });
      // Saved in time; a day later the date has passed.
      await t.platform.db
        .updateTable('letters')
        .set({ closes_at: '2026-11-22T23:59:59.999Z' })
        .where('id', '=', id)
        .execute();
      await refused(id, 'The closing date has passed. Choose a later date before publishing.');
    });
  });

  describe('when the platform requires review', () => {
    let admin: Visitor;

    beforeEach(async () => {
      ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
      const saved = await postForm(admin, '/admin/settings', '/admin/settings', [['require_review', 'yes']]);
      expect(saved.status).toBe(303);
      expect(byId((await admin.get('/admin/settings')).text, 'field-require-review')?.attrs).toHaveProperty(
        'checked',
      );
    });

    /** An organizer's draft for which review was asked. */
    async function askedForReview(): Promise<number> {
      const id = await createDraft(visitor, [recipient]);
      expect(workflowPanel((await visitor.get(`/admin/letters/${id}`)).text)).toContain('Ask for review');
      const response = await post(visitor, id, 'publish');
      expect(response.status).toBe(303);
      expect(response.headers.location).toBe(`/admin/letters/${id}?done=reviewRequested`);
      return id;
    }

    const awaitingReview = async (as: Visitor) => {
      const dashboard = await as.get('/admin');
      expect(dashboard.status).toBe(200);
      const heading = byId(dashboard.text, 'review-heading');
      if (!heading) return [];
      const section = startTags(dashboard.text, 'section')
        .filter((s) => s.index < heading.index)
        .at(-1)!;
      return hrefsIn(innerHtml(dashboard.text, section));
    };

    it("keeps an organizer's letter a draft until an admin approves it", async () => {
      const id = await askedForReview();
      const asked = await letter(id);
      expect(asked.status).toBe('draft');
      expect(asked.reviewRequestedAt).toEqual(t.clock.now());
      expectErrorPage(await supporter.get(`/letters/${asked.slug}`), 404, ERROR_TITLES[404]);
      expect(workflowPanel((await visitor.get(`/admin/letters/${id}`)).text)).toContain(
        "This letter is waiting for an admin's review.",
      );
      // The organizer cannot approve it by posting again: it stays waiting.
      await post(visitor, id, 'publish');
      expect((await letter(id)).status).toBe('draft');
      expect(await awaitingReview(visitor)).toEqual([]);

      expect(await awaitingReview(admin)).toEqual([`/admin/letters/${id}`]);
      expect(workflowPanel((await admin.get(`/admin/letters/${id}`)).text)).toContain('Approve and publish');
      const approved = await post(admin, id, 'publish');
      expect(approved.headers.location).toBe(`/admin/letters/${id}?done=published`);
      const open = await letter(id);
      expect(open.status).toBe('open');
      expect(open.reviewRequestedAt).toBeNull();
      expect((await supporter.get(`/letters/${open.slug}`)).status).toBe(200);
      expect(await awaitingReview(admin)).toEqual([]);
    });

    it('lets the admin return the letter to its organizer as a draft', async () => {
      const id = await askedForReview();
      // Only an admin can return it.
      expectErrorPage(await post(visitor, id, 'return'), 403, ERROR_TITLES[403]);
      expect((await letter(id)).reviewRequestedAt).not.toBeNull();

      const returned = await post(admin, id, 'return');
      expect(returned.headers.location).toBe(`/admin/letters/${id}?done=returned`);
      const draft = await letter(id);
      expect(draft).toMatchObject({ status: 'draft', reviewRequestedAt: null });
      expect(await awaitingReview(admin)).toEqual([]);
      expectErrorPage(await supporter.get(`/letters/${draft.slug}`), 404, ERROR_TITLES[404]);
      // The organizer can ask again.
      expect(workflowPanel((await visitor.get(`/admin/letters/${id}`)).text)).toContain('Ask for review');
    });

    it("publishes an admin's own letter without review", async () => {
      const id = await createDraft(admin, [recipient]);
      expect((await post(admin, id, 'publish')).headers.location).toBe(`/admin/letters/${id}?done=published`);
      expect((await letter(id)).status).toBe('open');
    });

    it('refuses the settings page to organizers', async () => {
      expectErrorPage(await visitor.get('/admin/settings'), 403, ERROR_TITLES[403]);
      const response = await postForm(visitor, '/admin', '/admin/settings', []);
      expectErrorPage(response, 403, ERROR_TITLES[403]);
      expect(byId((await admin.get('/admin/settings')).text, 'field-require-review')?.attrs).toHaveProperty(
        'checked',
      );
    });
  });

  it('asks before closing, then closes: signing is refused with 409', async () => {
    const id = await createDraft(visitor, [recipient]);
    await post(visitor, id, 'publish');
    const slug = (await letter(id)).slug;

    const ask = await visitor.get(`/admin/letters/${id}/close`);
    expect(ask.status).toBe(200);
    const forms = startTags(mainOf(ask.text), 'form');
    expect(forms.map((f) => f.attrs.action)).toEqual([`/admin/letters/${id}/close`]);
    expect(textOf(mainOf(ask.text))).toContain('Closing stops the signing for everyone.');
    // Asking changes nothing.
    expect((await letter(id)).status).toBe('open');

    const closed = await post(visitor, id, 'close');
    expect(closed.headers.location).toBe(`/admin/letters/${id}?done=closed`);
    expect((await letter(id)).status).toBe('closed');
    const signing = await signAttempt(slug, 'late@example.org');
    expect(signing.status).toBe(409);
    expect(textOf(mainOf(signing.text))).toContain('This letter is closed and no longer accepts signatures.');
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });

    // A closed letter cannot be closed again; its close page says so and offers no button.
    expectErrorPage(await post(visitor, id, 'close'), 409, ERROR_TITLES[409]);
    const closedAsk = await visitor.get(`/admin/letters/${id}/close`);
    expect(closedAsk.status).toBe(200);
    expect(textOf(mainOf(closedAsk.text))).toContain('This letter is not open, so it cannot be closed.');
    expect(startTags(mainOf(closedAsk.text), 'form')).toEqual([]);
  });

  it('reopens a closed letter whose closing date is still ahead', async () => {
    const id = await createDraft(visitor, [recipient]);
    await post(visitor, id, 'publish');
    await post(visitor, id, 'close');
    expectErrorPage(await post(visitor, id, 'publish'), 409, ERROR_TITLES[409]);

    const reopened = await post(visitor, id, 'reopen');
    expect(reopened.headers.location).toBe(`/admin/letters/${id}?done=reopened`);
    expect((await letter(id)).status).toBe('open');
    expect((await signAttempt((await letter(id)).slug, 'again@example.org')).status).toBe(303);
    // Reopening an open letter is refused.
    expectErrorPage(await post(visitor, id, 'reopen'), 409, ERROR_TITLES[409]);
  });

  it('refuses to reopen a letter whose closing date has passed', async () => {
    const id = await createDraft(visitor, [recipient], { closes_at: '2026-11-25' });
    await post(visitor, id, 'publish');
    t.clock.set(new Date('2026-11-26T00:00:00.000Z'));
    expect(await t.platform.letterAdmin.workflow.closeDue()).toEqual([id]);
    t.clock.set(new Date('2026-11-23T10:00:00.000Z'));
    await t.platform.db
      .updateTable('letters')
      .set({ closes_at: '2026-11-22T23:59:59.999Z' })
      .where('id', '=', id)
      .execute();
    const response = await post(visitor, id, 'reopen');
    expectErrorPage(response, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(response.text))).toContain('The closing date has passed.');
    expect((await letter(id)).status).toBe('closed');

    // With a later closing date saved, it reopens.
    const page = await visitor.get(`/admin/letters/${id}`);
    const later = withField(formFields(page.text, 'editor-form'), 'closes_at', '2026-12-31');
    const saved = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...later,
      ['action', 'save'],
    ]);
    expect(saved.headers.location).toBe(`/admin/letters/${id}?done=saved`);
    expect((await post(visitor, id, 'reopen')).headers.location).toBe(`/admin/letters/${id}?done=reopened`);
    expect(await letter(id)).toMatchObject({ status: 'open' });
    expect((await letter(id)).closesAt?.toISOString()).toBe('2026-12-31T23:59:59.999Z');
  });

  it("closes letters past their closing date when the scheduler's job runs", async () => {
    const soon = await createDraft(visitor, [recipient], { slug: 'closes-soon', closes_at: '2026-11-30' });
    const later = await createDraft(visitor, [recipient], { slug: 'closes-later', closes_at: '2026-12-31' });
    const never = await createDraft(visitor, [recipient], { slug: 'never-closes', closes_at: '' });
    const draft = await createDraft(visitor, [recipient], { slug: 'still-a-draft', closes_at: '2026-11-24' });
    for (const id of [soon, later, never]) await post(visitor, id, 'publish');

    expect(await t.platform.letterAdmin.workflow.closeDue()).toEqual([]);
    // The last moment of the closing day (UTC) is still open.
    t.clock.set(new Date('2026-11-30T23:59:59.000Z'));
    expect(await t.platform.letterAdmin.workflow.closeDue()).toEqual([]);
    t.clock.set(new Date('2026-12-01T00:00:00.000Z'));
    expect(await t.platform.letterAdmin.workflow.closeDue()).toEqual([soon]);
    expect((await letter(soon)).status).toBe('closed');
    for (const id of [later, never]) expect((await letter(id)).status).toBe('open');
    // A draft is never "closed": it was never open.
    expect((await letter(draft)).status).toBe('draft');
    // Running again finds nothing more.
    expect(await t.platform.letterAdmin.workflow.closeDue()).toEqual([]);
  });

  it('closes a letter at its goal when the confirming signature reaches it', async () => {
    const id = await createDraft(visitor, [recipient], { goal: '2', close_on_goal: 'yes' });
    const other = await createDraft(visitor, [recipient], { slug: 'goal-keeps-open', goal: '1' });
    await post(visitor, id, 'publish');
    await post(visitor, other, 'publish');
    const slug = (await letter(id)).slug;

    await signAndConfirm(t, supporter, slug, { email: 'one@example.org' });
    expect((await letter(id)).status).toBe('open');
    await signAndConfirm(t, supporter, slug, { email: 'two@example.org' });
    const reached = await letter(id);
    expect(reached).toMatchObject({ status: 'closed', signatureCount: 2 });
    expect((await signAttempt(slug, 'three@example.org')).status).toBe(409);

    // Without "close at the goal", reaching it changes nothing.
    await signAndConfirm(t, supporter, (await letter(other)).slug, { email: 'one@example.org' });
    expect((await letter(other)).status).toBe('open');
  });

  it('locks the address of a published letter', async () => {
    const id = await createDraft(visitor, [recipient]);
    await post(visitor, id, 'publish');
    const page = await visitor.get(`/admin/letters/${id}`);
    expect(byId(page.text, 'field-slug')?.attrs).toHaveProperty('readonly');

    const before = await letterTables(t.platform.db);
    const fields = withField(formFields(page.text, 'editor-form'), 'slug', 'a-new-address');
    const response = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...fields,
      ['action', 'save'],
    ]);
    expect(response.status).toBe(422);
    expect(fieldErrors(response.text, 'field-slug')).toEqual([
      'The address of a published letter cannot change.',
    ]);
    expect(fieldValue(formFields(response.text, 'editor-form'), 'slug')).toBe('a-new-address');
    expect(await letterTables(t.platform.db)).toEqual(before);
    expect((await supporter.get('/letters/a-new-address')).status).toBe(404);
  });

  it('refuses any change to a delivered letter', async () => {
    const id = await createDraft(visitor, [recipient]);
    await post(visitor, id, 'publish');
    await t.platform.db.updateTable('letters').set({ status: 'delivered' }).where('id', '=', id).execute();
    const page = await visitor.get(`/admin/letters/${id}`);
    expect(page.status).toBe(200);
    expect(workflowPanel(page.text)).toContain('This letter has been delivered.');

    const before = await letterTables(t.platform.db);
    const fields = withField(formFields(page.text, 'editor-form'), 'title_en', 'A changed title');
    const saved = await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}`, [
      ...withField(fields, 'confirm_new_version', 'yes'),
      ['action', 'save'],
    ]);
    expectErrorPage(saved, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(saved.text))).toContain(
      'This letter has been delivered; its text and settings can no longer change.',
    );
    for (const step of ['publish', 'close', 'reopen']) {
      expectErrorPage(await post(visitor, id, step), 409, ERROR_TITLES[409]);
    }
    expect(await letterTables(t.platform.db)).toEqual(before);
  });

  it("refuses another organizer's letter: nothing moves", async () => {
    const id = await createDraft(visitor, [recipient]);
    const { visitor: stranger } = await signedIn(t.app, t.platform, 'organizer');
    for (const step of ['publish', 'close', 'reopen']) {
      expectErrorPage(await post(stranger, id, step), 403, ERROR_TITLES[403]);
    }
    expectErrorPage(await stranger.get(`/admin/letters/${id}/close`), 403, ERROR_TITLES[403]);
    expect((await letter(id)).status).toBe('draft');
    expect((await letter(id)).ownerId).toBe(organizer.id);
    // The owner's list shows the letter, with its status; the stranger's shows nothing of it.
    const ownList = (await visitor.get('/admin/letters')).text;
    expect(hrefsIn(mainOf(ownList))).toContain(`/admin/letters/${id}`);
    expect(byClass(ownList, 'badge')).not.toHaveLength(0);
    const strangersList = (await stranger.get('/admin/letters')).text;
    expect(hrefsIn(mainOf(strangersList))).not.toContain(`/admin/letters/${id}`);
    expect(byClass(strangersList, 'badge')).toHaveLength(0);
  });
});
