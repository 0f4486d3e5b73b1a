/**
 * Fills a SQLite file with the production schema (migrated) and the data of a platform at scale:
 * published letters made through the letter repository (versions, texts in each seed language,
 * recipients), then confirmed signatures on one of them with the confirmation e-mail each would have
 * had (sent, its body removed), inserted directly in large transactions. The counters
 * (`letters.signature_count`, `letter_country_counts`) are set to match, as signing would have left them.
 */
import { statSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import SQLite from 'better-sqlite3';
import { openDatabase } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { keyedHash } from '../../server/lib/keyed-hash.js';
import { RecipientRepository } from '../../server/recipients/recipient-repository.js';
import { emailKey } from '../../server/signatures/signature.js';
import { readSeedLetters } from '../../seeds/seed-loader.js';

export interface LargeDataOptions {
  /** The SQLite file to create (its folder must exist; the file must not). */
  file: string;
  /** How many published letters. */
  letters: number;
  /** How many confirmed signatures on the first letter (the big one). */
  signatures: number;
  /** The platform's SECRET_KEY: address hashes are made with it, as signing makes them. */
  secret: string;
  /** When the data is made; signatures are spread over the days before it. */
  now: Date;
  /** Rows per transaction (default 50,000). */
  batch?: number;
}

export interface LargeData {
  /** The slug of the letter with every signature. */
  bigSlug: string;
  bigLetterId: number;
  letters: number;
  signatures: number;
  /** Seconds to make the letters, the signatures (with their e-mails), and the whole file. */
  seconds: { letters: number; signatures: number; total: number };
  /** Size of the database file after a checkpoint. */
  bytes: number;
}

const COUNTRIES = ['KR', 'UA', 'US', 'GB', 'PL', 'DE', 'JP', 'FR', 'CA', 'AU'];
const DISPLAYS = ['full', 'full', 'initials', 'hidden'];
const LANGUAGES = ['en', 'en', 'ko', 'uk'];

/** Makes the database described by `options` and says how long it took and how big it is. */
export async function fillLargeDatabase(options: LargeDataOptions): Promise<LargeData> {
  const started = performance.now();
  const { db } = openDatabase(options.file);
  let bigLetterId = 0;
  let bigSlug = '';
  try {
    await migrateToLatest(db);
    const seeds = readSeedLetters();
    if (seeds.length === 0) throw new Error('no seed letters to take the texts from');
    await db.transaction().execute(async (tx) => {
      const recipients = new RecipientRepository(tx);
      const letters = new LetterRepository(tx);
      const recipientIds = new Map<string, number[]>();
      for (const seed of seeds) {
        const ids: number[] = [];
        for (const r of seed.recipients)
          ids.push(await recipients.findOrCreate({ ...r, country: r.country ?? null }, options.now));
        recipientIds.set(seed.slug, ids);
      }
      for (let i = 0; i < options.letters; i++) {
        const seed = seeds[i % seeds.length]!;
        const slug = `${seed.slug}-${i}`;
        const id = await letters.create(
          {
            slug,
            status: 'open',
            primaryLanguage: seed.primaryLanguage,
            sponsor: seed.sponsor,
            // Never reached: a letter that closed on its goal would change what the benchmark measures.
            goal: Math.max(seed.goal, options.signatures * 2),
            opensAt: new Date(options.now.getTime() - 365 * 86_400_000),
            closesAt: new Date(options.now.getTime() + (30 + (i % 300)) * 86_400_000),
            texts: Object.entries(seed.translations).map(([language, t]) => ({
              language,
              title: t.title,
              summary: t.summary,
              body: seed.bodies[language]!,
            })),
            recipientIds: recipientIds.get(seed.slug)!,
          },
          options.now,
        );
        if (i === 0) {
          bigLetterId = id;
          bigSlug = slug;
        }
      }
    });
  } finally {
    await db.destroy();
  }
  const lettersDone = performance.now();

  const sqlite = new SQLite(options.file);
  try {
    // Only while filling: a crash here loses a benchmark's data, nothing else.
    sqlite.pragma('journal_mode = WAL');
    sqlite.pragma('synchronous = OFF');
    // The address, ref and Message-ID indexes take rows in random order: a large page cache keeps
    // their B-trees in memory instead of reading pages back for each insert.
    sqlite.pragma('cache_size = -524288');
    insertSignatures(sqlite, bigLetterId, options);
    sqlite.pragma('wal_checkpoint(TRUNCATE)');
  } finally {
    sqlite.close();
  }
  const done = performance.now();
  return {
    bigSlug,
    bigLetterId,
    letters: options.letters,
    signatures: options.signatures,
    seconds: {
      letters: (lettersDone - started) / 1000,
      signatures: (done - lettersDone) / 1000,
      total: (done - started) / 1000,
    },
    bytes: statSync(options.file).size,
  };
}

/** The confirmed signatures of the big letter, their sent confirmation e-mails, and the counters. */
function insertSignatures(sqlite: SQLite.Database, letterId: number, options: LargeDataOptions): void {
  const { versionId } = sqlite
    .prepare('select current_version_id as versionId from letters where id = ?')
    .get(letterId) as { versionId: number };
  const signature = sqlite.prepare(`
    insert into signatures (letter_id, letter_version_id, ref, status, full_name, email, email_hash,
      country, city, organisation, job_title, display, language, interface_language, consent_updates,
      ip_hash, confirmation_sends, created_at, confirmed_at, updated_at)
    values (?, ?, ?, 'confirmed', ?, ?, ?, ?, '', '', '', ?, ?, ?, ?, ?, 1, ?, ?, ?)`);
  const message = sqlite.prepare(`
    insert into outbox_messages (kind, priority, signature_id, to_address, domain, message_id, status,
      attempts, next_attempt_at, last_reply, sent_at, created_at, updated_at, sent_sha256, sent_size,
      content_removed_at, render_language)
    values ('signature-confirmation', 0, ?, ?, 'example.org', ?, 'sent', 1, ?, '250 OK', ?, ?, ?, ?, 4096, ?, ?)`);
  const perCountry = new Map<string, number>();
  const batch = options.batch ?? 50_000;
  // Spread over the year before `now`, oldest first, as a long campaign would have collected them.
  const span = 365 * 86_400_000;
  const first = options.now.getTime() - span;
  const step = span / Math.max(1, options.signatures);
  const fill = sqlite.transaction((from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const at = new Date(first + i * step);
      const signedAt = at.toISOString();
      const confirmedAt = new Date(at.getTime() + 60_000).toISOString();
      const email = `supporter-${i}@example.org`;
      const country = COUNTRIES[i % COUNTRIES.length]!;
      const language = LANGUAGES[i % LANGUAGES.length]!;
      perCountry.set(country, (perCountry.get(country) ?? 0) + 1);
      const name = i % 3 === 0 ? `김지훈 ${i}` : i % 3 === 1 ? `Олена Коваленко ${i}` : `Supporter ${i}`;
      const { lastInsertRowid } = signature.run(
        letterId,
        versionId,
        `scale-${i.toString(36).padStart(16, '0')}`,
        name,
        email,
        keyedHash(options.secret, 'email', emailKey(email)),
        country,
        DISPLAYS[i % DISPLAYS.length],
        language,
        language,
        i % 2,
        keyedHash(options.secret, 'ip', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`),
        signedAt,
        confirmedAt,
        confirmedAt,
      );
      message.run(
        lastInsertRowid,
        email,
        `<scale-${i}@undersigned.example.org>`,
        signedAt,
        signedAt,
        signedAt,
        signedAt,
        'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
        signedAt,
        language,
      );
    }
  });
  for (let from = 0; from < options.signatures; from += batch)
    fill(from, Math.min(options.signatures, from + batch));

  sqlite.transaction(() => {
    sqlite.prepare('update letters set signature_count = ? where id = ?').run(options.signatures, letterId);
    const counter = sqlite.prepare(
      'insert into letter_country_counts (letter_id, country, count) values (?, ?, ?)',
    );
    for (const [country, count] of perCountry) counter.run(letterId, country, count);
  })();
}
