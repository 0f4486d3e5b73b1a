import type { Executor } from '../db/database.js';

/** SQL for server-side sessions. Ids arrive already hashed. */
export class SessionRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): SessionRepository {
    return new SessionRepository(tx);
  }

  /** The stored data of a session that has not expired. */
  async find(sidHash: string, now: Date): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('sessions')
      .select('data')
      .where('sid_hash', '=', sidHash)
      .where('expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return row?.data;
  }

  async save(sidHash: string, userId: number | null, data: string, expiresAt: Date): Promise<void> {
    await this.db
      .insertInto('sessions')
      .values({ sid_hash: sidHash, user_id: userId, data, expires_at: expiresAt.toISOString() })
      .onConflict((oc) =>
        oc.column('sid_hash').doUpdateSet({ user_id: userId, data, expires_at: expiresAt.toISOString() }),
      )
      .execute();
  }

  async extend(sidHash: string, expiresAt: Date): Promise<void> {
    await this.db
      .updateTable('sessions')
      .set({ expires_at: expiresAt.toISOString() })
      .where('sid_hash', '=', sidHash)
      .execute();
  }

  async remove(sidHash: string): Promise<void> {
    await this.db.deleteFrom('sessions').where('sid_hash', '=', sidHash).execute();
  }

  /** Ends every session of an account but one (after a password change, the other devices are logged out). */
  async removeForUser(userId: number, keepSidHash?: string): Promise<void> {
    let query = this.db.deleteFrom('sessions').where('user_id', '=', userId);
    if (keepSidHash) query = query.where('sid_hash', '!=', keepSidHash);
    await query.execute();
  }

  async pruneExpired(now: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('sessions')
      .where('expires_at', '<=', now.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
