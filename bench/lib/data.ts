/**
 * The database a platform benchmark starts from, written into the SQLite file before the server
 * starts: the demo letters and recipients from seeds/, and on the first of them a number of confirmed
 * signatures inserted directly (the page must not slow down as they grow; signing each through the
 * form would take longer than the benchmark). A PostgreSQL benchmark copies that file into its database.
 * The counts read afterwards go through Kysely, so they read either database.
 */
import { loadSeedLetters, loadSeedRecipients } from '../../seeds/seed-loader.js';
import type { DatabaseLocation } from '../../server/config.js';
import { copySqliteToPostgres } from '../../server/db/database-copy.js';
import { sql } from 'kysely';
import { openDatabase, type Db } from '../../server/db/database.js';
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

/**
 * Copies the prepared SQLite file into the empty PostgreSQL database at `url` (`npm run db:copy`'s code),
 * then vacuums, analyses and checkpoints it: a database that has been running a while has had that done
 * by autovacuum, and a bulk load's first reads (hint bits), statistics and dirty pages would otherwise
 * land in the first timed rounds.
 */
export async function copyToPostgres(databasePath: string, url: string): Promise<void> {
  const source = openDatabase(databasePath);
  const target = openDatabase({ dialect: 'postgres', url, poolSize: 2 });
  try {
    await copySqliteToPostgres(source, target);
    await sql`vacuum (analyze)`.execute(target.db);
    await sql`checkpoint`.execute(target.db);
  } finally {
    await Promise.all([source.close(), target.close()]);
  }
}

/** Runs `read` on its own short-lived connection to the benchmark's database, SQLite or PostgreSQL. */
async function reading<T>(database: DatabaseLocation, read: (db: Db) => Promise<T>): Promise<T> {
  const handle = openDatabase(database);
  try {
    return await read(handle.db);
  } finally {
    await handle.close();
  }
}

/** How many of `addresses` have a signature on the letter. */
export function signaturesPresent(
  database: DatabaseLocation,
  letterId: number,
  addresses: readonly string[],
): Promise<number> {
  return reading(database, async (db) => {
    let present = 0;
    // Hundreds at a time: one round trip per address is seconds on PostgreSQL at these counts.
    for (let start = 0; start < addresses.length; start += 500) {
      const row = await db
        .selectFrom('signatures')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('letter_id', '=', letterId)
        .where('email', 'in', addresses.slice(start, start + 500))
        .executeTakeFirstOrThrow();
      present += Number(row.n);
    }
    return present;
  });
}

/** Rows of a letter's signatures, whatever their status. */
export function signaturesOnLetter(database: DatabaseLocation, letterId: number): Promise<number> {
  return reading(database, async (db) => {
    const row = await db
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('letter_id', '=', letterId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });
}

/** Outbox messages not yet sent or finally failed (read while the server may still be writing). */
export function mailUnsent(database: DatabaseLocation): Promise<number> {
  return reading(database, async (db) => {
    const row = await db
      .selectFrom('outbox_messages')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', ['queued', 'sending', 'retrying'])
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });
}

/** Proofs of work the server accepted (each kept once, against replay). */
export function proofsAccepted(database: DatabaseLocation): Promise<number> {
  return reading(database, async (db) => {
    const row = await db
      .selectFrom('proof_of_work_solutions')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  });
}
