/**
 * Restoring invalidated signatures in bulk (ModerationService.previewRestore, restoreBulk): each returns
 * to what it was before it was invalidated, the letters' counters move as one restore moves them, and
 * one audit entry records the restore.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { AppError } from '../../../server/lib/errors.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'restore-test-secret-restore-test-secret-01';

describe('restoring invalidated signatures in bulk', () => {
  let t: TestPlatform;
  let admin: User;
  let letter: { id: number; slug: string };
  let made = 0;

  const moderation = () => t.platform.appDeps.moderation;

  beforeEach(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    letter = await createLetter(t.platform.db, t.clock.now(), { slug: 'let-them-choose' });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Stores a signature from `domain`, with the counters as signing would have left them. */
  async function stored(status: 'pending' | 'confirmed', domain: string, country = 'KR'): Promise<number> {
    made += 1;
    const id = await storeSignature(t.platform.db, SECRET, letter.id, {
      name: `Supporter ${made}`,
      email: `supporter-${made}@${domain}`,
      status,
      country,
      createdAt: t.clock.now().toISOString(),
    });
    if (status === 'confirmed')
      await t.platform.repositories.letters.addToSignatureCount(letter.id, 1, country);
    return id;
  }

  const statusOf = async (id: number) =>
    (
      await t.platform.db
        .selectFrom('signatures')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  const counted = async () => (await t.platform.repositories.letters.findBySlug(letter.slug))!.signatureCount;
  const countries = () => t.platform.repositories.letters.countryCounts(letter.id);

  const auditOf = (action: string) =>
    t.platform.db.selectFrom('audit_events').selectAll().where('action', '=', action).orderBy('id').execute();

  /** Invalidates every signature from `domain` in bulk, as the bulk page does: the batch it made. */
  async function invalidateFrom(domain: string, reason: string): Promise<number> {
    const preview = await moderation().previewBulk(admin, { emailDomain: domain });
    const done = await moderation().invalidateBulk(admin, { emailDomain: domain }, reason, preview.count);
    if (done.kind !== 'done') throw new Error('the bulk invalidation did not happen');
    return done.batch;
  }

  it('returns each signature of a bulk invalidation to what it was, and counts the confirmed ones again', async () => {
    const confirmed = [
      await stored('confirmed', 'mistake.example'),
      await stored('confirmed', 'mistake.example', 'UA'),
    ];
    const pending = await stored('pending', 'mistake.example');
    const other = await stored('confirmed', 'example.org');
    expect(await counted()).toBe(3);
    const countriesBefore = await countries();

    const batch = await invalidateFrom('mistake.example', 'a mistaken filter');
    expect(await counted()).toBe(1);

    const preview = await moderation().previewRestore(admin, { batch });
    expect(preview).toMatchObject({ count: 3, confirmed: 2, pending: 1, letters: 1, more: 0 });
    // Nothing changes before it is confirmed.
    expect(await statusOf(pending)).toBe('invalidated');

    t.clock.advance(60_000);
    const done = await moderation().restoreBulk(admin, { batch }, preview.count);
    expect(done).toEqual({ kind: 'done', count: 3 });
    for (const id of confirmed) expect(await statusOf(id)).toBe('confirmed');
    expect(await statusOf(pending)).toBe('pending');
    expect(await statusOf(other)).toBe('confirmed');
    expect(await counted()).toBe(3);
    expect(await countries()).toEqual(countriesBefore);
    const restored = await t.platform.db
      .selectFrom('signatures')
      .select(['invalidated_at', 'invalidated_reason', 'status_before_invalidation'])
      .where('id', '=', pending)
      .executeTakeFirstOrThrow();
    expect(restored).toEqual({
      invalidated_at: null,
      invalidated_reason: null,
      status_before_invalidation: null,
    });

    const entries = await auditOf('signatures-bulk-restored');
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ actor_user_id: admin.id, actor_email: admin.email });
    expect(JSON.parse(entries[0]!.details)).toMatchObject({
      count: 3,
      batch,
      letter: 'all',
      reason: null,
      emailDomain: null,
    });
  });

  it('restores by the reason given, leaving those invalidated for another reason or at another time as they are', async () => {
    const first = await stored('confirmed', 'bots.example');
    const second = await stored('confirmed', 'spam.example');
    const batchOne = await invalidateFrom('bots.example', 'a bot run');
    t.clock.advance(60_000);
    const batchTwo = await invalidateFrom('spam.example', 'spam');
    // The same reason at another moment is another batch.
    const third = await stored('pending', 'bots.example');
    t.clock.advance(60_000);
    await invalidateFrom('bots.example', 'a bot run');

    expect((await moderation().previewRestore(admin, { reason: 'a bot run' })).count).toBe(2);
    expect((await moderation().previewRestore(admin, { batch: batchOne })).count).toBe(1);
    // A reason that is not the batch's selects nothing of it.
    expect((await moderation().previewRestore(admin, { batch: batchTwo, reason: 'a bot run' })).count).toBe(
      0,
    );

    expect(await moderation().restoreBulk(admin, { batch: batchOne }, 1)).toEqual({ kind: 'done', count: 1 });
    expect(await statusOf(first)).toBe('confirmed');
    expect(await statusOf(second)).toBe('invalidated');
    expect(await statusOf(third)).toBe('invalidated');
    expect(await counted()).toBe(1);
  });

  it('changes nothing when the number differs from the preview, or when it was all restored already', async () => {
    await stored('confirmed', 'mistake.example');
    await stored('confirmed', 'mistake.example');
    const batch = await invalidateFrom('mistake.example', 'a mistaken filter');

    const stale = await moderation().restoreBulk(admin, { batch }, 5);
    expect(stale).toMatchObject({ kind: 'changed', preview: { count: 2 } });
    expect(await counted()).toBe(0);

    expect(await moderation().restoreBulk(admin, { batch }, 2)).toEqual({ kind: 'done', count: 2 });
    // The same confirmation again (another tab): nothing left, nothing done, no second entry.
    const again = await moderation().restoreBulk(admin, { batch }, 2);
    expect(again).toMatchObject({ kind: 'changed', preview: { count: 0 } });
    expect(await counted()).toBe(2);
    expect(await auditOf('signatures-bulk-restored')).toHaveLength(1);
  });

  it('refuses anyone but an admin, and a batch that names no bulk invalidation', async () => {
    await stored('confirmed', 'mistake.example');
    const batch = await invalidateFrom('mistake.example', 'a mistaken filter');
    const organizer = await createAccount(t.platform, 'organizer');
    await expect(moderation().previewRestore(organizer, { batch })).rejects.toMatchObject({ status: 403 });
    await expect(moderation().restoreBulk(organizer, { batch }, 1)).rejects.toBeInstanceOf(AppError);
    expect(await counted()).toBe(0);

    const login = await t.platform.db
      .insertInto('audit_events')
      .values({
        at: t.clock.now().toISOString(),
        actor_user_id: admin.id,
        actor_email: admin.email,
        action: 'login',
        target_type: '',
        target_id: '',
        details: '{"reason":"a mistaken filter"}',
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    await expect(moderation().previewRestore(admin, { batch: login.id })).rejects.toMatchObject({
      status: 404,
    });
    await expect(moderation().restoreBulk(admin, { batch: 999_999 }, 1)).rejects.toMatchObject({
      status: 404,
    });
    expect(await auditOf('signatures-bulk-restored')).toEqual([]);
  });
});
