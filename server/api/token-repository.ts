import type { Executor } from '../db/database.js';
import { LOCK_SPACES, lockUntilTransactionEnds } from '../db/dialect.js';
import type { ApiTokensTable } from '../db/tables.js';
import type { Selectable } from 'kysely';
import type { ApiToken } from './token.js';

const date = (value: string | null) => (value === null ? null : new Date(value));

function toToken(row: Selectable<ApiTokensTable>): ApiToken {
  return {
    id: row.id,
    userId: row.user_id,
    name: row.name,
    prefix: row.prefix,
    createdAt: new Date(row.created_at),
    expiresAt: date(row.expires_at),
    lastUsedAt: date(row.last_used_at),
    revokedAt: date(row.revoked_at),
  };
}

/** SQL for API tokens. The token itself is never stored, only its hash. */
export class ApiTokenRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): ApiTokenRepository {
    return new ApiTokenRepository(tx);
  }

  async create(
    token: { userId: number; name: string; hash: string; prefix: string; expiresAt: Date | null },
    now: Date,
  ): Promise<number> {
    const row = await this.db
      .insertInto('api_tokens')
      .values({
        user_id: token.userId,
        name: token.name,
        token_hash: token.hash,
        prefix: token.prefix,
        created_at: now.toISOString(),
        expires_at: token.expiresAt?.toISOString() ?? null,
        last_used_at: null,
        revoked_at: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /** The tokens of every enabled account but `userId` not revoked, newest first, each with its owner's address. */
  async unrevokedOfOthers(userId: number): Promise<(ApiToken & { ownerEmail: string })[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .innerJoin('users', 'users.id', 'api_tokens.user_id')
      .selectAll('api_tokens')
      .select('users.email as owner_email')
      .where('api_tokens.user_id', '!=', userId)
      .where('api_tokens.revoked_at', 'is', null)
      // A disabled account's tokens stop working with it (ApiTokenService.authenticate).
      .where('users.disabled_at', 'is', null)
      .orderBy('api_tokens.id', 'desc')
      .execute();
    return rows.map((row) => ({ ...toToken(row), ownerEmail: row.owner_email }));
  }

  /** An account's tokens, newest first (revoked and expired ones too, for their history). */
  async ofUser(userId: number): Promise<ApiToken[]> {
    const rows = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toToken);
  }

  /**
   * An account's tokens, read inside the transaction that creates one more, after taking the account's
   * turn: on PostgreSQL two creates at the same instant would otherwise each read the list without the
   * other's uncommitted token, and both pass the check that names tell working tokens apart.
   */
  async ofUserForCreating(userId: number): Promise<ApiToken[]> {
    await lockUntilTransactionEnds(this.db, LOCK_SPACES.tokenNames, String(userId));
    return this.ofUser(userId);
  }

  async findById(id: number): Promise<ApiToken | undefined> {
    const row = await this.db.selectFrom('api_tokens').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  async findByHash(hash: string): Promise<ApiToken | undefined> {
    const row = await this.db
      .selectFrom('api_tokens')
      .selectAll()
      .where('token_hash', '=', hash)
      .executeTakeFirst();
    return row ? toToken(row) : undefined;
  }

  /** Revokes a token not revoked yet; returns whether it moved (a second click revokes nothing). */
  async revoke(id: number, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('api_tokens')
      .set({ revoked_at: now.toISOString() })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async markUsed(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('api_tokens')
      .set({ last_used_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }
}
