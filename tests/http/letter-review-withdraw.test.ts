import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, loginAs, signedIn } from '../support/accounts.js';
import {
  createDraft,
  fieldValue,
  formFieldsFor,
  organizerPlatform,
  postForm,
} from '../support/admin-forms.js';
import { auditEntries } from '../support/audit-log.js';
import { byId, hrefsIn, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { csrfTokenIn } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import type { TestPlatform } from '../support/test-platform.js';

const TITLE = 'Let them choose freedom';
const WITHDRAWN_NOTICE =
  'The review request was withdrawn. The letter is a draft again: ask for review when it is ready.';
const NOTHING_WAITS =
  'This letter is not waiting for review: the request was already withdrawn, or an admin has published the letter or sent it back.';

describe('withdrawing a review request: an organizer takes back a draft they asked an admin to review', () => {
  let t: TestPlatform;
  let organizer: User;
  let visitor: Visitor;
  let recipient: number;
  let admin: Visitor;
  let adminUser: User;
  let id: number;

  beforeEach(async () => {
    ({ t, organizer, visitor, recipient } = await organizerPlatform());
    ({ visitor: admin, user: adminUser } = await signedIn(t.app, t.platform, 'admin'));
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
    id = await createDraft(visitor, [recipient]);
  });
  afterEach(async () => {
    await t.close();
  });

  const base = () => `/admin/letters/${id}`;
  const withdrawPath = () => `${base()}/withdraw-review`;
  const letter = async () => (await t.platform.repositories.letters.findById(id))!;
  const askForReview = async () => {
    const asked = await postForm(visitor, base(), `${base()}/publish`, []);
    expect(asked.headers.location).toBe(`${base()}?done=reviewRequested`);
  };
  /** Presses the form's button on `from` (its token, and it as the page it came from), as a browser would. */
  const withdrawFrom = async (as: Visitor, from: string) => {
    const page = await as.get(from);
    return as.agent
      .post(withdrawPath())
      .type('form')
      .set('Accept', 'text/html')
      .set('Host', 'letters.example.org')
      .set('Referer', `https://letters.example.org${from}`)
      .send({ _csrf: csrfTokenIn(page.text) });
  };
  /** The links of the editor's side panel that leads to withdrawing, for this account. */
  const withdrawLinks = async (as: Visitor) =>
    hrefsIn(mainOf((await as.get(base())).text)).filter((href) => href === withdrawPath());
  const reviewList = async () => {
    const dashboard = (await admin.get('/admin')).text;
    const heading = byId(dashboard, 'review-heading');
    if (!heading) return [];
    const section = startTags(dashboard, 'section')
      .filter((s) => s.index < heading.index)
      .at(-1)!;
    return hrefsIn(innerHtml(dashboard, section));
  };

  it('says, on the publish page opened again while the request is open, that it waits, with no button to ask again', async () => {
    await askForReview();
    const again = await visitor.get(`${base()}/publish`);
    expect(again.status).toBe(200);
    const main = mainOf(again.text);
    expect(textOf(innerHtml(again.text, byId(again.text, 'already-asked')!))).toContain(
      'This letter already waits for an admin’s review',
    );
    expect(startTags(main, 'form')).toEqual([]);
    expect(hrefsIn(main)).toEqual(expect.arrayContaining([base(), withdrawPath()]));
    // Once published by an admin, the page opened from a bookmark (no page to go back to) leads to the letter.
    expect((await postForm(admin, base(), `${base()}/publish`, [])).status).toBe(303);
    const published = await visitor.get(`${base()}/publish`);
    expect(published.status).toBe(409);
    expect(textOf(mainOf(published.text))).toContain('This letter has been published already.');
    expect(hrefsIn(mainOf(published.text))).toContain(base());
  });

  it('offers the step only while a request is open, asks first, and leaves a plain draft the organizer can ask again', async () => {
    expect(await withdrawLinks(visitor)).toEqual([]);
    await askForReview();
    expect(await withdrawLinks(visitor)).toEqual([withdrawPath()]);
    // An admin decides the review instead: approving or sending back, not withdrawing.
    expect(await withdrawLinks(admin)).toEqual([]);
    expect(await reviewList()).toEqual([base()]);

    // The page asks first, with one form (no JavaScript needed); opening it changes nothing.
    const ask = await visitor.get(withdrawPath());
    expect(ask.status).toBe(200);
    expect(textOf(mainOf(ask.text))).toContain('Withdraw the review request?');
    expect(startTags(mainOf(ask.text), 'form').map((f) => f.attrs.action)).toEqual([withdrawPath()]);
    expect(hrefsIn(mainOf(ask.text))).toContain(base());
    expect((await letter()).reviewRequestedAt).not.toBeNull();

    await t.drainOutbox();
    const mailBefore = t.sink.messages.length;
    const withdrawn = await withdrawFrom(visitor, withdrawPath());
    expect(withdrawn.status).toBe(303);
    expect(withdrawn.headers.location).toBe(`${base()}?done=reviewWithdrawn`);
    expect(await letter()).toMatchObject({ status: 'draft', reviewRequestedAt: null, returned: null });
    const page = await visitor.get(withdrawn.headers.location!);
    expect(textOf(mainOf(page.text))).toContain(WITHDRAWN_NOTICE);
    expect(textOf(mainOf(page.text))).toContain('Ask for review');
    expect(await withdrawLinks(visitor)).toEqual([]);
    // Out of the admins' list, recorded, and the admins are told it no longer waits.
    expect(await reviewList()).toEqual([]);
    const entries = await auditEntries(t.platform.db, 'letter-review-withdrawn');
    expect(entries).toMatchObject([{ actor_user_id: organizer.id, target_id: String(id) }]);
    await t.drainOutbox();
    const told = t.sink.messages.slice(mailBefore);
    expect(told.map((m) => [m.envelopeTo, m.parsed.subject])).toEqual([
      [[adminUser.email], `A review request was withdrawn: ${TITLE}`],
    ]);
    expect(told[0]!.parsed.text).toContain(`The organizers of "${TITLE}" withdrew their request for review`);

    await askForReview();
    expect(await reviewList()).toEqual([base()]);
  });

  it('answers a second withdrawal with 409 and the way back, recording and sending nothing', async () => {
    await askForReview();
    // Another tab still shows the question.
    await visitor.get(withdrawPath());
    expect((await withdrawFrom(visitor, withdrawPath())).status).toBe(303);
    const entries = await auditEntries(t.platform.db);
    await t.drainOutbox();
    const mail = t.sink.messages.length;

    const again = await withdrawFrom(visitor, withdrawPath());
    expectErrorPage(again, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(again.text))).toContain(NOTHING_WAITS);
    expect(hrefsIn(mainOf(again.text))).toEqual([withdrawPath(), '/admin']);
    // The way back says the same, and leads to the letter, with no button.
    const back = await visitor.get(withdrawPath());
    expect(back.status).toBe(200);
    expect(textOf(mainOf(back.text))).toContain(NOTHING_WAITS);
    expect(startTags(mainOf(back.text), 'form')).toEqual([]);
    expect(hrefsIn(mainOf(back.text))).toContain(base());

    expect(await auditEntries(t.platform.db)).toEqual(entries);
    await t.drainOutbox();
    expect(t.sink.messages.length).toBe(mail);
  });

  it('answers 409 once an admin has published the letter or sent it back first', async () => {
    await askForReview();
    expect((await postForm(admin, base(), `${base()}/return`, [['note', 'Fix the date.']])).status).toBe(303);
    const fromEditor = await withdrawFrom(visitor, base());
    expectErrorPage(fromEditor, 409, ERROR_TITLES[409]);
    expect(hrefsIn(mainOf(fromEditor.text))).toEqual([base(), '/admin']);
    // The admin's note is still there for the organizer.
    expect((await letter()).returned).toMatchObject({ note: 'Fix the date.' });

    await askForReview();
    expect((await postForm(admin, base(), `${base()}/publish`, [])).headers.location).toBe(
      `${base()}?done=published`,
    );
    expectErrorPage(await withdrawFrom(visitor, base()), 409, ERROR_TITLES[409]);
    expect((await letter()).status).toBe('open');
    expect(await auditEntries(t.platform.db, 'letter-review-withdrawn')).toEqual([]);
  });

  it("publishes nothing from an admin's approval page opened before the request was withdrawn", async () => {
    await askForReview();
    // The admin opens the page that approves the request; the organizer withdraws it to go on editing.
    const approval = await admin.get(`${base()}/publish`);
    const fields = formFieldsFor(approval.text, `${base()}/publish`);
    expect(fieldValue(fields, 'review_seen')).toBe((await letter()).reviewRequestedAt!.toISOString());
    expect((await withdrawFrom(visitor, withdrawPath())).status).toBe(303);
    const stale = await postForm(admin, `${base()}/publish`, `${base()}/publish`, fields);
    expectErrorPage(stale, 409, ERROR_TITLES[409]);
    expect(textOf(mainOf(stale.text))).toContain('Its organizers withdrew the review request');
    expect((await letter()).status).toBe('draft');
    expect(await auditEntries(t.platform.db, 'letter-published')).toEqual([]);
    // Asked again, the admin's page approves the new request.
    await askForReview();
    const again = await admin.get(`${base()}/publish`);
    const published = await postForm(
      admin,
      `${base()}/publish`,
      `${base()}/publish`,
      formFieldsFor(again.text, `${base()}/publish`),
    );
    expect(published.headers.location).toBe(`${base()}?done=published`);
  });

  it('lets an account the letter is shared with withdraw it, and refuses admins, strangers and forms without a token', async () => {
    const colleague = await createAccount(t.platform, 'organizer');
    await postForm(visitor, base(), `${base()}/collaborators`, [['email', colleague.email]]);
    const stranger = (await signedIn(t.app, t.platform, 'organizer')).visitor;
    await askForReview();
    const waitingSince = (await letter()).reviewRequestedAt;

    // An admin: refused, saying who can (they approve it or send it back instead).
    expectErrorPage(await admin.get(withdrawPath()), 403, ERROR_TITLES[403]);
    const byAdmin = await withdrawFrom(admin, base());
    expectErrorPage(byAdmin, 403, ERROR_TITLES[403]);
    expect(textOf(mainOf(byAdmin.text))).toContain(
      'Only the letter’s owner or an account it is shared with can withdraw its review request.',
    );
    // Another organizer sees nothing of the letter.
    expectErrorPage(await stranger.get(withdrawPath()), 403, ERROR_TITLES[403]);
    expectErrorPage(await withdrawFrom(stranger, '/admin'), 403, ERROR_TITLES[403]);
    // No token: refused even for its owner.
    const noToken = await visitor.agent.post(withdrawPath()).type('form').set('Accept', 'text/html').send({});
    expectErrorPage(noToken, 403, ERROR_TITLES[403]);
    // A malformed letter id is not a server error.
    expect((await visitor.get('/admin/letters/not-a-number/withdraw-review')).status).toBeLessThan(500);
    expect((await letter()).reviewRequestedAt).toEqual(waitingSince);
    expect(await auditEntries(t.platform.db, 'letter-review-withdrawn')).toEqual([]);

    const colleagueVisitor = await loginAs(t.app, colleague);
    expect(await withdrawLinks(colleagueVisitor)).toEqual([withdrawPath()]);
    expect((await withdrawFrom(colleagueVisitor, withdrawPath())).headers.location).toBe(
      `${base()}?done=reviewWithdrawn`,
    );
    expect((await letter()).reviewRequestedAt).toBeNull();
  });
});
