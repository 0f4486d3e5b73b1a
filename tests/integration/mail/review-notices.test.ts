import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { createAccount, loginAs } from '../../support/accounts.js';
import { createDraft, EN_BODY, organizerPlatform } from '../../support/admin-forms.js';
import type { Visitor } from '../../support/http.js';
import { linksIn, type SinkMessage } from '../../support/smtp-sink.js';
import { TEST_PUBLIC_URL, type TestPlatform } from '../../support/test-platform.js';

const TITLE = 'Let them choose freedom';

let t: TestPlatform;
let organizer: User;
let visitor: Visitor;
let recipient: number;
let admins: User[];

beforeEach(async () => {
  ({ t, organizer, visitor, recipient } = await organizerPlatform());
  const settings = t.platform.appDeps.settings;
  await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
  admins = [await createAccount(t.platform, 'admin'), await createAccount(t.platform, 'admin')];
});
afterEach(async () => {
  await t.close();
});

/** Every message the sink accepted, as "address: subject", sorted. */
function received(messages: readonly SinkMessage[] = t.sink.messages): string[] {
  return messages.map((m) => `${m.envelopeTo.join(',')}: ${m.parsed.subject}`).sort();
}

/** An organizer's draft, sent for review through the workflow; the mail queued so far is sent. */
async function askedForReview(): Promise<number> {
  const id = await createDraft(visitor, [recipient]);
  expect(await t.platform.letterAdmin.workflow.publish(organizer, id)).toMatchObject({
    kind: 'review-requested',
  });
  await t.drainOutbox();
  return id;
}

describe('review notices', () => {
  it("tells each admin who can log in, once, that an organizer's letter awaits review, with a link to the editor", async () => {
    const users = t.platform.repositories.users;
    const disabled = await createAccount(t.platform, 'admin');
    await users.setDisabled(disabled.id, t.clock.now());
    const invited = await createAccount(t.platform, 'admin');
    await users.setInvitation(invited.id, 'x'.repeat(43), new Date(t.clock.now().getTime() + 86_400_000));

    const id = await askedForReview();
    // Asking again while it waits sends nothing more.
    await t.platform.letterAdmin.workflow.publish(organizer, id);
    await t.drainOutbox();

    expect(received()).toEqual(
      admins.map((admin) => `${admin.email}: A letter awaits your review: ${TITLE}`).sort(),
    );
    for (const message of t.sink.messages) {
      expect(linksIn(message)).toContain(`${TEST_PUBLIC_URL}/admin/letters/${id}?lang=en`);
      expect(message.parsed.headers.get('auto-submitted')).toBe('auto-generated');
    }
  });

  it("tells the letter's owner and collaborators, once each, that an admin returned it, and no one else", async () => {
    const collaborator = await createAccount(t.platform, 'organizer');
    const gone = await createAccount(t.platform, 'organizer');
    const id = await askedForReview();
    const collaborators = t.platform.letterAdmin.collaborators;
    await collaborators.add(organizer, id, collaborator.email);
    await collaborators.add(organizer, id, gone.email);
    await t.platform.repositories.users.setDisabled(gone.id, t.clock.now());
    // Each was told it was shared with them (letter-review-notices.test.ts): that mail is not this test's.
    await t.drainOutbox();
    t.sink.messages.length = 0;

    await t.platform.letterAdmin.workflow.returnToDraft(
      admins[0]!,
      id,
      'Cite the source of the casualty figures.',
    );
    await t.drainOutbox();

    expect(received()).toEqual(
      [organizer, collaborator].map((u) => `${u.email}: Your letter came back from review: ${TITLE}`).sort(),
    );
    const [message] = t.sink.to(organizer.email);
    expect(message!.parsed.text).toContain('It is still a draft');
    // The admin's note, as they wrote it, in both parts.
    expect(message!.parsed.text).toContain("The admin's note:\nCite the source of the casualty figures.");
    expect(message!.parsed.html).toContain('Cite the source of the casualty figures.');
    expect(linksIn(message!)).toContain(`${TEST_PUBLIC_URL}/admin/letters/${id}?lang=en`);
  });

  it('tells the owner that the letter is published when an admin approves it', async () => {
    const id = await askedForReview();
    t.sink.messages.length = 0;

    expect(await t.platform.letterAdmin.workflow.publish(admins[0]!, id)).toMatchObject({
      kind: 'published',
    });
    await t.drainOutbox();

    expect(received()).toEqual([`${organizer.email}: Your letter is published: ${TITLE}`]);
    expect(linksIn(t.sink.messages[0]!)).toContain(`${TEST_PUBLIC_URL}/letters/let-them-choose?lang=en`);
  });

  it('tells admins that changes to a published letter await review, and the organizers when they come back', async () => {
    const id = await askedForReview();
    await t.platform.letterAdmin.workflow.publish(admins[0]!, id);
    await t.drainOutbox();
    t.sink.messages.length = 0;

    // The organizer changes the published letter's title: the change waits for an admin.
    const saved = await t.platform.letterAdmin.drafting.save(
      organizer,
      id,
      {
        slug: 'let-them-choose',
        primaryLanguage: 'en',
        sponsor: 'Escapees for freedom',
        goal: '500',
        closeOnGoal: false,
        opensAt: '',
        closesAt: '2027-01-31',
        organisations: 'Transitional Justice Working Group\nNK Watch',
        recipientIds: [recipient],
        languages: ['en'],
        texts: { en: { title: 'Let them choose', summary: 'Two soldiers.', body: EN_BODY } },
      },
      true,
    );
    expect(saved.kind).toBe('held-for-review');
    await t.drainOutbox();
    // The notice names the letter as the public knows it, not by the title waiting for review.
    expect(received()).toEqual(
      admins
        .map((admin) => `${admin.email}: Changes to a published letter await your review: ${TITLE}`)
        .sort(),
    );
    t.sink.messages.length = 0;

    await t.platform.letterAdmin.workflow.returnChanges(admins[1]!, id, '');
    await t.drainOutbox();
    expect(received()).toEqual([`${organizer.email}: Your changes came back from review: ${TITLE}`]);
  });

  it('sends nothing when the review step is refused: the notice is queued in its transaction', async () => {
    const id = await createDraft(visitor, [recipient]);
    // Nothing waits for review: returning it is refused, and its transaction queues no mail.
    await expect(t.platform.letterAdmin.workflow.returnToDraft(admins[0]!, id, '')).rejects.toMatchObject({
      status: 409,
    });
    await t.drainOutbox();
    expect(t.sink.messages).toEqual([]);
    expect(await t.platform.db.selectFrom('outbox_messages').selectAll().execute()).toEqual([]);
  });

  it('sends no review notice when an admin publishes their own letter', async () => {
    const admin = admins[0]!;
    const id = await createDraft(await loginAs(t.app, admin), [recipient]);
    expect(await t.platform.letterAdmin.workflow.publish(admin, id)).toMatchObject({ kind: 'published' });
    await t.drainOutbox();
    expect(t.sink.messages).toEqual([]);
  });
});
