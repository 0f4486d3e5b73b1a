import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { ownAccountStep } from '../audit/audit.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { keyedHash } from '../lib/keyed-hash.js';
import { PRIORITY } from '../outbox/outbox.js';
import { accountEmail, accountThrottleKey, passwordProblem, type User } from './account.js';
import { hashPassword } from './passwords.js';
import type { UserAdminServiceDeps } from './user-admin-service.js';

/** The same account and mail parts as the user admin's (invitations), plus the answer's minimum time. */
export interface PasswordResetServiceDeps extends UserAdminServiceDeps {
  /**
   * Every request for a link answers after at least this long (real time), whether an account has
   * the address or not, so the time taken tells nothing. Default RESET_ANSWER_MS.
   */
  answerMs?: number;
}

/** How long a reset link works. */
export const RESET_MINUTES = 30;
/** One reset e-mail per account in this time, however often it is asked for: nobody's inbox is flooded. */
export const RESET_RESEND_MS = 5 * 60_000;
/** The least time a request for a link takes: well above the work of queuing the e-mail. */
export const RESET_ANSWER_MS = 300;

/** What a reset link is: working (for this account), used already, expired, or not one of ours. */
export type ResetLink =
  { kind: 'valid'; user: User } | { kind: 'used' } | { kind: 'expired' } | { kind: 'invalid' };

export type ResetOutcome =
  | { kind: 'reset'; user: User }
  | { kind: 'refused'; messageKey: string }
  | Exclude<ResetLink, { kind: 'valid' }>;

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{20,64}$/;

/** Forgotten passwords: a one-use, short-lived link by e-mail sets a new one. */
export class PasswordResetService {
  constructor(private readonly deps: PasswordResetServiceDeps) {}

  private tokenHash(token: string): string {
    return keyedHash(this.deps.secret, 'password-reset', token);
  }

  /**
   * Sends a reset link to the address if an account that can log in has it. The caller learns
   * nothing: no result, and the same time either way. A disabled account gets no mail.
   */
  async request(email: string): Promise<void> {
    const started = performance.now();
    try {
      await this.queueLink(accountEmail(email));
    } finally {
      const left = (this.deps.answerMs ?? RESET_ANSWER_MS) - (performance.now() - started);
      if (left > 0) await sleep(left);
    }
  }

  private async queueLink(address: string): Promise<void> {
    if (!looksLikeEmailAddress(address)) return;
    const user = await this.deps.users.findByEmail(address);
    if (!user || user.disabled) return;
    const now = this.deps.clock.now();
    const previous = await this.deps.users.passwordResetOf(user.id);
    const previousSentAt = previous && previous.expiresAt.getTime() - RESET_MINUTES * 60_000;
    if (previous && !previous.usedAt && previousSentAt! > now.getTime() - RESET_RESEND_MS) return;

    const token = randomBytes(32).toString('base64url');
    const expires = new Date(now.getTime() + RESET_MINUTES * 60_000);
    await this.deps.db.transaction().execute(async (tx) => {
      await this.deps.users.with(tx).setPasswordReset(user.id, this.tokenHash(token), expires);
      await this.deps.mail.toAccount(
        tx,
        {
          template: 'password-reset',
          to: user.email,
          // The account's language, not the asking page's: anyone can ask for a reset of any address
          // from a page in any language, and the e-mail goes to the account's owner, who chose theirs.
          language: user.language,
          context: {
            resetUrl: this.deps.mail.links.passwordResetUrl(token, user.language),
            minutes: RESET_MINUTES,
          },
          priority: PRIORITY.confirmation,
        },
        now,
      );
    });
    this.deps.mail.wake();
  }

  /** What a link is worth now: only a genuine, unused, unexpired link of an enabled account works. */
  async link(token: string): Promise<ResetLink> {
    if (!TOKEN_SHAPE.test(token)) return { kind: 'invalid' };
    const found = await this.deps.users.findByPasswordReset(this.tokenHash(token));
    if (!found || found.user.disabled) return { kind: 'invalid' };
    if (found.usedAt) return { kind: 'used' };
    if (found.expiresAt <= this.deps.clock.now()) return { kind: 'expired' };
    return { kind: 'valid', user: found.user };
  }

  /**
   * Sets a new password through a link, which is then used up. Every session of the account ends,
   * its login throttles are cleared (the owner proved they hold the mailbox), a pending invitation
   * ends, and the audit log records it.
   */
  async reset(token: string, password: string): Promise<ResetOutcome> {
    const link = await this.link(token);
    if (link.kind !== 'valid') return link;
    const { user } = link;
    const problem = passwordProblem(password, user.email);
    if (problem) return { kind: 'refused', messageKey: problem };
    const passwordHash = await hashPassword(password);
    const now = this.deps.clock.now();
    const used = await this.deps.db.transaction().execute(async (tx) => {
      // Of two requests with the same link, only one gets past this line.
      if (!(await this.deps.users.with(tx).usePasswordReset(user.id, this.tokenHash(token), now)))
        return false;
      await this.deps.users.with(tx).setPassword(user.id, passwordHash, false, now);
      await this.deps.users.with(tx).setInvitation(user.id, null, null);
      await this.deps.sessions.with(tx).removeForUser(user.id);
      await this.deps.throttles.with(tx).clearAccount(accountThrottleKey(this.deps.secret, user.email));
      await this.deps.audit.with(tx).record(ownAccountStep(user, 'password-reset'), now);
      return true;
    });
    if (!used) return { kind: 'used' };
    return { kind: 'reset', user: (await this.deps.users.findById(user.id))! };
  }
}
