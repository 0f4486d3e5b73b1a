import type { Executor } from '../db/database.js';

export interface NewRecipient {
  name: string;
  title: string;
  organisation: string;
  country: string | null;
  email: string;
  language: string;
  salutation: string;
}

/** SQL for the recipients directory. */
export class RecipientRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): RecipientRepository {
    return new RecipientRepository(tx);
  }

  /** Adds a recipient, or returns the one already in the directory with that address (the address identifies it). */
  async findOrCreate(recipient: NewRecipient, now: Date): Promise<number> {
    const existing = await this.db.selectFrom('recipients').select('id').where('email', '=', recipient.email).executeTakeFirst();
    if (existing) return existing.id;
    const { id } = await this.db
      .insertInto('recipients')
      .values({ ...recipient, notes: '', created_at: now.toISOString() })
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }
}
