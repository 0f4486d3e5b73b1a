import type { Executor } from '../db/database.js';

export interface LoginThrottle {
  failures: number;
  lockedUntil: Date | null;
}

/**
 * SQL for login throttles: failed attempts per keyed hash (of an address and client address, of an
 * address, or of a client address), whether or not an account has the address.
 */
export class LoginThrottleRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): LoginThrottleRepository {
    return new LoginThrottleRepository(tx);
  }

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

  /** The latest time any of these keys must wait until, when it is after `now`; otherwise null. */
  async waitUntil(keyHashes: readonly string[], now: Date): Promise<Date | null> {
    const row = await this.db
      .selectFrom('login_throttles')
      .select((eb) => eb.fn.max('locked_until').as('until'))
      .where('key_hash', 'in', keyHashes)
      .where('locked_until', '>', now.toISOString())
      .executeTakeFirst();
    return row?.until ? new Date(row.until) : null;
  }

  /**
   * Counts one more failure and stores the wait it earned; returns the new number of failures.
   * `accountHash` ties the row to the address tried (null for a client address's own row).
   */
  async recordFailure(
    keyHash: string,
    accountHash: string | null,
    lockedUntil: (failures: number) => Date | null,
    now: Date,
  ): Promise<number> {
    const { failures } = await this.db
      .insertInto('login_throttles')
      .values({
        key_hash: keyHash,
        account_hash: accountHash,
        failures: 1,
        locked_until: null,
        updated_at: now.toISOString(),
      })
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

  /** Forgets every failure counted against an address, from any client address; returns how many rows went. */
  async clearAccount(accountHash: string): Promise<number> {
    const result = await this.db
      .deleteFrom('login_throttles')
      .where('account_hash', '=', accountHash)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /** For each of these addresses (by hash) that some client must wait for now, until when (the latest). */
  async lockedAccounts(accountHashes: readonly string[], now: Date): Promise<Map<string, Date>> {
    if (accountHashes.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('login_throttles')
      .select((eb) => ['account_hash', eb.fn.max('locked_until').as('until')])
      .where('account_hash', 'in', accountHashes)
      .where('locked_until', '>', now.toISOString())
      .groupBy('account_hash')
      .execute();
    return new Map(rows.map((row) => [row.account_hash!, new Date(row.until!)]));
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
