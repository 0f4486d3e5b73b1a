/**
 * The one way a signature's status changes (signature-moves.ts): whatever the moves, the counters
 * equal a recount of the rows afterwards, and a move that is illegal, stale or refused changes nothing.
 */
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import {
  SIGNATURE_STATUSES,
  SIGNATURE_TRANSITIONS,
  canMove,
  type SignatureStatus,
} from '../../../server/signatures/signature.js';
import {
  moveSignature,
  moveSignatures,
  type SignatureMove,
} from '../../../server/signatures/signature-moves.js';
import { SignatureRepository } from '../../../server/signatures/signature-repository.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const SECRET = 'moves-test-secret-moves-test-secret-0001';
const COUNTRIES = ['KR', 'UA', 'GB'] as const;

describe('moving a signature', () => {
  let t: TestDatabase;
  let repositories: { signatures: SignatureRepository; letters: LetterRepository };
  let made = 0;

  beforeEach(async () => {
    t = await createTestDatabase();
    repositories = { signatures: new SignatureRepository(t.db), letters: new LetterRepository(t.db) };
  });
  afterEach(async () => {
    await t.close();
  });

  /** Stores a signature in a status, and the counters as they would be for it, as signing would leave them. */
  async function stored(
    letterId: number,
    status: SignatureStatus,
    country: string,
    suspect = false,
  ): Promise<number> {
    made += 1;
    const id = await storeSignature(t.db, SECRET, letterId, {
      name: `Supporter ${made}`,
      email: `supporter-${made}@example.org`,
      status,
      country,
      createdAt: NOW.toISOString(),
    });
    if (suspect)
      await t.db
        .updateTable('signatures')
        .set({ suspect_reasons: 'rate-burst' })
        .where('id', '=', id)
        .execute();
    if (status === 'confirmed') await repositories.letters.addToSignatureCount(letterId, 1, country);
    return id;
  }

  /** Runs moves in a transaction of their own, as a service does. */
  const inTransaction = (moves: SignatureMove[]) =>
    t.db.transaction().execute((tx) => moveSignatures(tx, repositories, moves, NOW));

  /** The counters as kept, and as a recount of the rows gives them (countries at zero left out). */
  async function countersAndRecount(letterIds: readonly number[]) {
    const kept = await t.db
      .selectFrom('letters')
      .select(['id', 'signature_count'])
      .where('id', 'in', letterIds)
      .orderBy('id')
      .execute();
    const keptCountries = await t.db
      .selectFrom('letter_country_counts')
      .select(['letter_id', 'country', 'count'])
      .where('letter_id', 'in', letterIds)
      .where('count', '!=', 0)
      .orderBy('letter_id')
      .orderBy('country')
      .execute();
    const recount = await Promise.all(
      letterIds.map(async (id) => ({
        id,
        signature_count: await repositories.signatures.countConfirmed(id),
      })),
    );
    const recountCountries = await t.db
      .selectFrom('signatures')
      .select(['letter_id', 'country', (eb) => eb.fn.countAll<number>().as('count')])
      .where('letter_id', 'in', letterIds)
      .where('status', '=', 'confirmed')
      .groupBy(['letter_id', 'country'])
      .orderBy('letter_id')
      .orderBy('country')
      .execute();
    return {
      kept: { letters: kept, countries: keptCountries },
      recount: {
        letters: recount,
        countries: recountCountries.map((r) => ({ ...r, count: Number(r.count) })),
      },
    };
  }

  const statusOf = async (id: number) =>
    (await t.db.selectFrom('signatures').select('status').where('id', '=', id).executeTakeFirstOrThrow())
      .status as SignatureStatus;

  /** Everything a move could change. */
  const everything = async () => ({
    signatures: await t.db.selectFrom('signatures').selectAll().orderBy('id').execute(),
    letters: await t.db.selectFrom('letters').selectAll().orderBy('id').execute(),
    countries: await t.db
      .selectFrom('letter_country_counts')
      .selectAll()
      .orderBy('letter_id')
      .orderBy('country')
      .execute(),
  });

  it('keeps every counter equal to a recount of the rows, whatever legal moves are made, in any order', async () => {
    /** One step: a signature, a pick among its legal moves, whether to send a stale `from`, one move or a batch. */
    const step = fc.record({
      signature: fc.nat(),
      pick: fc.nat(),
      stale: fc.boolean(),
      alsoMove: fc.option(fc.record({ signature: fc.nat(), pick: fc.nat() }), { nil: undefined }),
    });
    const start = fc.array(
      fc.record({
        letter: fc.nat({ max: 1 }),
        status: fc.constantFrom(...SIGNATURE_STATUSES.filter((s) => s !== 'invalidated')),
        country: fc.constantFrom(...COUNTRIES),
        suspect: fc.boolean(),
      }),
      { minLength: 1, maxLength: 6 },
    );
    await fc.assert(
      fc.asyncProperty(start, fc.array(step, { minLength: 1, maxLength: 15 }), async (signatures, steps) => {
        const letters = [
          (await createLetter(t.db, NOW, { goal: null })).id,
          (await createLetter(t.db, NOW, { goal: null })).id,
        ];
        const ids: number[] = [];
        const suspect: boolean[] = [];
        for (const s of signatures) {
          // Screening silences only pending signatures; a confirmed one was never suspect.
          const isSuspect = s.suspect && s.status === 'pending';
          ids.push(await stored(letters[s.letter]!, s.status, s.country, isSuspect));
          suspect.push(isSuspect);
        }
        const legalMove = async (signature: number, pick: number) => {
          const index = signature % ids.length;
          const from = await statusOf(ids[index]!);
          const options = SIGNATURE_TRANSITIONS[from];
          return { index, move: { id: ids[index]!, from, to: options[pick % options.length]! } };
        };
        for (const { signature, pick, stale, alsoMove } of steps) {
          const first = await legalMove(signature, pick);
          const moves: { index: number; move: SignatureMove }[] = [first];
          if (stale) {
            // A `from` the signature is no longer in (another request moved it first), for the same target.
            const other = SIGNATURE_STATUSES.find((s) => s !== first.move.from && canMove(s, first.move.to));
            if (other) first.move = { ...first.move, from: other };
          }
          if (alsoMove && alsoMove.signature % ids.length !== first.index)
            moves.push(await legalMove(alsoMove.signature, alsoMove.pick));
          const before = await Promise.all(moves.map(({ move }) => statusOf(move.id)));
          const moved = await inTransaction(moves.map((m) => m.move));

          const expected = moves.map(({ index, move }, i) =>
            before[i] === move.from && !(move.to === 'confirmed' && suspect[index]) ? move.to : before[i],
          );
          expect(await Promise.all(moves.map(({ move }) => statusOf(move.id)))).toEqual(expected);
          expect(moved.map((s) => s.id)).toEqual(
            moves.filter((_, i) => expected[i] !== before[i]).map(({ move }) => move.id),
          );
          const { kept, recount } = await countersAndRecount(letters);
          expect(kept).toEqual(recount);
        }
      }),
      { numRuns: 40 },
    );
  });

  it('moves the counters with each legal move, one by one, so they equal a recount afterwards', async () => {
    const { id: letterId } = await createLetter(t.db, NOW, { goal: null });
    // A signature already counted in the same country, so a move down never meets an empty counter.
    await stored(letterId, 'confirmed', 'KR');
    const legal = SIGNATURE_STATUSES.flatMap((from) =>
      SIGNATURE_TRANSITIONS[from].map((to) => ({ from, to })),
    );
    expect(legal).toHaveLength(8);
    for (const { from, to } of legal) {
      const id = await stored(letterId, from, 'KR');
      const before = await countersAndRecount([letterId]);
      expect(before.kept, `before ${from} → ${to}`).toEqual(before.recount);
      const moved = await inTransaction([{ id, from, to }]);
      expect(
        moved.map((s) => s.status),
        `${from} → ${to}`,
      ).toEqual([to]);
      const after = await countersAndRecount([letterId]);
      expect(after.kept, `${from} → ${to}`).toEqual(after.recount);
      const counted = (c: typeof after) => c.kept.letters[0]!.signature_count;
      expect(counted(after) - counted(before), `${from} → ${to}`).toBe(
        Number(to === 'confirmed') - Number(from === 'confirmed'),
      );
    }
  });

  it('refuses every move the transitions do not allow, changing nothing, even with legal moves in the same batch', async () => {
    const { id: letterId } = await createLetter(t.db, NOW);
    const byStatus = Object.fromEntries(
      await Promise.all(SIGNATURE_STATUSES.map(async (s) => [s, await stored(letterId, s, 'KR')] as const)),
    ) as Record<SignatureStatus, number>;
    const before = await everything();
    let illegal = 0;
    for (const from of SIGNATURE_STATUSES) {
      for (const to of SIGNATURE_STATUSES) {
        if (canMove(from, to)) continue;
        illegal += 1;
        const legal: SignatureMove = { id: byStatus.confirmed, from: 'confirmed', to: 'withdrawn' };
        await expect(
          inTransaction([legal, { id: byStatus[from], from, to }]),
          `${from} → ${to}`,
        ).rejects.toThrow(/illegal signature transition/);
        expect(await everything(), `${from} → ${to}`).toEqual(before);
      }
    }
    // Staying put, and the moves nothing leads back from: pending ← confirmed, withdrawn → confirmed…
    expect(illegal).toBe(16 - 8);
  });

  it('confirms no signature screening silenced, however it is asked, and counts nothing', async () => {
    const { id: letterId } = await createLetter(t.db, NOW);
    const silenced = await stored(letterId, 'pending', 'KR', true);
    const before = await everything();
    const moved = await t.db
      .transaction()
      .execute((tx) =>
        moveSignature(tx, repositories, { id: silenced, from: 'pending', to: 'confirmed' }, NOW),
      );
    expect(moved).toBeUndefined();
    expect(await everything()).toEqual(before);
  });

  it('writes the dates that go with each move, and keeps what an invalidated signature was, to restore it', async () => {
    const { id: letterId } = await createLetter(t.db, NOW);
    const id = await stored(letterId, 'pending', 'UA');
    const at = (minutes: number) => new Date(NOW.getTime() + minutes * 60_000);
    const move = (from: SignatureStatus, to: SignatureStatus, minutes: number, reason?: string) =>
      t.db
        .transaction()
        .execute((tx) => moveSignature(tx, repositories, { id, from, to, reason }, at(minutes)));
    const row = () =>
      t.db
        .selectFrom('signatures')
        .select([
          'status',
          'confirmed_at',
          'withdrawn_at',
          'invalidated_at',
          'invalidated_reason',
          'status_before_invalidation',
          'updated_at',
        ])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();

    await move('pending', 'confirmed', 1);
    expect(await row()).toMatchObject({ status: 'confirmed', confirmed_at: at(1).toISOString() });
    await move('confirmed', 'invalidated', 2, 'x'.repeat(600));
    expect(await row()).toMatchObject({
      status: 'invalidated',
      invalidated_at: at(2).toISOString(),
      invalidated_reason: 'x'.repeat(500),
      status_before_invalidation: 'confirmed',
      confirmed_at: at(1).toISOString(),
    });
    await move('invalidated', 'confirmed', 3);
    expect(await row()).toEqual({
      status: 'confirmed',
      // Restored as it was: confirmed when it was first confirmed.
      confirmed_at: at(1).toISOString(),
      withdrawn_at: null,
      invalidated_at: null,
      invalidated_reason: null,
      status_before_invalidation: null,
      updated_at: at(3).toISOString(),
    });
    await move('confirmed', 'withdrawn', 4);
    expect(await row()).toMatchObject({ status: 'withdrawn', withdrawn_at: at(4).toISOString() });
    await move('withdrawn', 'pending', 5);
    expect(await row()).toMatchObject({ status: 'pending', confirmed_at: null, withdrawn_at: null });
  });

  it('closes a letter that closes at its goal when a move reaches it, confirming or restoring alike', async () => {
    for (const [from, to] of [
      ['pending', 'confirmed'],
      ['invalidated', 'confirmed'],
    ] as const) {
      const { id: letterId } = await createLetter(t.db, NOW, { goal: 2 });
      await t.db.updateTable('letters').set({ close_on_goal: 1 }).where('id', '=', letterId).execute();
      await stored(letterId, 'confirmed', 'KR');
      const id = await stored(letterId, from, 'KR');
      const letterStatus = async () =>
        (
          await t.db
            .selectFrom('letters')
            .select('status')
            .where('id', '=', letterId)
            .executeTakeFirstOrThrow()
        ).status;
      expect(await letterStatus()).toBe('open');
      await inTransaction([{ id, from, to }]);
      expect(await letterStatus(), `${from} → ${to}`).toBe('closed');
    }
  });
});
