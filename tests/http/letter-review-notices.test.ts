import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, signedIn } from '../support/accounts.js';
import {
  createDraft,
  fieldErrors,
  formFields,
  organizerPlatform,
  postForm,
  withField,
} from '../support/admin-forms.js';
import { byId, hrefsIn, innerHtml, mainOf, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { linksIn } from '../support/smtp-sink.js';
import type { TestPlatform } from '../support/test-platform.js';

const TITLE = 'Let them choose freedom';

describe('review notices: who is told by e-mail when a letter waits for review and what the review decided', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let recipient: number;
  let admin: Visitor;
  let admins: User[];
  let colleague: User;
  let id: number;

  beforeEach(async () => {
    ({ t, organizer, visitor, recipient } = await organizerPlatform());
    const first = await signedIn(t.app, t.platform, 'admin');
    admin = first.visitor;
    admins = [first.user, await createAccount(t.platform, 'admin')];
    colleague = await createAccount(t.platform, 'organizer');
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
    id = await createDraft(visitor, [recipient]);
    await post(visitor, 'collaborators', [['email', colleague.email]]);
  });
  afterEach(async () => {
    await t.close();
  });

  const post = (as: Visitor, step: string, fields: [string, string][] = []) =>
    postForm(as, `/admin/letters/${id}`, `/admin/letters/${id}/${step}`, fields);
  /** The organizer saves the letter with a new English title (held for review once it is published). */
  const edit = async (title: string) => {
    const fields = formFields((await visitor.get(`/admin/letters/${id}`)).text, 'editor-form');
    return postForm(
      visitor,
      `/admin/letters/${id}`,
      `/admin/letters/${id}`,
      withField(withField(fields, 'title_en', title), 'action', 'save'),
    );
  };
  /** The subjects each address received since the last call. */
  let seen = 0;
  async function mailSinceLastLook(): Promise<Record<string, string[]>> {
    await t.drainOutbox();
    const fresh = t.sink.messages.slice(seen);
    seen = t.sink.messages.length;
    const byAddress: Record<string, string[]> = {};
    for (const message of fresh)
      for (const to of message.envelopeTo) (byAddress[to] ??= []).push(message.parsed.subject ?? '');
    return byAddress;
  }
  const each = (users: User[], subject: string) => Object.fromEntries(users.map((u) => [u.email, [subject]]));

  it('tells an account once that a letter was shared with it, by whom, with a link to the editor', async () => {
    // Shared in beforeEach: the colleague alone is told.
    expect(await mailSinceLastLook()).toEqual(each([colleague], `A letter was shared with you: ${TITLE}`));
    const [mail] = t.sink.to(colleague.email);
    expect(mail!.parsed.text).toContain(`${organizer.email} shared the letter "${TITLE}" with your account`);
    expect(linksIn(mail!).map((link) => new URL(link).pathname)).toContain(`/admin/letters/${id}`);
    // Sharing again changes nothing and sends nothing.
    expect((await post(visitor, 'collaborators', [['email', colleague.email]])).status).toBe(303);
    expect(await mailSinceLastLook()).toEqual({});
  });

  it('tells every admin when a letter waits, and its organizers when it comes back or is published', async () => {
    await mailSinceLastLook();
    expect((await post(visitor, 'publish')).status).toBe(303);
    expect(await mailSinceLastLook()).toEqual(each(admins, `A letter awaits your review: ${TITLE}`));

    expect((await post(admin, 'return')).status).toBe(303);
    expect(await mailSinceLastLook()).toEqual(
      each([organizer, colleague], `Your letter came back from review: ${TITLE}`),
    );

    await post(visitor, 'publish');
    expect(await mailSinceLastLook()).toEqual(each(admins, `A letter awaits your review: ${TITLE}`));
    expect((await post(admin, 'publish')).headers.location).toBe(`/admin/letters/${id}?done=published`);
    expect(await mailSinceLastLook()).toEqual(
      each([organizer, colleague], `Your letter is published: ${TITLE}`),
    );
  });

  it('tells every admin when changes to a published letter wait, and the organizers what was decided', async () => {
    await post(visitor, 'publish');
    await post(admin, 'publish');
    await mailSinceLastLook();
    expect((await edit('A clearer title')).headers.location).toBe(`/admin/letters/${id}?done=changesWaiting`);
    expect(await mailSinceLastLook()).toEqual(
      each(admins, `Changes to a published letter await your review: ${TITLE}`),
    );
    // Saving the waiting changes again adds nothing new to review: the admins are not told twice.
    await edit('A clearer title, again');
    expect(await mailSinceLastLook()).toEqual({});

    expect((await post(admin, 'changes/return')).status).toBe(303);
    expect(await mailSinceLastLook()).toEqual(
      each([organizer, colleague], `Your changes came back from review: ${TITLE}`),
    );

    await edit('A clearer title');
    await mailSinceLastLook();
    const waiting = (await t.platform.repositories.letters.findById(id))!.pendingEditAt!;
    await post(admin, 'changes/approve', [['pending_at', waiting.toISOString()]]);
    expect(await mailSinceLastLook()).toEqual(
      each([organizer, colleague], 'Your changes are published: A clearer title'),
    );
  });

  /** What the editor's note from the last review says to whoever opens it; undefined when it shows none. */
  async function returnedNote(as: Visitor): Promise<string | undefined> {
    const page = await as.get(`/admin/letters/${id}`);
    const panel = byId(page.text, 'review-returned');
    return panel ? textOf(innerHtml(page.text, panel)) : undefined;
  }

  it('asks the admin for a note before sending a letter back, and shows it to its organizers until they ask again', async () => {
    await post(visitor, 'publish');
    await mailSinceLastLook();
    // The editor's button leads to a page that asks for the note; it sends nothing by itself.
    expect(hrefsIn(mainOf((await admin.get(`/admin/letters/${id}`)).text))).toContain(
      `/admin/letters/${id}/return`,
    );
    const page = await admin.get(`/admin/letters/${id}/return`);
    expect(page.status).toBe(200);
    expect(byId(page.text, 'field-note')!.attrs.maxlength).toBe('2000');

    const tooLong = await postForm(admin, `/admin/letters/${id}/return`, `/admin/letters/${id}/return`, [
      ['note', 'x'.repeat(2001)],
    ]);
    expect(tooLong.status).toBe(422);
    expect(fieldErrors(tooLong.text, 'field-note')).toEqual(['Keep the note to 2,000 characters or fewer.']);
    expect(textOf(innerHtml(tooLong.text, byId(tooLong.text, 'field-note')!))).toBe('x'.repeat(2001));
    expect((await t.platform.repositories.letters.findById(id))!.reviewRequestedAt).not.toBeNull();
    expect(await mailSinceLastLook()).toEqual({});

    const note = 'Cite the source of the casualty figures.\nAnd shorten the summary.';
    const sent = await postForm(admin, `/admin/letters/${id}/return`, `/admin/letters/${id}/return`, [
      ['note', note.replace('\n', '\r\n')],
    ]);
    expect(sent.headers.location).toBe(`/admin/letters/${id}?done=returned`);
    await t.drainOutbox();
    const [mail] = t.sink.to(organizer.email).slice(-1);
    expect(mail!.parsed.text).toContain(`The admin's note:\n${note}`);

    const shown = await returnedNote(visitor);
    expect(shown).toContain('Sent back from review on');
    // Above the form, where a phone shows it first (it sat in the side column, thirteen screens down),
    // and the letter is marked as sent back in the lists too.
    const editor = (await visitor.get(`/admin/letters/${id}`)).text;
    expect(byId(editor, 'review-returned')!.index).toBeLessThan(byId(editor, 'editor-form')!.index);
    for (const list of ['/admin', '/admin/letters'])
      expect(textOf(mainOf((await visitor.get(list)).text)), list).toContain('Sent back from review');
    expect(shown).toContain('Cite the source of the casualty figures.');
    expect(shown).toContain('And shorten the summary.');
    const audit = await t.platform.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'letter-returned-to-draft')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(audit.details)).toMatchObject({ note });

    // Asked again, the note has been answered: the editor no longer shows it.
    await post(visitor, 'publish');
    expect(await returnedNote(visitor)).toBeUndefined();
    expect(await returnedNote(admin)).toBeUndefined();
  });

  it('shows the note on changes sent back until the organizers submit changes again', async () => {
    await post(visitor, 'publish');
    await post(admin, 'publish');
    await edit('A clearer title');
    expect(
      (await post(admin, 'changes/return', [['note', 'Keep the original title: it is on the posters.']]))
        .status,
    ).toBe(303);
    expect(await returnedNote(visitor)).toContain('Keep the original title: it is on the posters.');
    await edit('Another title');
    expect(await returnedNote(visitor)).toBeUndefined();
  });

  it('sends back without a note too, and says so in the editor', async () => {
    await post(visitor, 'publish');
    expect((await post(admin, 'return')).status).toBe(303);
    expect(await returnedNote(visitor)).toContain('The admin left no note.');
  });

  it('answers the note page of a letter that waits for no review with 409', async () => {
    expect((await admin.get(`/admin/letters/${id}/return`)).status).toBe(409);
    expect((await admin.get(`/admin/letters/${id}/changes/return`)).status).toBe(409);
    // Nor may an organizer send their own letter back.
    await post(visitor, 'publish');
    expect((await visitor.get(`/admin/letters/${id}/return`)).status).toBe(403);
  });

  it('sends nothing when a review step is refused', async () => {
    await mailSinceLastLook();
    // Nothing waits for review: returning it is refused, and nobody is told anything.
    expect((await post(admin, 'return')).status).toBe(409);
    expect((await post(admin, 'changes/return')).status).toBe(409);
    expect(await mailSinceLastLook()).toEqual({});
  });
});
