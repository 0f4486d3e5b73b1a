import { randomBytes } from 'node:crypto';
import { ownAccountStep } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/dialect.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { formatsFor } from '../lib/format.js';
import { keyedHash } from '../lib/keyed-hash.js';
import type { PlatformMail } from '../mail/platform-mail.js';
import { PRIORITY } from '../outbox/outbox.js';
import { authorize } from '../policy/policy.js';
import { accountEmail, accountThrottleKey, passwordProblem, ROLES, type Role, type User } from './account.js';
import type { LoginThrottleRepository } from './login-throttle-repository.js';
import { hashPassword } from './passwords.js';
import type { SessionRepository } from './session-repository.js';
import type { UserRepository } from './user-repository.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { DEFAULT_LANGUAGE, interfaceLanguage } from '../lib/i18n.js';

export interface UserAdminServiceDeps {
  db: Db;
  users: UserRepository;
  sessions: SessionRepository;
  throttles: LoginThrottleRepository;
  audit: AuditRepository;
  /** Renders and queues the invitation, and wakes the worker. */
  mail: PlatformMail;
  clock: Clock;
  secret: string;
}

/** How long an invitation link works. */
export const INVITATION_DAYS = 7;

/** An account as the admin's list shows it: with when its logins are locked until, if they are now. */
export interface ListedUser extends User {
  lockedUntil: Date | null;
  /** The receiving server's answer when the latest invitation was not delivered; null otherwise. */
  invitationUndelivered: string | null;
}

/** Admins manage accounts: invite by e-mail, change roles, disable and enable, unlock logins. */
export class UserAdminService {
  constructor(private readonly deps: UserAdminServiceDeps) {}

  /** Every account, with the ones whose logins are locked now (from any client address) marked. */
  async list(admin: User): Promise<ListedUser[]> {
    authorize(admin, 'user.manage');
    const users = await this.deps.users.list();
    const keys = users.map((u) => accountThrottleKey(this.deps.secret, u.email));
    const locked = await this.deps.throttles.lockedAccounts(keys, this.deps.clock.now());
    const undelivered = await this.deps.users.undeliveredInvitations();
    return users.map((u, i) => ({
      ...u,
      lockedUntil: locked.get(keys[i]!) ?? null,
      invitationUndelivered: undelivered.get(u.id) ?? null,
    }));
  }

  /** One account with its lock, for the unlock confirmation. */
  async findListed(admin: User, userId: number): Promise<ListedUser> {
    authorize(admin, 'user.manage');
    const user = await this.target(userId);
    const key = accountThrottleKey(this.deps.secret, user.email);
    const locked = await this.deps.throttles.lockedAccounts([key], this.deps.clock.now());
    const undelivered = await this.deps.users.undeliveredInvitations();
    return {
      ...user,
      lockedUntil: locked.get(key) ?? null,
      invitationUndelivered: undelivered.get(user.id) ?? null,
    };
  }

  /**
   * Clears every failed login counted against an account's address, from any client address, so its
   * owner can log in at once; recorded in the audit log. Client addresses' own counts stay.
   */
  async unlock(admin: User, userId: number): Promise<void> {
    authorize(admin, 'user.manage');
    const user = await this.target(userId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const cleared = await this.deps.throttles
        .with(tx)
        .clearAccount(accountThrottleKey(this.deps.secret, user.email));
      if (cleared === 0) return;
      await this.deps.audit.with(tx).record(
        {
          actor: admin,
          action: 'user-unlocked',
          targetType: 'user',
          targetId: user.id,
          details: { email: user.email },
        },
        now,
      );
    });
  }

  private tokenHash(token: string): string {
    return keyedHash(this.deps.secret, 'invitation', token);
  }

  /**
   * Creates an account that can only be entered through the link e-mailed to it: the password is a
   * random one nobody knows, replaced when the invited person sets their own. The invitation and the
   * account's e-mails are in `language`, which the admin chooses on the form (its owner can change it
   * later); without one, a new account's are in English and one invited again keeps its own.
   */
  async invite(
    admin: User,
    email: string,
    role: string,
    language?: string,
  ): Promise<{ kind: 'invited'; roleBefore?: Role } | { kind: 'invalid'; errors: Record<string, string> }> {
    authorize(admin, 'user.manage');
    const address = accountEmail(email);
    const errors: Record<string, string> = {};
    if (!looksLikeEmailAddress(address)) errors.email = 'account.errors.emailInvalid';
    if (!(ROLES as readonly string[]).includes(role)) errors.role = 'users.errors.role';
    // Exactly one of the interface languages' codes, as the account page takes it.
    const chosen = language === undefined ? undefined : interfaceLanguage(language);
    if (language !== undefined && chosen !== language) errors.language = 'account.emailLanguage.invalid';
    if (Object.keys(errors).length > 0) return { kind: 'invalid', errors };
    const existing = await this.deps.users.findByEmail(address);
    // Someone invited who never set a password (the link expired, or the e-mail was lost) is invited
    // again, as the expired link's page tells them to ask: a new link replaces the old one.
    const again =
      existing?.mustChangePassword === true && existing.lastLoginAt === null && !existing.disabled;
    if (existing && !again) return { kind: 'invalid', errors: { email: 'account.errors.exists' } };
    const now = this.deps.clock.now();
    const token = randomBytes(24).toString('base64url');
    const expires = new Date(now.getTime() + INVITATION_DAYS * 86_400_000);
    // The language the admin chose for the invitation; without one, an account invited again keeps its own.
    const accountLanguage = chosen ?? existing?.language ?? DEFAULT_LANGUAGE;
    const invitation = {
      role,
      // The role as the sentence names it, in the account's language ("as an organizer").
      roleKey: `emails.account-invitation.role.${role}`,
      invitedBy: admin.email,
      inviteUrl: this.deps.mail.links.invitationUrl(token, accountLanguage),
      expires: formatsFor(accountLanguage).dateAndHour(expires),
    };
    const passwordHash = await hashPassword(randomBytes(32).toString('base64url'));
    try {
      await this.deps.db.transaction().execute(async (tx) => {
        const user =
          existing ??
          (await this.deps.users.with(tx).create(
            {
              email: address,
              role: role as Role,
              passwordHash,
              mustChangePassword: true,
              language: accountLanguage,
            },
            now,
          ));
        if (existing && existing.role !== role)
          await this.deps.users.with(tx).setRole(user.id, role as Role, now);
        // Its owner never logged in, so never chose: the language is the inviting admin's choice, now this one.
        if (existing && existing.language !== accountLanguage)
          await this.deps.users.with(tx).setLanguage(user.id, accountLanguage, now);
        const messageId = await this.deps.mail.toAccount(
          tx,
          {
            template: 'account-invitation',
            to: address,
            language: accountLanguage,
            context: invitation,
            priority: PRIORITY.confirmation,
          },
          now,
        );
        await this.deps.users.with(tx).setInvitation(user.id, this.tokenHash(token), expires, messageId);
        await this.deps.audit.with(tx).record(
          {
            actor: admin,
            action: 'user-invited',
            targetType: 'user',
            targetId: user.id,
            details: {
              email: address,
              role,
              language: accountLanguage,
              ...(existing ? { again: true } : {}),
              // Invited again with another role: the one the earlier invitation gave.
              ...(existing && existing.role !== role ? { roleBefore: existing.role } : {}),
              // Invited again in another language: what the account's e-mails were in until now.
              ...(existing && existing.language !== accountLanguage
                ? { languageBefore: existing.language }
                : {}),
            },
          },
          now,
        );
      });
    } catch (error) {
      // Another admin invited the same address between the look above and this insert (the hashing
      // takes a while): the same answer as if the look had found it, not a 500. Nothing was written.
      if (isUniqueViolation(error)) return { kind: 'invalid', errors: { email: 'account.errors.exists' } };
      throw error;
    }
    this.deps.mail.wake();
    // Said on the page: inviting the address again is also how its role changes before it is used.
    return existing && existing.role !== role
      ? { kind: 'invited', roleBefore: existing.role }
      : { kind: 'invited' };
  }

  /** The invited account a link belongs to, if the link is genuine and has not expired or been used. */
  async invitation(token: string): Promise<User | undefined> {
    if (!/^[A-Za-z0-9_-]{20,64}$/.test(token)) return undefined;
    return this.deps.users.findByInvitation(this.tokenHash(token), this.deps.clock.now());
  }

  /** The invited person sets their password; the link is used up. */
  async acceptInvitation(
    token: string,
    password: string,
  ): Promise<
    { kind: 'accepted'; user: User } | { kind: 'refused'; messageKey: string } | { kind: 'invalid' }
  > {
    const user = await this.invitation(token);
    if (!user) return { kind: 'invalid' };
    const problem = passwordProblem(password, user.email);
    if (problem) return { kind: 'refused', messageKey: problem };
    const passwordHash = await hashPassword(password);
    const now = this.deps.clock.now();
    // Accepting logs the person in: the account's last login and the audit log say so, as a login does.
    await this.deps.db.transaction().execute(async (tx) => {
      const users = this.deps.users.with(tx);
      await users.setPassword(user.id, passwordHash, false, now);
      await users.setInvitation(user.id, null, null);
      await users.recordLogin(user.id, now);
      await this.deps.audit.with(tx).record(ownAccountStep(user, 'invitation-accepted'), now);
    });
    return { kind: 'accepted', user: (await this.deps.users.findById(user.id))! };
  }

  /**
   * Changes a role; the last active admin cannot stop being one. The check, the change and its audit
   * entry are one transaction: the admins counted are those of the moment the role changes.
   */
  /** Changes an account's role; false when it already had it (nothing changed, nothing recorded). */
  async changeRole(admin: User, userId: number, role: string): Promise<boolean> {
    authorize(admin, 'user.manage');
    if (!(ROLES as readonly string[]).includes(role))
      throw new AppError(400, 'role_invalid', 'users.errors.role');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const users = this.deps.users.with(tx);
      const user = await this.target(userId, users);
      if (user.role === role) return false;
      if (user.role === 'admin') await this.refuseLastAdmin(user, users);
      await users.setRole(userId, role as Role, now);
      await this.deps.audit.with(tx).record(
        {
          actor: admin,
          action: 'role-changed',
          targetType: 'user',
          targetId: userId,
          details: { email: user.email, from: user.role, to: role },
        },
        now,
      );
      return true;
    });
  }

  /** Disables an account and ends its sessions; never one's own, never the last admin. */
  async disable(admin: User, userId: number): Promise<void> {
    authorize(admin, 'user.manage');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const users = this.deps.users.with(tx);
      const user = await this.target(userId, users);
      if (user.id === admin.id) throw new AppError(409, 'disable_self', 'users.errors.self');
      if (user.disabled) return;
      if (user.role === 'admin') await this.refuseLastAdmin(user, users);
      await users.setDisabled(userId, now);
      await this.deps.sessions.with(tx).removeForUser(userId);
      await this.deps.audit.with(tx).record(
        {
          actor: admin,
          action: 'user-disabled',
          targetType: 'user',
          targetId: userId,
          details: { email: user.email },
        },
        now,
      );
    });
  }

  /** Enables a disabled account again, audited in the same transaction. */
  async enable(admin: User, userId: number): Promise<void> {
    authorize(admin, 'user.manage');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const users = this.deps.users.with(tx);
      const user = await this.target(userId, users);
      if (!user.disabled) return;
      await users.setDisabled(userId, null);
      await this.deps.audit.with(tx).record(
        {
          actor: admin,
          action: 'user-enabled',
          targetType: 'user',
          targetId: userId,
          details: { email: user.email },
        },
        now,
      );
    });
  }

  async find(admin: User, userId: number): Promise<User> {
    authorize(admin, 'user.manage');
    return this.target(userId);
  }

  /**
   * Refuses to take away the last admin who can log in. Invited admins who have not set a password
   * do not count: nobody can log in to their accounts yet, and the invitation may never be used.
   */
  private async refuseLastAdmin(admin: User, users = this.deps.users): Promise<void> {
    if (admin.disabled || (await users.hasPendingInvitation(admin.id))) return;
    if ((await users.countActiveAdmins(admin.id)) > 0) return;
    const invited = (await users.countInvitedAdmins()) > 0;
    throw new AppError(
      409,
      'last_admin',
      invited ? 'users.errors.lastAdminInvited' : 'users.errors.lastAdmin',
    );
  }

  private async target(userId: number, users = this.deps.users): Promise<User> {
    const user = await users.findById(userId);
    if (!user) throw new AppError(404, 'user_not_found', 'users.errors.notFound');
    return user;
  }
}
