import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { CommitmentRepository } from '../../../server/commitments/commitment-repository.js';
import { CommitmentService } from '../../../server/commitments/commitment-service.js';
import { SignatureRepository } from '../../../server/signatures/signature-repository.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { recordSentRound } from '../../support/sent-deliveries.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe("a list's commitment built while a supporter is erased", () => {
  let t: TestPlatform;
  let admin: User;
  let letterId: number;
  let kept: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
    ({ id: letterId } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'erased-meanwhile',
      goal: null,
    }));
    const signed = new Date(t.clock.now().getTime() - 3 * 3_600_000).toISOString();
    kept = await storeSignature(t.platform.db, SECRET, letterId, {
      name: 'Kept Supporter',
      email: 'kept@example.org',
      status: 'confirmed',
      country: 'KR',
      createdAt: signed,
    });
    await storeSignature(t.platform.db, SECRET, letterId, {
      name: 'Erased Meanwhile',
      email: 'erased@example.org',
      status: 'confirmed',
      country: 'KR',
      createdAt: new Date(Date.parse(signed) + 60_000).toISOString(),
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('keeps no salt and no link for a supporter erased after their page was read, before their salt was made', async () => {
    const real = new SignatureRepository(t.platform.db);
    let erasedOnce = false;
    // The erasure lands between reading the annex's page and making its salts, as another request's would.
    const signatures = Object.create(real) as SignatureRepository;
    signatures.annexRowsPage = async (...args) => {
      const page = await real.annexRowsPage(...args);
      if (!erasedOnce) {
        erasedOnce = true;
        await t.platform.privacy.erase('erased@example.org', admin);
      }
      return page;
    };
    const service = new CommitmentService({
      db: t.platform.db,
      commitments: new CommitmentRepository(t.platform.db),
      signatures,
      clock: t.clock,
    });
    const roundId = await recordSentRound(t.platform.db, letterId, [{ name: 'Embassy', organisation: '' }], {
      createdAt: t.clock.now(),
      sentAt: t.clock.now(),
      signatureCount: 2,
    });

    const commitment = await service.commitRound({ id: roundId, letterId, createdAt: t.clock.now() });

    expect(erasedOnce).toBe(true);
    // Counted, as the annex counted them when it was read...
    expect(commitment.treeSize).toBe(2);
    const leaves = await t.platform.db
      .selectFrom('round_leaves')
      .select(['position', 'signature_id'])
      .where('round_id', '=', roundId)
      .orderBy('position')
      .execute();
    // ...but their leaf can never be opened: no salt kept, no signature linked.
    expect(leaves.map((l) => l.signature_id)).toEqual([kept, null]);
    const salts = await t.platform.db.selectFrom('signature_salts').select('signature_id').execute();
    expect(salts.map((s) => s.signature_id)).toEqual([kept]);
  });
});
