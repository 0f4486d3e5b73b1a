import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { NewSignatureRow, SignatureUpdate } from '../../../server/db/tables.js';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import { randomRef } from '../../../server/lib/ids.js';
import type { SignatureStatus } from '../../../server/signatures/signature.js';
import { SignatureRepository } from '../../../server/signatures/signature-repository.js';
import { createLetter } from '../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const minutes = (n: number) => new Date(NOW.getTime() + n * 60_000).toISOString();

describe('SignatureRepository', () => {
  let t: TestDatabase;
  let signatures: SignatureRepository;
  let letter: { id: number; versionId: number };

  /** A pending signature row for `letter`; override any column. */
  function row(overrides: Partial<Omit<NewSignatureRow, 'status'>> = {}): Omit<NewSignatureRow, 'status'> {
    const ref = randomRef();
    return {
      letter_id: letter.id,
      letter_version_id: letter.versionId,
      ref,
      full_name: 'Kim Ji-hoon',
      email: `${ref}@example.org`,
      email_hash: `hash-${ref}`,
      country: 'KR',
      city: '',
      organisation: 'Freedom Now',
      job_title: '',
      display: 'full',
      language: 'en',
      consent_updates: 0,
      ip_hash: null,
      confirmation_sends: 0,
      created_at: NOW.toISOString(),
      updated_at: NOW.toISOString(),
      ...overrides,
    };
  }

  async function letterWithVersion(): Promise<{ id: number; versionId: number }> {
    const { id } = await createLetter(t.db, NOW);
    return { id, versionId: (await new LetterRepository(t.db).findById(id))!.currentVersionId };
  }

  /** The repository's compare-and-set on the status: whether it moved. */
  async function transition(
    id: number,
    from: SignatureStatus,
    to: SignatureStatus,
    changes: SignatureUpdate = {},
  ): Promise<boolean> {
    return (await signatures.compareAndSetStatus(id, from, to, changes, { notSuspect: false })) !== undefined;
  }

  async function status(id: number): Promise<string> {
    return (
      await t.db.selectFrom('signatures').select('status').where('id', '=', id).executeTakeFirstOrThrow()
    ).status;
  }

  beforeEach(async () => {
    t = await createTestDatabase();
    signatures = new SignatureRepository(t.db);
    letter = await letterWithVersion();
  });
  afterEach(async () => {
    await t.close();
  });

  describe('insertPending', () => {
    it('records a pending signature and gives it back', async () => {
      const inserted = await signatures.insertPending(
        row({ full_name: '김지훈', email: 'kim@example.org', consent_updates: 1 }),
      );
      expect(inserted).toMatchObject({
        letterId: letter.id,
        status: 'pending',
        fullName: '김지훈',
        email: 'kim@example.org',
        consentUpdates: true,
        confirmedAt: null,
      });
      expect(await signatures.findByRef(inserted!.ref)).toEqual(inserted);
    });

    it('returns undefined for a second signature with the same address on the same letter, and keeps the first', async () => {
      const first = await signatures.insertPending(row({ email_hash: 'same', full_name: 'First' }));
      const second = await signatures.insertPending(row({ email_hash: 'same', full_name: 'Second' }));
      expect(first).toBeDefined();
      expect(second).toBeUndefined();
      const rows = await t.db
        .selectFrom('signatures')
        .select(['full_name'])
        .where('email_hash', '=', 'same')
        .execute();
      expect(rows).toEqual([{ full_name: 'First' }]);
    });

    it('lets the same address sign a different letter', async () => {
      const other = await letterWithVersion();
      expect(await signatures.insertPending(row({ email_hash: 'same' }))).toBeDefined();
      expect(
        await signatures.insertPending(
          row({ email_hash: 'same', letter_id: other.id, letter_version_id: other.versionId }),
        ),
      ).toBeDefined();
    });
  });

  describe('finding', () => {
    it('finds a signature by letter and e-mail hash, and by ref', async () => {
      const inserted = (await signatures.insertPending(row({ email_hash: 'h1' })))!;
      expect(await signatures.findByLetterAndEmailHash(letter.id, 'h1')).toEqual(inserted);
      expect(await signatures.findByRef(inserted.ref)).toEqual(inserted);
      expect(await signatures.findByLetterAndEmailHash(letter.id, 'h2')).toBeUndefined();
      expect(await signatures.findByLetterAndEmailHash(letter.id + 1, 'h1')).toBeUndefined();
      expect(await signatures.findByRef(randomRef())).toBeUndefined();
    });
  });

  describe('compareAndSetStatus', () => {
    it('is compare-and-set: the first move succeeds, the same move again does nothing', async () => {
      const { id } = (await signatures.insertPending(row()))!;
      expect(await transition(id, 'pending', 'confirmed', { confirmed_at: minutes(1) })).toBe(true);
      expect(await transition(id, 'pending', 'confirmed', { confirmed_at: minutes(2) })).toBe(false);
      const stored = await t.db
        .selectFrom('signatures')
        .select(['status', 'confirmed_at'])
        .where('id', '=', id)
        .executeTakeFirstOrThrow();
      // The second call must not have overwritten what the first one wrote.
      expect(stored).toEqual({ status: 'confirmed', confirmed_at: minutes(1) });
    });

    it('does nothing when the signature is no longer in the expected status', async () => {
      const { id } = (await signatures.insertPending(row()))!;
      await transition(id, 'pending', 'withdrawn');
      expect(await transition(id, 'pending', 'confirmed')).toBe(false);
      expect(await status(id)).toBe('withdrawn');
    });

    it('throws on an illegal transition and leaves the signature as it was', async () => {
      const { id } = (await signatures.insertPending(row()))!;
      await transition(id, 'pending', 'confirmed');
      await expect(transition(id, 'confirmed', 'pending')).rejects.toThrow(/illegal signature transition/);
      await expect(transition(id, 'confirmed', 'confirmed')).rejects.toThrow(/illegal/);
      expect(await status(id)).toBe('confirmed');
    });

    it('does not move another signature', async () => {
      const a = (await signatures.insertPending(row()))!;
      const b = (await signatures.insertPending(row()))!;
      await transition(a.id, 'pending', 'confirmed');
      expect(await status(b.id)).toBe('pending');
    });
  });

  it('counts each confirmation e-mail sent', async () => {
    const { id, ref } = (await signatures.insertPending(row()))!;
    await signatures.recordConfirmationSent(id, NOW);
    await signatures.recordConfirmationSent(id, NOW);
    expect((await signatures.findByRef(ref))!.confirmationSends).toBe(2);
  });

  describe('recentPublic', () => {
    it('lists only confirmed signatures of this letter whose supporters agreed to be named, newest first', async () => {
      const other = await letterWithVersion();
      const add = async (
        name: string,
        status: 'confirmed' | 'pending' | 'withdrawn',
        display: 'full' | 'initials' | 'hidden',
        confirmedMinute: number | null,
        l = letter,
      ) => {
        const s = (await signatures.insertPending(
          row({ full_name: name, display, letter_id: l.id, letter_version_id: l.versionId }),
        ))!;
        if (status !== 'pending') {
          await transition(s.id, 'pending', 'confirmed', {
            confirmed_at: confirmedMinute === null ? null : minutes(confirmedMinute),
          });
        }
        if (status === 'withdrawn') await transition(s.id, 'confirmed', 'withdrawn');
      };
      await add('Oldest', 'confirmed', 'full', 1);
      await add('Hidden', 'confirmed', 'hidden', 2);
      await add('Newest', 'confirmed', 'initials', 5);
      await add('Middle', 'confirmed', 'full', 3);
      await add('Pending', 'pending', 'full', null);
      await add('Withdrawn', 'withdrawn', 'full', 4);
      await add('Other letter', 'confirmed', 'full', 6, other);

      const recent = await signatures.recentPublic(letter.id, 20);
      expect(recent.map((s) => s.fullName)).toEqual(['Newest', 'Middle', 'Oldest']);
      expect(recent[0]).toEqual({
        fullName: 'Newest',
        display: 'initials',
        country: 'KR',
        organisation: 'Freedom Now',
        jobTitle: '',
        confirmedAt: new Date(minutes(5)),
      });
      // Nothing that identifies the supporter privately leaves the repository.
      for (const s of recent)
        expect(Object.keys(s).sort()).toEqual([
          'confirmedAt',
          'country',
          'display',
          'fullName',
          'jobTitle',
          'organisation',
        ]);

      expect((await signatures.recentPublic(letter.id, 2)).map((s) => s.fullName)).toEqual([
        'Newest',
        'Middle',
      ]);
      expect(await signatures.countConfirmed(letter.id)).toBe(4);
    });

    it('is empty for a letter nobody has confirmed yet', async () => {
      await signatures.insertPending(row());
      expect(await signatures.recentPublic(letter.id, 20)).toEqual([]);
    });
  });
});
