/** Accounts (admins and organizers): types and pure rules. No I/O here. Supporters have no account. */

export const ROLES = ['admin', 'organizer'] as const;
export type Role = (typeof ROLES)[number];

export interface User {
  id: number;
  email: string;
  role: Role;
  mustChangePassword: boolean;
  disabled: boolean;
  lastLoginAt: Date | null;
  createdAt: Date;
}

/** Account addresses are compared trimmed and lower-cased (unlike supporters', no Gmail folding: staff use work mail). */
export function accountEmail(address: string): string {
  return address.trim().toLowerCase();
}

export const PASSWORD_MIN_LENGTH = 12;
export const PASSWORD_MAX_LENGTH = 256;

/** Why a new password is refused (an i18n key), or null when it is acceptable. Length over rules, as NIST 800-63B advises. */
export function passwordProblem(password: string, email: string): string | null {
  // Characters as a person counts them (code points), not UTF-16 units: an emoji is one character.
  const length = [...password].length;
  if (length < PASSWORD_MIN_LENGTH) return 'account.errors.passwordTooShort';
  if (length > PASSWORD_MAX_LENGTH) return 'account.errors.passwordTooLong';
  if (password.trim().toLowerCase() === accountEmail(email)) return 'account.errors.passwordIsEmail';
  if (new Set(password).size < 4) return 'account.errors.passwordTooSimple';
  return null;
}

/**
 * How failed logins slow down and then lock an address: the first few are free (typos); then each
 * failure makes the next attempt wait longer; after many, the address is locked for a while.
 */
export interface LoginPolicy {
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
  lockAfterFailures: number;
  lockMs: number;
}

export const LOGIN_POLICY: LoginPolicy = {
  freeFailures: 3,
  firstDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  lockAfterFailures: 10,
  lockMs: 15 * 60_000,
} as const;

/** Until when the next attempt must wait after `failures` failed attempts in a row; null when it need not. */
export function waitAfterFailures(
  failures: number,
  now: Date,
  policy: LoginPolicy = LOGIN_POLICY,
): Date | null {
  if (failures < policy.freeFailures) return null;
  if (failures >= policy.lockAfterFailures) return new Date(now.getTime() + policy.lockMs);
  const delay = Math.min(policy.maxDelayMs, policy.firstDelayMs * 2 ** (failures - policy.freeFailures));
  return new Date(now.getTime() + delay);
}

/** Whole minutes (at least 1) a person must wait, for messages. */
export function minutesToWait(until: Date, now: Date): number {
  return Math.max(1, Math.ceil((until.getTime() - now.getTime()) / 60_000));
}

/** Who may see and change a letter: admins, its owner, and the organizers it was shared with. */
export function canAccessLetter(
  user: Pick<User, 'id' | 'role'>,
  ownerId: number | null,
  collaboratorIds: readonly number[],
): boolean {
  return user.role === 'admin' || ownerId === user.id || collaboratorIds.includes(user.id);
}

/**
 * Where to go after logging in: only a path on this site (never `//host` or a full URL, which would let
 * a crafted link send someone elsewhere after they typed their password).
 */
export function safeNextPath(next: unknown, fallback = '/admin'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
    return fallback;
  // eslint-disable-next-line no-control-regex -- control characters in a redirect target are refused
  if (/[\u0000-\u001f\u007f]/.test(next) || next.length > 500) return fallback;
  return next;
}
