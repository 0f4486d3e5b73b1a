import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, signedIn } from '../support/accounts.js';
import { createDraft, formFields, organizerPlatform, postForm, withField } from '../support/admin-forms.js';
import type { Visitor } from '../support/http.js';
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
    const edit = async (title: string) => {
      const fields = formFields((await visitor.get(`/admin/letters/${id}`)).text, 'editor-form');
      return postForm(
        visitor,
        `/admin/letters/${id}`,
        `/admin/letters/${id}`,
        withField(withField(fields, 'title_en', title), 'action', 'save'),
      );
    };
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

  it('sends nothing when a review step is refused', async () => {
    await mailSinceLastLook();
    // Nothing waits for review: returning it is refused, and nobody is told anything.
    expect((await post(admin, 'return')).status).toBe(409);
    expect((await post(admin, 'changes/return')).status).toBe(409);
    expect(await mailSinceLastLook()).toEqual({});
  });
});
