import type { Executor } from '../db/database.js';
import type { UserRow } from '../db/tables.js';
import type { Role, User } from './account.js';

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    role: row.role as Role,
    mustChangePassword: row.must_change_password === 1,
    disabled: row.disabled_at !== null,
    lastLoginAt: row.last_login_at ? new Date(row.last_login_at) : null,
    createdAt: new Date(row.created_at),
    language: row.language,
  };
}

/** SQL for accounts. Password hashes never leave this file except through passwordHashOf. */
export class UserRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): UserRepository {
    return new UserRepository(tx);
  }

  async findById(id: number): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  async findByEmail(email: string): Promise<User | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('email', '=', email).executeTakeFirst();
    return row ? toUser(row) : undefined;
  }

  /** Several accounts by id, for lists (collaborators, version authors). */
  async findByIds(ids: readonly number[]): Promise<User[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy('email')
      .execute();
    return rows.map(toUser);
  }

  async passwordHashOf(id: number): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select('password_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.password_hash;
  }

  /** Creates an account; the caller has checked that the address is free. */
  async create(
    user: {
      email: string;
      role: Role;
      passwordHash: string;
      mustChangePassword: boolean;
      /** The language of its e-mails; English when not given. */
      language?: string;
    },
    now: Date,
  ): Promise<User> {
    const at = now.toISOString();
    const row = await this.db
      .insertInto('users')
      .values({
        email: user.email,
        role: user.role,
        password_hash: user.passwordHash,
        must_change_password: user.mustChangePassword ? 1 : 0,
        ...(user.language ? { language: user.language } : {}),
        created_at: at,
        updated_at: at,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toUser(row);
  }

  /** Sets the language of the account's e-mails. */
  async setLanguage(id: number, language: string, now: Date): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ language, updated_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  async setPassword(id: number, passwordHash: string, mustChange: boolean, now: Date): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        password_hash: passwordHash,
        must_change_password: mustChange ? 1 : 0,
        updated_at: now.toISOString(),
      })
      .where('id', '=', id)
      .execute();
  }

  async recordLogin(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ last_login_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Admins who can log in: not disabled, and past their invitation. An invited account has a random
   * password nobody knows until the link is used (which clears invite_token_hash), so it cannot run
   * the platform yet, even though it is not disabled.
   */
  async countActiveAdmins(exceptId?: number): Promise<number> {
    let query = this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .where('invite_token_hash', 'is', null);
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    const { n } = await query.executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Admins invited who have not set their password yet (and are not disabled). */
  async countInvitedAdmins(): Promise<number> {
    const { n } = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('role', '=', 'admin')
      .where('disabled_at', 'is', null)
      .where('invite_token_hash', 'is not', null)
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /** Whether the account still waits for its invitation to be used (nobody knows its password). */
  async hasPendingInvitation(id: number): Promise<boolean> {
    const row = await this.db
      .selectFrom('users')
      .select('invite_token_hash')
      .where('id', '=', id)
      .executeTakeFirst();
    return Boolean(row?.invite_token_hash);
  }

  /** Accounts that can log in: not disabled, and past their invitation (see countActiveAdmins). */
  async listActive(): Promise<User[]> {
    const rows = await this.db
      .selectFrom('users')
      .selectAll()
      .where('disabled_at', 'is', null)
      .where('invite_token_hash', 'is', null)
      .orderBy('email')
      .execute();
    return rows.map(toUser);
  }

  async list(): Promise<User[]> {
    const rows = await this.db.selectFrom('users').selectAll().orderBy('email').execute();
    return rows.map(toUser);
  }

  async setRole(id: number, role: Role, now: Date): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ role, updated_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Disables (at `at`) or enables (null) an account. */
  async setDisabled(id: number, at: Date | null): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ disabled_at: at?.toISOString() ?? null })
      .where('id', '=', id)
      .execute();
  }

  /** Stores (or clears) the hash of an invitation link and when it expires. */
  async setInvitation(
    id: number,
    tokenHash: string | null,
    expiresAt: Date | null,
    /** The invitation's queued message, when one was sent (kept as it was when a link is used up). */
    messageId?: number,
  ): Promise<void> {
    await this.db
      .updateTable('users')
      .set({
        invite_token_hash: tokenHash,
        invite_expires_at: expiresAt?.toISOString() ?? null,
        ...(messageId !== undefined ? { invitation_message_id: messageId } : {}),
      })
      .where('id', '=', id)
      .execute();
  }

  /**
   * Accounts still waiting for their first login whose latest invitation the mail queue gave up on
   * (refused, or bounced after it was sent), with the receiving server's answer.
   */
  async undeliveredInvitations(): Promise<Map<number, string>> {
    const rows = await this.db
      .selectFrom('users as u')
      .innerJoin('outbox_messages as m', 'm.id', 'u.invitation_message_id')
      .select(['u.id', 'm.last_reply'])
      .where('u.last_login_at', 'is', null)
      .where('m.status', '=', 'failed')
      .execute();
    return new Map(rows.map((r) => [r.id, r.last_reply ?? '']));
  }

  /** Stores the hash of a new password reset link (replacing any earlier one) and when it expires. */
  async setPasswordReset(id: number, tokenHash: string, expiresAt: Date): Promise<void> {
    await this.db
      .updateTable('users')
      .set({ reset_token_hash: tokenHash, reset_expires_at: expiresAt.toISOString(), reset_used_at: null })
      .where('id', '=', id)
      .execute();
  }

  /** The account's reset link as stored: when it expires and whether it was used; undefined if it has none. */
  async passwordResetOf(id: number): Promise<{ expiresAt: Date; usedAt: Date | null } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .select(['reset_expires_at', 'reset_used_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row?.reset_expires_at) return undefined;
    return {
      expiresAt: new Date(row.reset_expires_at),
      usedAt: row.reset_used_at ? new Date(row.reset_used_at) : null,
    };
  }

  /** The account a reset link belongs to, with the link's state, whether or not it still works. */
  async findByPasswordReset(
    tokenHash: string,
  ): Promise<{ user: User; expiresAt: Date; usedAt: Date | null } | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('reset_token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row?.reset_expires_at) return undefined;
    return {
      user: toUser(row),
      expiresAt: new Date(row.reset_expires_at),
      usedAt: row.reset_used_at ? new Date(row.reset_used_at) : null,
    };
  }

  /**
   * Marks a reset link used, if it is still unused and unexpired (compare-and-set: of two requests
   * with one link, one wins); returns whether it did.
   */
  async usePasswordReset(id: number, tokenHash: string, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('users')
      .set({ reset_used_at: now.toISOString() })
      .where('id', '=', id)
      .where('reset_token_hash', '=', tokenHash)
      .where('reset_used_at', 'is', null)
      .where('reset_expires_at', '>', now.toISOString())
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The account an unexpired invitation belongs to. */
  async findByInvitation(tokenHash: string, now: Date): Promise<User | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('invite_token_hash', '=', tokenHash)
      .where('invite_expires_at', '>', now.toISOString())
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    return row ? toUser(row) : undefined;
  }
}
