import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

describe("reading recipients' salutations and names by language", () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('reads every one of more recipients than a statement takes parameters for, by id and for the whole directory', async () => {
    // Past 500 ids the reads go in batches (SQLite's parameter limit): a recipient of any batch, and
    // one asked for twice, must come back once with all it has.
    const repository = new RecipientRepository(t.platform.db);
    const ids: number[] = [];
    for (let i = 0; i < 1_201; i++)
      ids.push(
        await repository.findOrCreate(
          {
            name: `Embassy ${i}`,
            title: '',
            organisation: '',
            country: 'KR',
            email: `embassy-${i}@example.org`,
            language: 'en',
            salutation: `Dear Ambassador ${i}`,
            salutations: { ko: `대사님께 ${i}` },
            names: { ko: { name: `대사관 ${i}`, title: '', organisation: '' } },
          },
          t.clock.now(),
        ),
      );
    for (const asked of [[...ids, ids[0]!, ids[1_200]!], 'all' as const]) {
      const salutations = await repository.salutationsOf(asked);
      const names = await repository.namesOf(asked);
      expect(salutations.size).toBe(1_201);
      expect(names.size).toBe(1_201);
      expect(salutations.get(ids[1_000]!)).toEqual({ en: 'Dear Ambassador 1000', ko: '대사님께 1000' });
      expect(names.get(ids[1_200]!)).toEqual({ ko: { name: '대사관 1200', title: '', organisation: '' } });
    }
  });
});
