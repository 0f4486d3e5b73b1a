import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { migrateTo, migrateToLatest } from '../../../server/db/migrate.js';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('recounting the figures by country without hidden signatures (migration 2026-12-07T03)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-hidden-countries-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('counts confirmed signatures shown with their country, and leaves the totals', async () => {
    const { db, sqlite } = openDatabase(path.join(dir, 'undersigned.sqlite'));
    try {
      await migrateTo(db, '2026-12-07T02-invitation-messages');
      const { id } = await createLetter(db, new Date('2026-12-01T10:00:00.000Z'));
      const createdAt = '2026-12-01T11:00:00.000Z';
      const sign = (
        email: string,
        country: string,
        display: 'full' | 'initials' | 'hidden',
        status = 'confirmed',
      ) =>
        storeSignature(db, SECRET, id, {
          name: 'A B',
          email,
          country,
          display,
          status: status as 'confirmed',
          createdAt,
        });
      await sign('a@example.org', 'KP', 'hidden');
      await sign('b@example.org', 'KR', 'full');
      await sign('c@example.org', 'KR', 'hidden');
      await sign('d@example.org', 'UA', 'initials');
      await sign('e@example.org', 'UA', 'full', 'withdrawn');
      // The counters as the old rule kept them: every confirmed signature by its country.
      sqlite.exec(`update letters set signature_count = 4 where id = ${id}`);
      sqlite.exec(
        `insert into letter_country_counts (letter_id, country, count) values (${id}, 'KP', 1), (${id}, 'KR', 2), (${id}, 'UA', 1)`,
      );

      expect(await migrateToLatest(db)).toContain('2026-12-07T03-hidden-countries');

      const letters = new LetterRepository(db);
      expect(await letters.countryCounts(id)).toEqual([
        { code: 'KR', count: 1 },
        { code: 'UA', count: 1 },
      ]);
      expect((await letters.findById(id))!.signatureCount).toBe(4);
    } finally {
      await db.destroy();
    }
  });
});
