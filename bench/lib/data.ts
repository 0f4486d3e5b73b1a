/**
 * The database a platform benchmark starts from, written into the SQLite file before the server
 * starts: the demo letters and recipients from seeds/, and on the first of them a number of confirmed
 * signatures inserted directly (the page must not slow down as they grow; signing each through the
 * form would take longer than the benchmark).
 */
import { loadSeedLetters, loadSeedRecipients } from '../../seeds/seed-loader.js';
import { openDatabase } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';

/** The letter the benchmarks read and sign. */
export interface BenchLetter {
  readonly id: number;
  readonly slug: string;
}

/** Migrates a new database at `databasePath`, seeds it, and gives the first demo letter `signatures` confirmed signatures. */
export async function prepareDatabase(
  databasePath: string,
  secret: string,
  signatures: number,
): Promise<BenchLetter> {
  const { db, sqlite } = openDatabase(databasePath);
  try {
    await migrateToLatest(db);
    const now = new Date();
    const [slug] = await loadSeedLetters(db, now);
    await loadSeedRecipients(db, now);
    if (!slug) throw new Error('seeds/ holds no demo letter');
    const letter = sqlite
      .prepare('select id, current_version_id as versionId from letters where slug = ?')
      .get(slug) as { id: number; versionId: number };
    const insert = sqlite.prepare(
      `insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash, country, display, language, created_at, confirmed_at, updated_at)
       values (?, ?, ?, 'confirmed', ?, ?, ?, ?, ?, 'en', ?, ?, ?)`,
    );
    const countries = ['KR', 'UA', 'DE', 'FR', 'US', 'JP', 'GB', 'PL'];
    sqlite.transaction(() => {
      for (let i = 0; i < signatures; i++) {
        const at = new Date(now.getTime() - (signatures - i) * 1000).toISOString();
        insert.run(
          letter.id,
          letter.versionId,
          `bench-ref-${i}`,
          `Supporter ${i}`,
          `supporter-${i}@example.org`,
          keyedHash(secret, 'email', `supporter-${i}@example.org`),
          countries[i % countries.length],
          i % 3 === 0 ? 'hidden' : 'full',
          at,
          at,
          at,
        );
      }
      sqlite.prepare('update letters set signature_count = ? where id = ?').run(signatures, letter.id);
      const perCountry = sqlite.prepare(
        `insert into letter_country_counts (letter_id, country, count) values (?, ?, ?)
         on conflict do update set count = excluded.count`,
      );
      countries.forEach((country, k) =>
        perCountry.run(
          letter.id,
          country,
          Math.floor(signatures / countries.length) + (k < signatures % countries.length ? 1 : 0),
        ),
      );
    })();
    return { id: letter.id, slug };
  } finally {
    await db.destroy();
  }
}

/** How many of `addresses` have a signature on the letter. */
export function signaturesPresent(
  databasePath: string,
  letterId: number,
  addresses: readonly string[],
): number {
  const { sqlite } = openDatabase(databasePath);
  try {
    const find = sqlite.prepare('select 1 from signatures where letter_id = ? and email = ?');
    let present = 0;
    for (const address of addresses) if (find.get(letterId, address)) present++;
    return present;
  } finally {
    sqlite.close();
  }
}

/** One count from the database file, read while the server may still be writing (WAL: readers never wait). */
export function countRows(databasePath: string, query: string, ...params: unknown[]): number {
  const { sqlite } = openDatabase(databasePath);
  try {
    return (sqlite.prepare(query).get(...params) as { n: number }).n;
  } finally {
    sqlite.close();
  }
}
