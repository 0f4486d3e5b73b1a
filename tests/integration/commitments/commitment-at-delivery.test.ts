import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { leafHash, treeRoot, UNNAMED, type LeafFields } from '../../../server/commitments/merkle.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const SIGNED = '2026-11-20T08:00:00.000Z';

describe("a delivered list's commitment", () => {
  let t: TestPlatform;
  let admin: User;
  let letterId: number;
  const ids: Record<string, number> = {};

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    ({ id: letterId } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'committed-list',
      goal: null,
    }));
    const supporters = [
      { key: 'full', name: 'Kim Ji-hoon', display: 'full', status: 'confirmed', country: 'KR' },
      { key: 'initials', name: 'Olena Kovalenko', display: 'initials', status: 'confirmed', country: 'UA' },
      { key: 'hidden', name: 'Hidden Person', display: 'hidden', status: 'confirmed', country: 'KR' },
      { key: 'pending', name: 'Pending Person', display: 'full', status: 'pending', country: 'KR' },
      { key: 'withdrawn', name: 'Withdrawn Person', display: 'full', status: 'withdrawn', country: 'KR' },
    ] as const;
    for (const [i, s] of supporters.entries())
      ids[s.key] = await storeSignature(t.platform.db, SECRET, letterId, {
        name: s.name,
        email: `${s.key}@example.org`,
        status: s.status,
        country: s.country,
        display: s.display,
        // One minute apart: the annex's order is the order of confirmation.
        createdAt: new Date(Date.parse(SIGNED) + i * 60_000).toISOString(),
      });
    await t.platform.db
      .updateTable('letters')
      .set({ signature_count: 3 })
      .where('id', '=', letterId)
      .execute();
  });
  afterAll(async () => {
    await t?.close();
  });

  const commitmentOf = (roundId: number) =>
    t.platform.db
      .selectFrom('round_commitments')
      .selectAll()
      .where('round_id', '=', roundId)
      .executeTakeFirst();
  const leavesOf = (roundId: number) =>
    t.platform.db
      .selectFrom('round_leaves')
      .selectAll()
      .where('round_id', '=', roundId)
      .orderBy('position')
      .execute();

  let deliveryRound: number;

  it('commits to nothing for a test round', async () => {
    const test = await t.platform.deliveries.sendTest(admin, letterId, 'commit-test');
    await t.platform.roundCompiling.compilePending();
    expect(await commitmentOf(test.id)).toBeUndefined();
    expect(await leavesOf(test.id)).toEqual([]);
    // Nothing was listed, so no salt was made.
    expect(await t.platform.db.selectFrom('signature_salts').selectAll().execute()).toEqual([]);
  });

  it('stores a tree over every listed signature, named, initials and counted unnamed, in annex order, recomputable from the leaves', async () => {
    const round = await t.platform.deliveries.deliverNow(admin, letterId, 'commit-delivery');
    deliveryRound = round.id;
    await t.platform.roundCompiling.compilePending();
    const commitment = await commitmentOf(round.id);
    expect(commitment).toMatchObject({ tree_size: 3, corrects_round_id: null });
    expect(commitment!.root).toMatch(/^[0-9a-f]{64}$/);

    const leaves = await leavesOf(round.id);
    expect(leaves.map((l) => l.signature_id)).toEqual([ids.full, ids.initials, ids.hidden]);
    const salts = new Map(
      (await t.platform.db.selectFrom('signature_salts').selectAll().execute()).map((s) => [
        s.signature_id,
        s.salt,
      ]),
    );
    // Salts only for the listed signatures: 32 random bytes each, all different.
    expect([...salts.keys()].sort()).toEqual([ids.full!, ids.initials!, ids.hidden!].sort());
    for (const salt of salts.values()) expect(salt).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(salts.values()).size).toBe(3);

    // Each leaf recomputed from the signature as the annex shows it: the name, the initials, or UNNAMED.
    const names = { [ids.full!]: 'Kim Ji-hoon', [ids.initials!]: 'O. K.', [ids.hidden!]: UNNAMED };
    const rows = await t.platform.db
      .selectFrom('signatures')
      .select(['id', 'ref', 'country', 'confirmed_at'])
      .where('id', 'in', [ids.full!, ids.initials!, ids.hidden!])
      .execute();
    const expected = leaves.map((leaf) => {
      const row = rows.find((r) => r.id === leaf.signature_id)!;
      const fields: LeafFields = {
        reference: row.ref,
        name: names[row.id]!,
        country: row.country,
        confirmedAt: row.confirmed_at!,
        salt: salts.get(row.id)!,
      };
      return leafHash(fields);
    });
    expect(leaves.map((l) => l.leaf_hash)).toEqual(expected.map((h) => h.toString('hex')));
    expect(treeRoot(expected).toString('hex')).toBe(commitment!.root);
  });

  it('finds the stored tree when asked again, and leaves a commitment already there as it is', async () => {
    const before = await commitmentOf(deliveryRound);
    const round = await t.platform.db
      .selectFrom('delivery_rounds')
      .select(['id', 'letter_id', 'created_at'])
      .where('id', '=', deliveryRound)
      .executeTakeFirstOrThrow();
    const again = await t.platform.commitments.commitRound({
      id: round.id,
      letterId: round.letter_id,
      createdAt: new Date(round.created_at),
    });
    expect(again).toMatchObject({ roundId: deliveryRound, root: before!.root, treeSize: 3 });
    expect(await leavesOf(deliveryRound)).toHaveLength(3);
  });

  it("deletes an erased supporter's salt and unlinks their leaf, keeping the tree and its root", async () => {
    const before = await commitmentOf(deliveryRound);
    await t.platform.privacy.erase('initials@example.org', admin);
    const salt = await t.platform.db
      .selectFrom('signature_salts')
      .selectAll()
      .where('signature_id', '=', ids.initials!)
      .executeTakeFirst();
    expect(salt).toBeUndefined();
    const leaves = await leavesOf(deliveryRound);
    expect(leaves.map((l) => l.signature_id)).toEqual([ids.full, null, ids.hidden]);
    expect(await commitmentOf(deliveryRound)).toEqual(before);
    // The others keep theirs.
    expect(
      await t.platform.db
        .selectFrom('signature_salts')
        .select('signature_id')
        .orderBy('signature_id')
        .execute(),
    ).toHaveLength(2);
  });

  it('deletes every salt of a letter the retention job anonymises, keeping its trees', async () => {
    const before = await commitmentOf(deliveryRound);
    await t.platform.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: '2020-01-01T00:00:00.000Z' })
      .where('id', '=', letterId)
      .execute();
    expect(await t.platform.privacy.applyRetention()).toBeGreaterThan(0);
    expect(await t.platform.db.selectFrom('signature_salts').selectAll().execute()).toEqual([]);
    expect((await leavesOf(deliveryRound)).map((l) => l.signature_id)).toEqual([null, null, null]);
    expect(await commitmentOf(deliveryRound)).toEqual(before);
  });
});
