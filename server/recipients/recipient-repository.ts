import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { RecipientRow } from '../db/tables.js';
import type { LetterResource } from '../policy/policy.js';
import type { Recipient } from './recipient.js';
import type { RecipientInput } from './recipient-input.js';

/** A recipient to add: the checked input, with notes optional (seeds and templates have none). */
export type NewRecipient = Omit<RecipientInput, 'notes'> & { notes?: string };

function toRecipient(row: RecipientRow): Recipient {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    organisation: row.organisation,
    country: row.country,
    email: row.email,
    language: row.language,
    salutation: row.salutation,
    notes: row.notes,
    createdAt: new Date(row.created_at),
    bouncingAt: row.bouncing_at ? new Date(row.bouncing_at) : null,
    bounceReply: row.bounce_reply,
  };
}

/** SQL for the recipients directory. The address identifies a recipient. */
export class RecipientRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): RecipientRepository {
    return new RecipientRepository(tx);
  }

  /** Adds a recipient, or returns the one already in the directory with that address. */
  async findOrCreate(recipient: NewRecipient, now: Date): Promise<number> {
    const existing = await this.db
      .selectFrom('recipients')
      .select('id')
      .where('email', '=', recipient.email)
      .executeTakeFirst();
    if (existing) return existing.id;
    const { id } = await this.db
      .insertInto('recipients')
      .values({ ...recipient, notes: recipient.notes ?? '', created_at: now.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  async findById(id: number): Promise<Recipient | undefined> {
    const row = await this.db.selectFrom('recipients').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toRecipient(row) : undefined;
  }

  async findByEmail(email: string): Promise<Recipient | undefined> {
    const row = await this.db
      .selectFrom('recipients')
      .selectAll()
      .where('email', '=', email)
      .executeTakeFirst();
    return row ? toRecipient(row) : undefined;
  }

  /** The whole directory, by organisation then name. */
  async listAll(): Promise<Recipient[]> {
    const rows = await this.db
      .selectFrom('recipients')
      .selectAll()
      .orderBy('organisation')
      .orderBy('name')
      .execute();
    return rows.map(toRecipient);
  }

  /** Every recipient's id, name, address and organisation: what an import compares its new rows with. */
  async directoryNames(): Promise<Pick<Recipient, 'id' | 'name' | 'email' | 'organisation'>[]> {
    return this.db.selectFrom('recipients').select(['id', 'name', 'email', 'organisation']).execute();
  }

  /** Those of `ids` that exist, in the order given. */
  async findByIds(ids: readonly number[]): Promise<Recipient[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('recipients').selectAll().where('id', 'in', ids).execute();
    const byId = new Map(rows.map((r) => [r.id, toRecipient(r)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  /** Directory entries by address, for an import that updates the ones it already knows. */
  async findByEmails(emails: readonly string[]): Promise<Map<string, Recipient>> {
    const result = new Map<string, Recipient>();
    // SQLite allows a limited number of parameters per statement; look addresses up in slices.
    for (let i = 0; i < emails.length; i += 500) {
      const rows = await this.db
        .selectFrom('recipients')
        .selectAll()
        .where('email', 'in', emails.slice(i, i + 500))
        .execute();
      for (const row of rows) result.set(row.email, toRecipient(row));
    }
    return result;
  }

  async create(input: RecipientInput, now: Date): Promise<number> {
    const { id } = await this.db
      .insertInto('recipients')
      .values({ ...input, created_at: now.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  /** Saves a recipient; a changed address forgets that the old one bounced. */
  async update(id: number, input: RecipientInput): Promise<void> {
    await this.db
      .updateTable('recipients')
      .set({
        ...input,
        bouncing_at: sql<string | null>`case when email = ${input.email} then bouncing_at else null end`,
        bounce_reply: sql<string | null>`case when email = ${input.email} then bounce_reply else null end`,
      })
      .where('id', '=', id)
      .execute();
  }

  /** How many letters address each recipient (a recipient on a letter cannot be deleted). */
  async letterCounts(): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('letter_recipients')
      .select(['recipient_id', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('recipient_id')
      .execute();
    return new Map(rows.map((r) => [r.recipient_id, Number(r.n)]));
  }

  /**
   * The letters that address each of these recipients, with their owners and collaborators: changing a
   * recipient changes where those letters go, so the access rule needs them.
   */
  async lettersAddressing(
    recipientIds: readonly number[],
  ): Promise<Map<number, (LetterResource & { status: string })[]>> {
    const result = new Map<number, (LetterResource & { status: string })[]>(
      recipientIds.map((id) => [id, []]),
    );
    // SQLite allows a limited number of parameters per statement; look recipients up in slices.
    for (let i = 0; i < recipientIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('letter_recipients as lr')
        .innerJoin('letters as l', 'l.id', 'lr.letter_id')
        .select(['lr.recipient_id', 'l.id as letter_id', 'l.owner_id', 'l.status'])
        .where('lr.recipient_id', 'in', recipientIds.slice(i, i + 500))
        .execute();
      if (rows.length === 0) continue;
      const letterIds = [...new Set(rows.map((r) => r.letter_id))];
      const collaborators = new Map<number, number[]>();
      for (let j = 0; j < letterIds.length; j += 500) {
        const shared = await this.db
          .selectFrom('letter_collaborators')
          .select(['letter_id', 'user_id'])
          .where('letter_id', 'in', letterIds.slice(j, j + 500))
          .execute();
        for (const c of shared)
          collaborators.set(c.letter_id, [...(collaborators.get(c.letter_id) ?? []), c.user_id]);
      }
      for (const row of rows) {
        result.get(row.recipient_id)?.push({
          ownerId: row.owner_id,
          collaboratorIds: collaborators.get(row.letter_id) ?? [],
          status: row.status,
        });
      }
    }
    return result;
  }

  /** Deletes a recipient no letter addresses; returns whether it was deleted. */
  async deleteUnused(id: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('recipients')
      .where('id', '=', id)
      .where((eb) =>
        eb.not(
          eb.exists(eb.selectFrom('letter_recipients').select('letter_id').where('recipient_id', '=', id)),
        ),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows) === 1;
  }

  /** Marks a recipient's address as bouncing, with what the receiving server said. */
  async markBouncing(id: number, reply: string, now: Date): Promise<void> {
    await this.db
      .updateTable('recipients')
      .set({ bouncing_at: now.toISOString(), bounce_reply: reply.slice(0, 500) })
      .where('id', '=', id)
      .execute();
  }
}
