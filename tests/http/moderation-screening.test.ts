import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { MODERATION_PAGE_SIZE } from '../../server/signatures/moderation-service.js';
import { createAccount, signedIn } from '../support/accounts.js';
import { formFieldsFor, postForm } from '../support/admin-forms.js';
import { createLetter, signingForm } from '../support/factories.js';
import { byClass, hrefsIn, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import {
  ERROR_TITLES,
  expectErrorPage,
  lastMailTo,
  signatureLinks,
  storedCount,
} from '../support/signing.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const REAL_LIMITS = { SIGNING_LIMIT_BURST: '1/60', SIGNING_LIMIT_SUSTAINED: '5/300' };
const FIRST = { name: 'Kim Ji-hoon', email: 'first@example.org', country: 'KR' };
const SECOND = { name: 'Olena Kovalenko', email: 'second@example.org', country: 'UA' };

describe('moderation shows suspect signatures and why, and clears them', () => {
  let t: TestPlatform;
  let admin: User;
  let adminVisitor: Visitor;
  let letter: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform({ env: REAL_LIMITS });
    ({ user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Signs through the form; returns the supporter's browser. */
  async function sign(who: typeof FIRST): Promise<Visitor> {
    const visitor = new Visitor(t.app);
    const response = await visitor.submit(`/letters/${letter.slug}`, `/letters/${letter.slug}/sign`, {
      ...signingForm(who),
    });
    expect(response.status).toBe(303);
    return visitor;
  }

  /** Presses the button behind the link in the supporter's confirmation e-mail. */
  async function confirm(visitor: Visitor, who: typeof FIRST) {
    await t.drainOutbox();
    const { confirm: path } = signatureLinks(lastMailTo(t, who.email));
    const response = await visitor.submit(path, path, {});
    expect(response.status).toBe(303);
  }

  /** FIRST signs; SECOND signs from the same connection 10 s later, over the burst limit. */
  async function oneCountedOneSuspect() {
    const first = await sign(FIRST);
    t.clock.advance(10_000);
    const second = await sign(SECOND);
    return { first, second };
  }

  const signatureOf = (email: string) =>
    t.platform.db.selectFrom('signatures').selectAll().where('email', '=', email).executeTakeFirstOrThrow();

  /** The rows of the moderation page: the e-mail shown and the row's whole text. */
  async function rows(query: string): Promise<{ email: string; text: string }[]> {
    const page = await adminVisitor.get(`/admin/signatures${query}`);
    expect(page.status, `/admin/signatures${query}`).toBe(200);
    const main = mainOf(page.text);
    const tbody = startTags(main, 'tbody')[0];
    if (!tbody) return [];
    const body = innerHtml(main, tbody);
    return body
      .split('</tr>')
      .filter((row) => row.includes('<tr'))
      .map((row) => ({ email: textsByClass(row, 'wrap-anywhere')[0] ?? '', text: textOf(row) }));
  }

  /** Presses a row's button (clear, invalidate) as the admin. */
  async function press(id: number, action: 'clear' | 'invalidate') {
    const response = await postForm(
      adminVisitor,
      '/admin/signatures?flag=suspect',
      `/admin/signatures/${id}/${action}`,
      [
        ['return_to', '/admin/signatures?flag=suspect'],
        // Invalidating asks for a reason; clearing takes none.
        ...(action === 'invalidate' ? ([['reason', 'signed again too soon']] as [string, string][]) : []),
      ],
    );
    expect(response.status, `${action} ${id}`).toBe(303);
    return response;
  }

  it('filters suspect signatures and shows each one’s reasons in words', async () => {
    await oneCountedOneSuspect();
    expect(await rows('')).toHaveLength(2);
    const suspect = await rows('?flag=suspect');
    expect(suspect.map((r) => r.email)).toEqual([SECOND.email]);
    expect(suspect[0]!.text).toContain('Suspect');
    expect(suspect[0]!.text).toContain('Signed again too soon from the same connection');
    expect(suspect[0]!.text).not.toContain('rate-burst');
    // "Not abuse" is explained beside a list that has the button, and only there.
    const CLEAR_HINT = 'Not abuse: it then counts as any other signature';
    expect((await adminVisitor.get('/admin/signatures?flag=suspect')).text).toContain(CLEAR_HINT);
    expect((await adminVisitor.get(`/admin/signatures?email=${FIRST.email}`)).text).not.toContain(CLEAR_HINT);
  });

  it('filters signatures to review, with their reasons, apart from suspect ones', async () => {
    await oneCountedOneSuspect();
    // Review reasons come from other screens (proof of work, disposable domains): set them here, on one.
    await t.platform.db.updateTable('signatures').set({ review_reasons: null }).execute();
    await t.platform.db
      .updateTable('signatures')
      .set({ review_reasons: 'disposable-domain,no-proof-of-work' })
      .where('email', '=', FIRST.email)
      .execute();
    const review = await rows('?flag=review');
    expect(review.map((r) => r.email)).toEqual([FIRST.email]);
    expect(review[0]!.text).toContain('Disposable e-mail domain');
    expect(review[0]!.text).toContain('Sent without JavaScript (no proof of work)');
    expect((await rows('?flag=suspect')).map((r) => r.email)).toEqual([SECOND.email]);
  });

  it('refuses an unknown filter with 400 and keeps the search', async () => {
    const page = await adminVisitor.get('/admin/signatures?flag=everything&name=Kim');
    expect(page.status).toBe(400);
    expect(textOf(mainOf(page.text))).toContain('Choose suspect or to review from the list.');
    expect(page.text).toContain('value="Kim"');
  });

  it('clears the held signatures of a bulk preview at once: the confirmed ones count, the others once confirmed', async () => {
    const THIRD = { name: 'Park Min-su', email: 'third@example.org', country: 'KR' };
    const first = await sign(FIRST);
    t.clock.advance(10_000);
    const second = await sign(SECOND);
    t.clock.advance(10_000);
    await sign(THIRD);
    await confirm(first, FIRST);
    await confirm(second, SECOND);
    expect(await storedCount(t, letter.slug)).toBe(1);

    const page = (await adminVisitor.get('/admin/signatures/bulk?domain=example.org')).text;
    const form = startTags(page, 'form').find((f) => f.attrs.action === '/admin/signatures/bulk/clear');
    expect(form, 'a bulk clearing is offered').toBeDefined();
    expect(textOf(innerHtml(page, form!))).toContain('Clear the 2 held signatures');
    const cleared = await postForm(
      adminVisitor,
      '/admin/signatures/bulk?domain=example.org',
      '/admin/signatures/bulk/clear',
      [...formFieldsFor(page, '/admin/signatures/bulk/clear')],
    );
    expect(cleared.status).toBe(303);
    const notice = textOf(mainOf((await adminVisitor.get(cleared.headers.location!)).text));
    expect(notice).toContain('2 held signatures cleared; 1 now counted');
    // SECOND had confirmed: counted; THIRD has not: counted once they do. Nobody was invalidated.
    expect(await storedCount(t, letter.slug)).toBe(2);
    expect((await signatureOf(SECOND.email)).status).toBe('confirmed');
    expect(await signatureOf(THIRD.email)).toMatchObject({ status: 'pending', suspect_reasons: null });
    const audited = await t.platform.db
      .selectFrom('audit_events')
      .select('target_id')
      .where('action', '=', 'signature-cleared')
      .execute();
    expect(audited).toHaveLength(2);

    // The same confirmation again finds nothing held: it changes nothing and shows the preview anew.
    const again = await postForm(
      adminVisitor,
      '/admin/signatures/bulk?domain=example.org',
      '/admin/signatures/bulk/clear',
      [...formFieldsFor(page, '/admin/signatures/bulk/clear')],
    );
    expect(again.status).toBe(409);
    expect(await storedCount(t, letter.slug)).toBe(2);
  });

  it('clearing a suspect signature whose supporter already confirmed counts it, audited', async () => {
    const { first, second } = await oneCountedOneSuspect();
    await confirm(first, FIRST);
    await confirm(second, SECOND);
    expect(await storedCount(t, letter.slug)).toBe(1);
    // Held, not waiting on its supporter: the status says so, not "pending (not confirmed)".
    const held = (await rows('?flag=suspect'))[0]!.text;
    expect(held).toContain('held: confirmed by the supporter, not counted until cleared');
    expect(held).not.toContain('not confirmed)');
    // The bulk page's preview says the same of it (it said "pending (not confirmed)").
    const domain = SECOND.email.split('@')[1]!;
    const bulk = textOf(mainOf((await adminVisitor.get(`/admin/signatures/bulk?domain=${domain}`)).text));
    expect(bulk).toContain('held: confirmed by the supporter, not counted until cleared');
    expect(bulk).not.toContain('pending (not confirmed)');

    const id = (await signatureOf(SECOND.email)).id;
    const cleared = await press(id, 'clear');
    const notice = await adminVisitor.get(cleared.headers.location!);
    expect(textOf(mainOf(notice.text))).toContain('its supporter had already confirmed it');

    const row = await signatureOf(SECOND.email);
    expect(row.status).toBe('confirmed');
    expect(row.suspect_reasons).toBeNull();
    expect(await storedCount(t, letter.slug)).toBe(2);
    expect(await t.platform.repositories.letters.countryCounts(letter.id)).toEqual(
      expect.arrayContaining([
        { code: 'KR', count: 1 },
        { code: 'UA', count: 1 },
      ]),
    );
    const page = await new Visitor(t.app).get(`/letters/${letter.slug}`);
    expect(textsByClass(page.text, 'signatory__name').sort()).toEqual([FIRST.name, SECOND.name].sort());
    const audit = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'signature-cleared')
      .execute();
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({ actor_user_id: admin.id, target_id: String(id) });
    expect(JSON.parse(audit[0]!.details)).toMatchObject({ reasons: ['rate-burst'], confirmed: true });
    expect(await rows('?flag=suspect')).toEqual([]);
  });

  it("says on the dashboards how many signatures screening holds: admins to clear them, organizers why they don't count", async () => {
    const owner = await signedIn(t.app, t.platform, 'organizer');
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.user.id })
      .where('id', '=', letter.id)
      .execute();
    const before = await adminVisitor.get('/admin');
    expect(startTags(before.text).some((tag) => tag.attrs.id === 'held-alert')).toBe(false);

    await oneCountedOneSuspect();
    const dashboard = await adminVisitor.get('/admin');
    const alert = startTags(dashboard.text).find((tag) => tag.attrs.id === 'held-alert');
    expect(textOf(innerHtml(dashboard.text, alert!))).toBe(
      '1 signature is held by screening and counts only once an admin clears it. Review them',
    );
    // The link lists exactly the held ones it counted (it listed every suspect one, cleared or not).
    expect(hrefsIn(innerHtml(dashboard.text, alert!))).toEqual([
      '/admin/signatures?flag=suspect&status=pending',
    ]);
    expect(await rows('?flag=suspect&status=pending')).toHaveLength(1);
    const card = textOf(mainOf(dashboard.text));
    expect(card).toContain('Held by screening 1 (not counted until an admin clears them)');

    // The organizer sees why their count is short, but no call to act: only admins clear.
    const theirs = await owner.visitor.get('/admin');
    expect(textOf(mainOf(theirs.text))).toContain('Held by screening 1');
    expect(startTags(theirs.text).some((tag) => tag.attrs.id === 'held-alert')).toBe(false);

    await press((await signatureOf(SECOND.email)).id, 'clear');
    const after = await adminVisitor.get('/admin');
    expect(startTags(after.text).some((tag) => tag.attrs.id === 'held-alert')).toBe(false);
    expect(textOf(mainOf(after.text))).not.toContain('Held by screening');
  });

  it('clearing one whose supporter has not confirmed leaves it pending until they do', async () => {
    const { second } = await oneCountedOneSuspect();
    await press((await signatureOf(SECOND.email)).id, 'clear');
    expect((await signatureOf(SECOND.email)).status).toBe('pending');
    expect(await storedCount(t, letter.slug)).toBe(0);
    await confirm(second, SECOND);
    expect((await signatureOf(SECOND.email)).status).toBe('confirmed');
    expect(await storedCount(t, letter.slug)).toBe(1);
  });

  it('says a held signature can no longer count once its letter was delivered, before and after clearing', async () => {
    const { first, second } = await oneCountedOneSuspect();
    await confirm(first, FIRST);
    await confirm(second, SECOND);
    // Delivered with its final count while the signature was held (a delivery round is not what is tested here).
    await t.platform.db
      .updateTable('letters')
      .set({ status: 'delivered' })
      .where('id', '=', letter.id)
      .execute();
    const tooLate =
      'too late: confirmed by the supporter, but the letter was delivered before it was cleared';
    const held = (await rows('?flag=suspect'))[0]!.text;
    expect(held).toContain(tooLate);
    expect(held).not.toContain('not counted until cleared');

    const id = (await signatureOf(SECOND.email)).id;
    const cleared = await press(id, 'clear');
    const notice = await adminVisitor.get(cleared.headers.location!);
    expect(textOf(mainOf(notice.text))).toContain(
      'The signature was cleared, but it cannot count: the letter was delivered before it was cleared.',
    );
    expect(textOf(mainOf(notice.text))).not.toContain('counts now');
    expect(await signatureOf(SECOND.email)).toMatchObject({ status: 'pending', suspect_reasons: null });
    expect(await storedCount(t, letter.slug)).toBe(1);
    // Cleared, it is still not "pending (not confirmed)": its supporter did confirm.
    const row = (await rows(`?email=${encodeURIComponent(SECOND.email)}`))[0]!.text;
    expect(row).toContain(tooLate);
    expect(row).not.toContain('not confirmed)');
  });

  it('invalidating a suspect signature keeps it out for good: confirming then counts nothing', async () => {
    const { second } = await oneCountedOneSuspect();
    await press((await signatureOf(SECOND.email)).id, 'invalidate');
    // The link's page offers no confirmation any more; a post to it (token from another page) moves nothing.
    await t.drainOutbox();
    const { confirm: path } = signatureLinks(lastMailTo(t, SECOND.email));
    await second.submit(`/letters/${letter.slug}`, path, {});
    expect((await signatureOf(SECOND.email)).status).toBe('invalidated');
    expect(await storedCount(t, letter.slug)).toBe(0);
  });

  it('refuses to clear a signature that is not suspect (409) and an organizer (403), in the service too', async () => {
    await oneCountedOneSuspect();
    const notSuspect = (await signatureOf(FIRST.email)).id;
    const suspect = (await signatureOf(SECOND.email)).id;
    const response = await postForm(
      adminVisitor,
      '/admin/signatures',
      `/admin/signatures/${notSuspect}/clear`,
      [],
    );
    expectErrorPage(response, 409, ERROR_TITLES[409]);

    const organizer = await createAccount(t.platform, 'organizer');
    const { moderation } = t.platform.appDeps;
    await expect(moderation.clearSuspect(organizer, suspect)).rejects.toMatchObject({ status: 403 });
    await expect(moderation.search(organizer, {}, 0)).rejects.toMatchObject({ status: 403 });
    await expect(moderation.invalidate(organizer, suspect, 'x')).rejects.toMatchObject({ status: 403 });
    await expect(moderation.restore(organizer, suspect)).rejects.toMatchObject({ status: 403 });
    await expect(moderation.previewBulk(organizer, { emailDomain: 'example.org' })).rejects.toMatchObject({
      status: 403,
    });
    await expect(
      moderation.invalidateBulk(organizer, { emailDomain: 'example.org' }, 'x', 2),
    ).rejects.toMatchObject({ status: 403 });
    expect((await signatureOf(SECOND.email)).suspect_reasons).toBe('rate-burst');
    expect((await signatureOf(FIRST.email)).status).toBe('pending');
  });

  it('follows the "more" link to the next page of results, keeping the search', async () => {
    for (let n = 0; n <= MODERATION_PAGE_SIZE; n++) {
      await storeSignature(t.platform.db, SECRET, letter.id, {
        name: `Supporter ${n}`,
        email: `supporter-${n}@example.org`,
        status: 'confirmed',
        country: 'KR',
        createdAt: new Date(Date.parse('2026-11-20T10:00:00Z') + n * 60_000).toISOString(),
      });
    }
    const first = await adminVisitor.get('/admin/signatures?country=KR');
    const more = hrefsIn(mainOf(first.text)).find((href) => href.includes('page=1'));
    expect(more, 'the page links to more results').toBeDefined();
    const next = await adminVisitor.get(more!);
    expect(next.status).toBe(200);
    expect(byClass(next.text, 'wrap-anywhere')).toHaveLength(1);
    expect(textsByClass(next.text, 'wrap-anywhere')).toEqual(['supporter-0@example.org']);
    expect(more).toContain('country=KR');
  });
});
