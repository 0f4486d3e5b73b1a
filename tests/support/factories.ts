import type { Db } from '../../server/db/database.js';
import type { LetterStatus } from '../../server/letters/letter.js';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { RecipientRepository } from '../../server/recipients/recipient-repository.js';

let sequence = 0;

export const SIMPLE_LETTER_BODY = `{{date}}

{{recipient.salutation}},

We ask you to protect the captured soldiers.

{{signatureCount}} people signed:
{{#each signatories}}
{{name}}{{#if country}}, {{country}}{{/if}}
{{/each}}`;

export interface LetterOverrides {
  slug?: string;
  status?: LetterStatus;
  goal?: number | null;
  opensAt?: Date | null;
  closesAt?: Date | null;
  title?: string;
  texts?: { language: string; title: string; summary: string; body: string }[];
}

/** Inserts an open letter with one recipient (example.org address) and returns its slug. */
export async function createLetter(
  db: Db,
  now: Date,
  overrides: LetterOverrides = {},
): Promise<{ id: number; slug: string }> {
  sequence += 1;
  const slug = overrides.slug ?? `test-letter-${sequence}`;
  const id = await db.transaction().execute(async (tx) => {
    const recipientId = await new RecipientRepository(tx).findOrCreate(
      {
        name: 'Embassy of Testland',
        title: 'Ambassador',
        organisation: 'Embassy of Testland',
        country: 'KR',
        email: `embassy-${sequence}@example.org`,
        language: 'en',
        salutation: 'Dear Ambassador',
      },
      now,
    );
    return new LetterRepository(tx).create(
      {
        slug,
        status: overrides.status ?? 'open',
        primaryLanguage: 'en',
        sponsor: 'Test coalition',
        goal: overrides.goal === undefined ? 100 : overrides.goal,
        opensAt: overrides.opensAt === undefined ? new Date(now.getTime() - 86_400_000) : overrides.opensAt,
        closesAt:
          overrides.closesAt === undefined ? new Date(now.getTime() + 30 * 86_400_000) : overrides.closesAt,
        texts: overrides.texts ?? [
          {
            language: 'en',
            title: overrides.title ?? 'Protect the captured soldiers',
            summary: 'A test letter.',
            body: SIMPLE_LETTER_BODY,
          },
        ],
        recipientIds: [recipientId],
      },
      now,
    );
  });
  return { id, slug };
}

/** A valid signing form body; override any field. */
export function signingForm(overrides: Record<string, string> = {}): Record<string, string> {
  return {
    name: 'Kim Ji-hoon',
    email: 'ji-hoon@example.org',
    country: 'KR',
    city: '',
    organisation: '',
    title: '',
    display: 'full',
    privacy: 'yes',
    ...overrides,
  };
}
