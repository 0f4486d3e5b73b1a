import { ownAccountStep } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import { isUniqueViolation } from '../db/dialect.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import {
  ACCOUNT_LOGIN_POLICY,
  accountEmail,
  CLIENT_LOGIN_POLICY,
  LOGIN_POLICY,
  loginThrottleKeys,
  passwordProblem,
  waitAfterFailures,
  type Role,
  type User,
} from './account.js';
import type { LoginThrottleRepository } from './login-throttle-repository.js';
import { decoyHash, hashPassword, oneTimePassword, verifyPassword } from './passwords.js';
import type { SessionRepository } from './session-repository.js';
import type { UserRepository } from './user-repository.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { interfaceLanguage, type InterfaceLanguage } from '../lib/i18n.js';

export interface AccountServiceDeps {
  db: Db;
  audit: AuditRepository;
  users: UserRepository;
  throttles: LoginThrottleRepository;
  sessions: SessionRepository;
  clock: Clock;
  secret: string;
}

export type LoginOutcome = { kind: 'ok'; user: User } | { kind: 'invalid' } | { kind: 'wait'; until: Date };

export type PasswordChangeOutcome =
  { kind: 'changed' } | { kind: 'wrong-current' } | { kind: 'refused'; messageKey: string };

/** Accounts: creating them, logging in with throttling, changing passwords. */
export class AccountService {
  constructor(private readonly deps: AccountServiceDeps) {}

  /** Creates an account with a one-time password that must be changed at the first login. */
  async createUser(email: string, role: Role): Promise<{ user: User; oneTimePassword: string }> {
    const address = accountEmail(email);
    if (!looksLikeEmailAddress(address))
      throw new AppError(400, 'account_email_invalid', 'account.errors.emailInvalid');
    if (await this.deps.users.findByEmail(address))
      throw new AppError(409, 'account_exists', 'account.errors.exists');
    const password = oneTimePassword();
    const passwordHash = await hashPassword(password);
    try {
      const user = await this.deps.users.create(
        { email: address, role, passwordHash, mustChangePassword: true },
        this.deps.clock.now(),
      );
      return { user, oneTimePassword: password };
    } catch (error) {
      // Another request or process wrote the address between the look above and this insert (hashing
      // the password takes a while): the same answer as if the look had found it, not a 500.
      if (isUniqueViolation(error)) throw new AppError(409, 'account_exists', 'account.errors.exists');
      throw error;
    }
  }

  /** On a platform without an active admin, creates one with ADMIN_EMAIL and returns its credentials. */
  async ensureFirstAdmin(
    email: string,
  ): Promise<
    { kind: 'created'; user: User; oneTimePassword: string } | { kind: 'exists' } | { kind: 'taken' }
  > {
    if ((await this.deps.users.countActiveAdmins()) > 0) return { kind: 'exists' };
    const existing = await this.deps.users.findByEmail(accountEmail(email));
    // An admin invited at this address who never set a password: nobody can log in to it, so it is
    // given the one-time password instead (its invitation link ends). That promotes or enables nothing.
    if (
      existing?.role === 'admin' &&
      !existing.disabled &&
      (await this.deps.users.hasPendingInvitation(existing.id))
    ) {
      const password = oneTimePassword();
      await this.deps.users.setPassword(
        existing.id,
        await hashPassword(password),
        true,
        this.deps.clock.now(),
      );
      await this.deps.users.setInvitation(existing.id, null, null);
      const user = (await this.deps.users.findById(existing.id))!;
      return { kind: 'created', user, oneTimePassword: password };
    }
    // Another process starting at the same moment wrote the admin after this one counted none.
    if (existing?.role === 'admin' && !existing.disabled) return { kind: 'exists' };
    // The address belongs to an account that is not an active admin (disabled, or an organizer):
    // never promote or re-enable it silently; the operator decides.
    if (existing) return { kind: 'taken' };
    try {
      return { kind: 'created', ...(await this.createUser(email, 'admin')) };
    } catch (error) {
      // Several processes started together on a fresh database (a process manager's web processes) all
      // find no admin: one creates it, the others carry on as if it had existed, instead of failing to
      // start (createUser answers account_exists whether its look or its insert met the winner's row).
      if (error instanceof AppError && error.code === 'account_exists') return { kind: 'exists' };
      throw error;
    }
  }

  async findUser(id: number): Promise<User | undefined> {
    return this.deps.users.findById(id);
  }

  /**
   * Checks a login from `client` (the client's IP address as the app sees it). Failures are counted
   * per (address tried, client) pair, which alone can lock; per address tried, which only slows; and
   * per client, which stops one connection trying many addresses. The answer for an unknown address,
   * a disabled account and a wrong password is the same, and takes as long, so the form reveals nothing
   * about who has an account.
   */
  async login(email: string, password: string, client: string): Promise<LoginOutcome> {
    const now = this.deps.clock.now();
    const address = accountEmail(email);
    const keys = loginThrottleKeys(this.deps.secret, address, client);
    const waiting = await this.deps.throttles.waitUntil([keys.pair, keys.account, keys.client], now);
    if (waiting) return { kind: 'wait', until: waiting };

    const user = await this.deps.users.findByEmail(address);
    const hashed = user ? await this.deps.users.passwordHashOf(user.id) : undefined;
    const matches = await verifyPassword(hashed ?? (await decoyHash()), password);
    if (!user || !hashed || !matches || user.disabled) {
      // Only addresses of real accounts are named in the log: a mistyped address may be someone's password.
      await this.deps.audit.record(
        {
          actor: user ? { id: user.id, email: user.email } : 'platform',
          action: 'login-failed',
          details: { known: Boolean(user) },
        },
        now,
      );
      return this.recordFailure(keys, now);
    }
    // The login, its counts cleared and its audit entry are one transaction: no login goes unrecorded.
    await this.deps.db.transaction().execute(async (tx) => {
      const throttles = this.deps.throttles.with(tx);
      await throttles.clear(keys.pair);
      await throttles.clear(keys.account);
      await this.deps.users.with(tx).recordLogin(user.id, now);
      await this.deps.audit
        .with(tx)
        .record({ actor: { id: user.id, email: user.email }, action: 'login' }, now);
    });
    return { kind: 'ok', user };
  }

  /** Counts a failed login against its three keys; the answer is the longest wait any of them earned. */
  private async recordFailure(keys: ReturnType<typeof loginThrottleKeys>, now: Date): Promise<LoginOutcome> {
    const { throttles } = this.deps;
    const pair = await throttles.recordFailure(
      keys.pair,
      keys.account,
      (n) => waitAfterFailures(n, now, LOGIN_POLICY),
      now,
    );
    const waits = [waitAfterFailures(pair, now, LOGIN_POLICY)];
    // Once a pair is locked, its further failures (one each time the lock ends) stay out of the
    // account's count: one client alone must never be able to slow the owner down.
    if (pair <= LOGIN_POLICY.lockAfterFailures) {
      const account = await throttles.recordFailure(
        keys.account,
        keys.account,
        (n) => waitAfterFailures(n, now, ACCOUNT_LOGIN_POLICY),
        now,
      );
      waits.push(waitAfterFailures(account, now, ACCOUNT_LOGIN_POLICY));
    }
    const client = await throttles.recordFailure(
      keys.client,
      null,
      (n) => waitAfterFailures(n, now, CLIENT_LOGIN_POLICY),
      now,
    );
    waits.push(waitAfterFailures(client, now, CLIENT_LOGIN_POLICY));
    const until = waits.reduce<Date | null>((latest, w) => (w && (!latest || w > latest) ? w : latest), null);
    return until ? { kind: 'wait', until } : { kind: 'invalid' };
  }

  /**
   * Sets the language the platform's e-mails to the caller's own account are written in: one of the
   * interface languages, exactly. The change and its audit entry (old and new language) are one
   * transaction; choosing the language the account already has changes and records nothing.
   */
  async chooseEmailLanguage(user: User, language: InterfaceLanguage): Promise<void> {
    // The form checks this too, but the service never trusts its caller: any other value would be
    // stored and then written into every e-mail's links and number formats.
    if (interfaceLanguage(language) !== language)
      throw new AppError(400, 'email_language_invalid', 'account.emailLanguage.invalid');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const users = this.deps.users.with(tx);
      const current = await users.findById(user.id);
      if (!current) throw new AppError(404, 'user_not_found', 'users.errors.notFound');
      if (current.language === language) return;
      await users.setLanguage(user.id, language, now);
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'email-language-changed',
          targetType: 'user',
          targetId: user.id,
          details: { from: current.language, to: language },
        },
        now,
      );
    });
  }

  /** Changes a password after checking the current one; every other session of the account ends. */
  async changePassword(
    user: User,
    current: string,
    next: string,
    keepSessionKey: string | undefined,
  ): Promise<PasswordChangeOutcome> {
    const hashed = await this.deps.users.passwordHashOf(user.id);
    if (!hashed || !(await verifyPassword(hashed, current))) return { kind: 'wrong-current' };
    const problem = passwordProblem(next, user.email);
    if (problem) return { kind: 'refused', messageKey: problem };
    if (next === current) return { kind: 'refused', messageKey: 'account.errors.passwordUnchanged' };
    const passwordHash = await hashPassword(next);
    const now = this.deps.clock.now();
    // The new password, the end of the other sessions and the audit entry stand or fall together.
    await this.deps.db.transaction().execute(async (tx) => {
      await this.deps.users.with(tx).setPassword(user.id, passwordHash, false, now);
      await this.deps.sessions.with(tx).removeForUser(user.id, keepSessionKey);
      await this.deps.audit.with(tx).record(ownAccountStep(user, 'password-changed'), now);
    });
    return { kind: 'changed' };
  }
}
