import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { RecipientRow } from '../db/tables.js';
import type { LetterResource } from '../policy/policy.js';
import type { RecipientNames } from './recipient-names.js';
import type { Recipient } from './recipient.js';
import type { RecipientInput } from './recipient-input.js';
import type { Salutations } from './recipient-salutation.js';

/**
 * A recipient to add: the checked input, with notes optional (seeds and templates have none), and
 * `salutation` (in the recipient's own language) enough without the other languages' `salutations`.
 */
export type NewRecipient = Omit<RecipientInput, 'notes' | 'salutations' | 'names'> & {
  notes?: string;
  salutations?: Salutations;
  names?: RecipientNames;
};

function toRecipient(
  row: RecipientRow,
  salutations: Salutations = {},
  names: RecipientNames = {},
): Recipient {
  return {
    id: row.id,
    name: row.name,
    title: row.title,
    organisation: row.organisation,
    country: row.country,
    email: row.email,
    language: row.language,
    salutation: salutations[row.language] ?? '',
    salutations,
    names,
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
    const { salutation, salutations, names, ...fields } = recipient;
    const { id } = await this.db
      .insertInto('recipients')
      .values({ ...fields, notes: recipient.notes ?? '', created_at: now.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.insertSalutations(id, { ...salutations, [recipient.language]: salutation });
    await this.insertNames(id, names ?? {});
    return id;
  }

  async findById(id: number): Promise<Recipient | undefined> {
    const row = await this.db.selectFrom('recipients').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? (await this.withSalutations([row]))[0] : undefined;
  }

  async findByEmail(email: string): Promise<Recipient | undefined> {
    const row = await this.db
      .selectFrom('recipients')
      .selectAll()
      .where('email', '=', email)
      .executeTakeFirst();
    return row ? (await this.withSalutations([row]))[0] : undefined;
  }

  /** The whole directory, by organisation then name. */
  async listAll(): Promise<Recipient[]> {
    const rows = await this.db
      .selectFrom('recipients')
      .selectAll()
      .orderBy('organisation')
      .orderBy('name')
      .execute();
    return this.withSalutations(rows, true);
  }

  /** Recipients from their rows, each with its salutations and names (one query each per 500, or all at once). */
  private async withSalutations(rows: readonly RecipientRow[], all = false): Promise<Recipient[]> {
    const ids = all ? 'all' : rows.map((r) => r.id);
    const byRecipient = await this.salutationsOf(ids);
    const names = await this.namesOf(ids);
    return rows.map((row) => toRecipient(row, byRecipient.get(row.id) ?? {}, names.get(row.id) ?? {}));
  }

  /**
   * Each recipient's names in other languages (recipient_names), by language ('all': of the whole
   * directory); a recipient with none is absent.
   */
  async namesOf(ids: readonly number[] | 'all'): Promise<Map<number, RecipientNames>> {
    return this.byLanguage(
      ids,
      (batch) => {
        const query = this.db
          .selectFrom('recipient_names')
          .select(['recipient_id', 'language', 'name', 'title', 'organisation']);
        return (batch === 'all' ? query : query.where('recipient_id', 'in', batch))
          .orderBy('recipient_id')
          .orderBy('language')
          .execute();
      },
      ({ name, title, organisation }) => ({ name, title, organisation }),
    );
  }

  /** Adds a recipient's names in other languages; a language with every field empty is not stored. */
  private async insertNames(recipientId: number, names: RecipientNames): Promise<void> {
    const rows = Object.entries(names)
      .filter(([, n]) => n.name !== '' || n.title !== '' || n.organisation !== '')
      .map(([language, n]) => ({ recipient_id: recipientId, language, ...n }));
    if (rows.length > 0) await this.db.insertInto('recipient_names').values(rows).execute();
  }

  /**
   * Each recipient's salutations, by language ('all': of the whole directory); a recipient with none
   * is absent. The one reader of recipient_salutations.
   */
  async salutationsOf(ids: readonly number[] | 'all'): Promise<Map<number, Salutations>> {
    return this.byLanguage(
      ids,
      (batch) => {
        const query = this.db
          .selectFrom('recipient_salutations')
          .select(['recipient_id', 'language', 'salutation']);
        return (batch === 'all' ? query : query.where('recipient_id', 'in', batch))
          .orderBy('recipient_id')
          .orderBy('language')
          .execute();
      },
      (row) => row.salutation,
    );
  }

  /**
   * Rows kept by recipient and language (salutations, names), read for `ids` in one query per 500
   * recipients, since SQLite allows a limited number of parameters per statement; the whole directory
   * ('all') in one query, which needs none.
   */
  private async byLanguage<R extends { recipient_id: number; language: string }, V>(
    ids: readonly number[] | 'all',
    read: (batch: readonly number[] | 'all') => Promise<R[]>,
    value: (row: R) => V,
  ): Promise<Map<number, Record<string, V>>> {
    const byRecipient = new Map<number, Record<string, V>>();
    const batches: (readonly number[] | 'all')[] = [];
    if (ids === 'all') batches.push('all');
    else {
      const unique = [...new Set(ids)];
      for (let i = 0; i < unique.length; i += 500) batches.push(unique.slice(i, i + 500));
    }
    for (const batch of batches) {
      for (const row of await read(batch)) {
        const own = byRecipient.get(row.recipient_id) ?? {};
        own[row.language] = value(row);
        byRecipient.set(row.recipient_id, own);
      }
    }
    return byRecipient;
  }

  /** Adds salutations of a new recipient; empty ones are not stored. */
  private async insertSalutations(recipientId: number, salutations: Salutations): Promise<void> {
    const rows = Object.entries(salutations)
      .filter(([, salutation]) => salutation.trim() !== '')
      .map(([language, salutation]) => ({ recipient_id: recipientId, language, salutation }));
    if (rows.length > 0) await this.db.insertInto('recipient_salutations').values(rows).execute();
  }

  /** Every recipient's id, name, address and organisation: what an import compares its new rows with. */
  async directoryNames(): Promise<Pick<Recipient, 'id' | 'name' | 'email' | 'organisation'>[]> {
    return this.db.selectFrom('recipients').select(['id', 'name', 'email', 'organisation']).execute();
  }

  /** Those of `ids` that exist, in the order given. */
  async findByIds(ids: readonly number[]): Promise<Recipient[]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom('recipients').selectAll().where('id', 'in', ids).execute();
    const byId = new Map((await this.withSalutations(rows)).map((r) => [r.id, r]));
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
      for (const recipient of await this.withSalutations(rows)) result.set(recipient.email, recipient);
    }
    return result;
  }

  /** Adds a recipient with its salutations. Call inside a transaction. */
  async create(input: RecipientInput, now: Date): Promise<number> {
    const { salutation, salutations, names, ...fields } = input;
    const { id } = await this.db
      .insertInto('recipients')
      .values({ ...fields, created_at: now.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.insertSalutations(id, { ...salutations, [input.language]: salutation });
    await this.insertNames(id, names);
    return id;
  }

  /**
   * Saves a recipient, its salutations replaced by the input's; a changed address forgets that the old
   * one bounced. Call inside a transaction.
   */
  async update(id: number, input: RecipientInput): Promise<void> {
    const { salutation, salutations, names, ...fields } = input;
    await this.db.deleteFrom('recipient_salutations').where('recipient_id', '=', id).execute();
    await this.insertSalutations(id, { ...salutations, [input.language]: salutation });
    await this.db.deleteFrom('recipient_names').where('recipient_id', '=', id).execute();
    await this.insertNames(id, names);
    await this.db
      .updateTable('recipients')
      .set({
        ...fields,
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
  ): Promise<Map<number, (LetterResource & { letterId: number; status: string })[]>> {
    const result = new Map<number, (LetterResource & { letterId: number; status: string })[]>(
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
          letterId: row.letter_id,
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
