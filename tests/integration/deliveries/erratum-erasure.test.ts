import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

/**
 * Errata count an erasure on request as a signature that left the delivered list, but not the retention
 * job's anonymisation (the platform keeps counting those signatures without their person), though both
 * unlink the leaves.
 */
describe("a delivered list's change after an erasure and after retention", () => {
  let t: TestPlatform;
  let admin: User;
  let letterId: number;
  let round: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    ({ id: letterId } = await createLetter(t.platform.db, t.clock.now(), { goal: null }));
    const signed = new Date(t.clock.now().getTime() - 86_400_000);
    for (const [i, key] of ['first', 'erased', 'third'].entries())
      await storeSignature(t.platform.db, SECRET, letterId, {
        name: `Supporter ${key}`,
        email: `${key}@example.org`,
        status: 'confirmed',
        country: 'KR',
        createdAt: new Date(signed.getTime() + i * 60_000).toISOString(),
      });
    await t.platform.db
      .updateTable('letters')
      .set({ signature_count: 3 })
      .where('id', '=', letterId)
      .execute();
    await t.platform.deliveries.sendTest(admin, letterId, 'erasure-test-round');
    round = (await t.platform.deliveries.deliverNow(admin, letterId, 'erasure-delivery')).id;
    await t.compileDeliveries();
    await t.drainOutbox();
  });
  afterAll(async () => {
    await t?.close();
  });

  const changeOf = async () =>
    (await t.platform.appDeps.errata.listsOf(letterId)).find((l) => l.roundId === round)!.change;

  it('counts a supporter erased on request as erased, and the list one shorter', async () => {
    expect(await changeOf()).toEqual({ delivered: 3, withdrawn: 0, erased: 0, invalidated: 0, now: 3 });
    await t.platform.appDeps.privacy.erase('erased@example.org', admin);
    expect(await changeOf()).toEqual({ delivered: 3, withdrawn: 0, erased: 1, invalidated: 0, now: 2 });
    const leaves = await t.platform.db
      .selectFrom('round_leaves')
      .select(['signature_id', 'erased_at'])
      .where('round_id', '=', round)
      .orderBy('position')
      .execute();
    expect(leaves.map((l) => [l.signature_id === null, l.erased_at !== null])).toEqual([
      [false, false],
      [true, true],
      [false, false],
    ]);
  });

  it("does not count the retention job's anonymisation as an erasure: those signatures still count", async () => {
    await t.platform.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: '2020-01-01T00:00:00.000Z' })
      .where('id', '=', letterId)
      .execute();
    expect(await t.platform.appDeps.privacy.applyRetention()).toBeGreaterThan(0);
    const unlinked = await t.platform.db
      .selectFrom('round_leaves')
      .select('position')
      .where('round_id', '=', round)
      .where('signature_id', 'is', null)
      .execute();
    expect(unlinked).toHaveLength(3);
    expect(await changeOf()).toEqual({ delivered: 3, withdrawn: 0, erased: 1, invalidated: 0, now: 2 });
  });
});
