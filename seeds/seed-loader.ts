import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { Db } from '../server/db/database.js';
import { LetterRepository } from '../server/letters/letter-repository.js';
import { seedsDir, templatesDir } from '../server/lib/paths.js';
import { RecipientRepository } from '../server/recipients/recipient-repository.js';

// Only reserved example domains (RFC 2606): seeds must never point at a real inbox.
const exampleAddress = z
  .email()
  .refine((address) => /@([a-z0-9-]+\.)*example\.(org|com|net)$/i.test(address), {
    error: 'seed addresses must use example.org, example.com or example.net',
  });

const seedRecipientSchema = z.object({
  name: z.string().min(1),
  title: z.string(),
  organisation: z.string(),
  salutation: z.string().min(1),
  /** Salutations in the other languages, by code; `salutation` is the one in the recipient's `language`. */
  salutations: z.record(z.string().min(2), z.string().min(1)).optional(),
  /** How the pages of each interface language name them (recipients/recipient-names.ts), by code. */
  names: z
    .record(z.string().min(2), z.object({ name: z.string(), title: z.string(), organisation: z.string() }))
    .optional(),
  email: exampleAddress,
  language: z.string().min(2),
  country: z.string().length(2).optional(),
});

const seedLetterSchema = z.object({
  slug: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/),
  primaryLanguage: z.string().min(2),
  translations: z.record(
    z.string(),
    z.object({ title: z.string().min(1), summary: z.string().min(1).max(280) }),
  ),
  recipients: z.array(seedRecipientSchema).min(1),
  sponsor: z.string(),
  goal: z.number().int().positive(),
  closesInDays: z.number().int().positive(),
});

export type SeedLetter = z.infer<typeof seedLetterSchema> & { bodies: Record<string, string> };

/** Reads and checks every seed letter and its templates; throws naming the file at fault. */
export function readSeedLetters(): SeedLetter[] {
  const dir = path.join(seedsDir, 'letters');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .sort()
    .map((file) => {
      const parsed = seedLetterSchema.safeParse(JSON.parse(readFileSync(path.join(dir, file), 'utf8')));
      if (!parsed.success) throw new Error(`seeds/letters/${file}: ${parsed.error.message}`);
      const bodies = Object.fromEntries(
        Object.keys(parsed.data.translations).map((language) => [
          language,
          readFileSync(path.join(templatesDir, 'letters', `${parsed.data.slug}.${language}.hbs`), 'utf8'),
        ]),
      );
      return { ...parsed.data, bodies };
    });
}

/**
 * Loads the demo letters, open from `now` for each letter's closesInDays. Idempotent: a letter whose
 * slug exists is left as it is. Returns the slugs it created.
 */
export async function loadSeedLetters(db: Db, now: Date): Promise<string[]> {
  const seeds = readSeedLetters();
  const created: string[] = [];
  for (const seed of seeds) {
    await db.transaction().execute(async (tx) => {
      const letters = new LetterRepository(tx);
      if (await letters.findBySlug(seed.slug)) return;
      const recipients = new RecipientRepository(tx);
      const recipientIds: number[] = [];
      for (const r of seed.recipients) {
        recipientIds.push(await recipients.findOrCreate({ ...r, country: r.country ?? null }, now));
      }
      await letters.create(
        {
          slug: seed.slug,
          status: 'open',
          primaryLanguage: seed.primaryLanguage,
          sponsor: seed.sponsor,
          goal: seed.goal,
          opensAt: now,
          closesAt: new Date(now.getTime() + seed.closesInDays * 86_400_000),
          texts: Object.entries(seed.translations).map(([language, t]) => ({
            language,
            title: t.title,
            summary: t.summary,
            body: seed.bodies[language]!,
          })),
          recipientIds,
        },
        now,
      );
      created.push(seed.slug);
    });
  }
  return created;
}

/** The demo directory's own entries (seeds/recipients.json), beside the recipients of the demo letters. */
export function readSeedRecipients(): z.infer<typeof seedRecipientSchema>[] {
  const file = path.join(seedsDir, 'recipients.json');
  if (!existsSync(file)) return [];
  const parsed = z.array(seedRecipientSchema).safeParse(JSON.parse(readFileSync(file, 'utf8')));
  if (!parsed.success) throw new Error(`seeds/recipients.json: ${parsed.error.message}`);
  return parsed.data;
}

/** Adds the demo directory; idempotent (an address already in the directory is left as it is). */
export async function loadSeedRecipients(db: Db, now: Date): Promise<number> {
  const recipients = new RecipientRepository(db);
  let added = 0;
  for (const r of readSeedRecipients()) {
    const before = await recipients.findByEmail(r.email);
    if (!before) {
      // A recipient and its salutations are written together, or not at all.
      await db
        .transaction()
        .execute((tx) => recipients.with(tx).findOrCreate({ ...r, country: r.country ?? null }, now));
      added += 1;
    }
  }
  return added;
}
