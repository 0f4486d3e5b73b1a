import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { LetterRow } from '../db/tables.js';
import type { Letter, LetterRecipient, LetterStatus, LetterText } from './letter.js';

function toLetter(row: LetterRow): Letter {
  if (row.current_version_id === null) throw new Error(`letter ${row.id} has no version`);
  return {
    id: row.id,
    slug: row.slug,
    status: row.status as LetterStatus,
    primaryLanguage: row.primary_language,
    sponsor: row.sponsor,
    goal: row.goal,
    opensAt: row.opens_at ? new Date(row.opens_at) : null,
    closesAt: row.closes_at ? new Date(row.closes_at) : null,
    currentVersionId: row.current_version_id,
    signatureCount: row.signature_count,
  };
}

export interface NewLetter {
  slug: string;
  status: LetterStatus;
  primaryLanguage: string;
  sponsor: string;
  goal: number | null;
  opensAt: Date | null;
  closesAt: Date | null;
  texts: LetterText[];
  recipientIds: number[];
}

/** SQL for letters, their versions, texts and recipient lists. */
export class LetterRepository {
  constructor(private readonly db: Executor) {}

  /** The same repository bound to a transaction. */
  with(tx: Executor): LetterRepository {
    return new LetterRepository(tx);
  }

  async findBySlug(slug: string): Promise<Letter | undefined> {
    const row = await this.db.selectFrom('letters').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? toLetter(row) : undefined;
  }

  async findById(id: number): Promise<Letter | undefined> {
    const row = await this.db.selectFrom('letters').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toLetter(row) : undefined;
  }

  /** Letters the public may see, open ones first, then by closing date. */
  async listPublic(): Promise<Letter[]> {
    const rows = await this.db
      .selectFrom('letters')
      .selectAll()
      .where('status', 'in', ['open', 'closed', 'delivered'])
      .orderBy(sql`case status when 'open' then 0 else 1 end`)
      // Soonest closing first; letters without a closing date after them.
      .orderBy(sql`closes_at is null`)
      .orderBy('closes_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map(toLetter);
  }

  /** Every translation of one letter version. */
  async textsOfVersion(versionId: number): Promise<LetterText[]> {
    return this.db
      .selectFrom('letter_texts')
      .select(['language', 'title', 'summary', 'body'])
      .where('letter_version_id', '=', versionId)
      .orderBy('language')
      .execute();
  }

  /** Translations of several versions at once, for list pages (one query, not one per letter). */
  async textsOfVersions(versionIds: number[]): Promise<Map<number, LetterText[]>> {
    const result = new Map<number, LetterText[]>();
    if (versionIds.length === 0) return result;
    const rows = await this.db
      .selectFrom('letter_texts')
      .select(['letter_version_id', 'language', 'title', 'summary', 'body'])
      .where('letter_version_id', 'in', versionIds)
      .execute();
    for (const { letter_version_id, ...text } of rows) {
      const list = result.get(letter_version_id) ?? [];
      list.push(text);
      result.set(letter_version_id, list);
    }
    return result;
  }

  /** Recipients of several letters, in the letter's order. */
  async recipientsOfLetters(letterIds: number[]): Promise<Map<number, LetterRecipient[]>> {
    const result = new Map<number, LetterRecipient[]>();
    if (letterIds.length === 0) return result;
    const rows = await this.db
      .selectFrom('letter_recipients as lr')
      .innerJoin('recipients as r', 'r.id', 'lr.recipient_id')
      .select(['lr.letter_id', 'r.id', 'r.name', 'r.title', 'r.organisation', 'r.salutation', 'r.language'])
      .where('lr.letter_id', 'in', letterIds)
      .orderBy('lr.letter_id')
      .orderBy('lr.position')
      .execute();
    for (const { letter_id, ...recipient } of rows) {
      const list = result.get(letter_id) ?? [];
      list.push(recipient);
      result.set(letter_id, list);
    }
    return result;
  }

  /** Creates a letter with its first version, its texts and its recipient list. Call inside a transaction. */
  async create(letter: NewLetter, now: Date): Promise<number> {
    const at = now.toISOString();
    const { id } = await this.db
      .insertInto('letters')
      .values({
        slug: letter.slug,
        status: letter.status,
        primary_language: letter.primaryLanguage,
        sponsor: letter.sponsor,
        goal: letter.goal,
        opens_at: letter.opensAt?.toISOString() ?? null,
        closes_at: letter.closesAt?.toISOString() ?? null,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const version = await this.db
      .insertInto('letter_versions')
      .values({ letter_id: id, number: 1, created_at: at })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('letter_texts')
      .values(letter.texts.map((t) => ({ letter_version_id: version.id, ...t })))
      .execute();
    await this.db.updateTable('letters').set({ current_version_id: version.id }).where('id', '=', id).execute();
    if (letter.recipientIds.length > 0) {
      await this.db
        .insertInto('letter_recipients')
        .values(letter.recipientIds.map((recipientId, position) => ({ letter_id: id, recipient_id: recipientId, position })))
        .execute();
    }
    return id;
  }

  /** Moves the confirmed-signature counter by `delta`, in the caller's transaction. */
  async addToSignatureCount(letterId: number, delta: number): Promise<void> {
    await this.db
      .updateTable('letters')
      .set({ signature_count: sql`max(0, signature_count + ${delta})` })
      .where('id', '=', letterId)
      .execute();
  }

  async count(): Promise<number> {
    const { n } = await this.db
      .selectFrom('letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
