import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { AppError } from '../../../server/lib/errors.js';
import { createAccount } from '../../support/accounts.js';
import { AUDIT_REFUSED, auditEntries, whileAuditRefused } from '../../support/audit-log.js';
import { createLetter } from '../../support/factories.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

/**
 * An organizer takes back the review request a draft waits on (LetterWorkflowService), on both
 * databases: one compare-and-set moves the letter, its audit entry and the admins' notice together, and
 * nothing moves when an admin decided first.
 */
describe('withdrawing a review request', () => {
  let t: TestPlatform;
  let owner: User;
  let admin: User;
  let id: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    owner = await createAccount(t.platform, 'organizer');
    admin = await createAccount(t.platform, 'admin');
    const settings = t.platform.appDeps.settings;
    await settings.write({ ...(await settings.read()), requireReview: true }, t.clock.now());
    ({ id } = await createLetter(t.platform.db, t.clock.now(), {
      status: 'draft',
      title: 'Let them choose freedom',
    }));
    await t.platform.db.updateTable('letters').set({ owner_id: owner.id }).where('id', '=', id).execute();
    expect((await workflow().publish(owner, id)).kind).toBe('review-requested');
  });
  afterEach(async () => {
    await t.close();
  });

  const workflow = () => t.platform.letterAdmin.workflow;
  const letter = async () => (await t.platform.repositories.letters.findById(id))!;
  const awaiting = async () =>
    (await t.platform.repositories.letters.listAwaitingReview('en')).map((item) => item.letter.id);
  /** The queued e-mails of one kind, by address. */
  const queued = async (kind: string) =>
    (
      await t.platform.db
        .selectFrom('outbox_messages')
        .select('to_address')
        .where('kind', '=', kind)
        .orderBy('id')
        .execute()
    ).map((row) => row.to_address);
  /** What a refused step leaves: the letter's row, the audit log and the mail queue, unchanged. */
  const everything = async () => ({
    letter: await letter(),
    audit: await auditEntries(t.platform.db),
    outbox: await t.platform.db.selectFrom('outbox_messages').select(['id', 'kind']).execute(),
  });
  const refusal = async (work: Promise<unknown>) => {
    const error = await work.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AppError);
    return { status: (error as AppError).status, code: (error as AppError).code };
  };

  it('makes the draft a plain draft again, out of the review list, recorded and told to the admins at once', async () => {
    expect(await awaiting()).toEqual([id]);
    expect(await workflow().withdrawReviewCheck(owner, id)).toMatchObject({ waiting: true });

    await workflow().withdrawReviewRequest(owner, id);

    expect(await letter()).toMatchObject({ status: 'draft', reviewRequestedAt: null, returned: null });
    expect(await awaiting()).toEqual([]);
    expect(await workflow().withdrawReviewCheck(owner, id)).toMatchObject({ waiting: false });
    const [entry, ...more] = await auditEntries(t.platform.db, 'letter-review-withdrawn');
    expect(more).toEqual([]);
    expect(entry).toMatchObject({
      actor_user_id: owner.id,
      target_type: 'letter',
      target_id: String(id),
      details: { letterId: id },
    });
    // Told to the same admins the request was.
    expect(await queued('letter-review-withdrawn')).toEqual(await queued('letter-review-requested'));
    expect(await queued('letter-review-withdrawn')).toEqual([admin.email]);
    // The organizer can ask again.
    expect((await workflow().publish(owner, id)).kind).toBe('review-requested');
    expect(await awaiting()).toEqual([id]);
  });

  it('is refused with 409, changing nothing, once nothing waits: withdrawn already, returned or published', async () => {
    await workflow().withdrawReviewRequest(owner, id);
    let before = await everything();
    expect(await refusal(workflow().withdrawReviewRequest(owner, id))).toEqual({
      status: 409,
      code: 'no_review_waiting',
    });
    expect(await everything()).toEqual(before);

    await workflow().publish(owner, id);
    await workflow().returnToDraft(admin, id, 'Fix the date.');
    before = await everything();
    expect(await refusal(workflow().withdrawReviewRequest(owner, id))).toEqual({
      status: 409,
      code: 'no_review_waiting',
    });
    expect(await everything()).toEqual(before);
    // The admin's note stays for the organizer to read.
    expect((await letter()).returned).toMatchObject({ note: 'Fix the date.' });

    await workflow().publish(owner, id);
    expect((await workflow().publish(admin, id)).kind).toBe('published');
    before = await everything();
    expect(await refusal(workflow().withdrawReviewRequest(owner, id))).toEqual({
      status: 409,
      code: 'no_review_waiting',
    });
    expect(await everything()).toEqual(before);
    expect((await letter()).status).toBe('open');
  });

  it("is refused to an admin who is not one of the letter's organizers, and to another organizer", async () => {
    const stranger = await createAccount(t.platform, 'organizer');
    const before = await everything();
    expect(await refusal(workflow().withdrawReviewRequest(admin, id))).toEqual({
      status: 403,
      code: 'letter_forbidden',
    });
    expect(await refusal(workflow().withdrawReviewCheck(admin, id))).toEqual({
      status: 403,
      code: 'letter_forbidden',
    });
    expect(await refusal(workflow().withdrawReviewRequest(stranger, id))).toEqual({
      status: 403,
      code: 'letter_forbidden',
    });
    expect(await everything()).toEqual(before);
  });

  it('lets an account the letter is shared with withdraw it', async () => {
    const colleague = await createAccount(t.platform, 'organizer');
    await t.platform.letterAdmin.collaborators.add(owner, id, colleague.email);
    await workflow().withdrawReviewRequest(colleague, id);
    expect((await letter()).reviewRequestedAt).toBeNull();
    expect((await auditEntries(t.platform.db, 'letter-review-withdrawn'))[0]).toMatchObject({
      actor_user_id: colleague.id,
    });
  });

  it('withdraws nothing when its audit entry cannot be written: the letter still waits, no one is told', async () => {
    const before = await everything();
    await expect(
      whileAuditRefused(t.platform.db, () => workflow().withdrawReviewRequest(owner, id)),
    ).rejects.toThrow(AUDIT_REFUSED);
    expect(await everything()).toEqual(before);
    expect(await awaiting()).toEqual([id]);
  });
});
