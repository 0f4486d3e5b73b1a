import type { Executor } from '../db/database.js';

export interface LoginThrottle {
  failures: number;
  lockedUntil: Date | null;
}

/** SQL for login throttles: failed attempts per (hashed) address, whether or not an account has it. */
export class LoginThrottleRepository {
  constructor(private readonly db: Executor) {}

  async find(keyHash: string): Promise<LoginThrottle | undefined> {
    const row = await this.db
      .selectFrom('login_throttles')
      .selectAll()
      .where('key_hash', '=', keyHash)
      .executeTakeFirst();
    return row
      ? { failures: row.failures, lockedUntil: row.locked_until ? new Date(row.locked_until) : null }
      : undefined;
  }

  /** Counts one more failure and stores the wait it earned; returns the new number of failures. */
  async recordFailure(
    keyHash: string,
    lockedUntil: (failures: number) => Date | null,
    now: Date,
  ): Promise<number> {
    const { failures } = await this.db
      .insertInto('login_throttles')
      .values({ key_hash: keyHash, failures: 1, locked_until: null, updated_at: now.toISOString() })
      .onConflict((oc) =>
        oc.column('key_hash').doUpdateSet((eb) => ({
          failures: eb('login_throttles.failures', '+', 1),
          updated_at: now.toISOString(),
        })),
      )
      .returning('failures')
      .executeTakeFirstOrThrow();
    await this.db
      .updateTable('login_throttles')
      .set({ locked_until: lockedUntil(failures)?.toISOString() ?? null })
      .where('key_hash', '=', keyHash)
      .execute();
    return failures;
  }

  async clear(keyHash: string): Promise<void> {
    await this.db.deleteFrom('login_throttles').where('key_hash', '=', keyHash).execute();
  }

  /** Forgets throttles untouched since `before` (a day of quiet wipes the slate). */
  async pruneOlderThan(before: Date): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttles')
      .where('updated_at', '<', before.toISOString())
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
