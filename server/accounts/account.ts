/** Accounts (admins and organizers): types and pure rules. No I/O here. Supporters have no account. */
import { keyedHash } from '../lib/keyed-hash.js';

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
  /** The language the platform's e-mails to the account are written in. */
  language: string;
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
 * How failed logins slow down and then lock: the first few are free (typos); then each failure makes
 * the next attempt wait longer; after many, attempts are locked out for a while.
 */
export interface LoginPolicy {
  freeFailures: number;
  firstDelayMs: number;
  maxDelayMs: number;
  lockAfterFailures: number;
  lockMs: number;
}

/**
 * Failures of one address from one client address (IP). Only that pair is locked: an attacker who
 * guesses from their connection never stops the owner logging in from another.
 */
export const LOGIN_POLICY: LoginPolicy = {
  freeFailures: 3,
  firstDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  lockAfterFailures: 10,
  lockMs: 15 * 60_000,
} as const;

/**
 * Failures of one address from every client address: guesses spread over many connections. It slows
 * (a minute at most) and never locks, and a locked pair's failures no longer feed it, so one client
 * adds at most LOGIN_POLICY.lockAfterFailures to it: slowing an account takes several connections.
 */
export const ACCOUNT_LOGIN_POLICY: LoginPolicy = {
  freeFailures: 30,
  firstDelayMs: 1_000,
  maxDelayMs: 60_000,
  lockAfterFailures: Number.POSITIVE_INFINITY,
  lockMs: 0,
} as const;

/** Failures from one client address across every address tried: stops one connection trying many accounts. */
export const CLIENT_LOGIN_POLICY: LoginPolicy = {
  freeFailures: 20,
  firstDelayMs: 5_000,
  maxDelayMs: 5 * 60_000,
  lockAfterFailures: 50,
  lockMs: 60 * 60_000,
} as const;

/** The keyed hashes login throttles are stored under: never the address or the IP itself. */
export function loginThrottleKeys(
  secret: string,
  address: string,
  client: string,
): { pair: string; account: string; client: string } {
  const normal = accountEmail(address);
  return {
    pair: keyedHash(secret, 'login-pair', `${normal}\u0000${client}`),
    account: accountThrottleKey(secret, normal),
    client: keyedHash(secret, 'login-client', client),
  };
}

/** The keyed hash that ties an address's throttles together (the admin's unlock clears them by it). */
export function accountThrottleKey(secret: string, address: string): string {
  return keyedHash(secret, 'login-account', accountEmail(address));
}

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

/**
 * Where to go after logging in: only a path on this site (never `//host` or a full URL, which would let
 * a crafted link send someone elsewhere after they typed their password).
 */
export function safeNextPath(next: unknown, fallback = '/admin'): string {
  if (typeof next !== 'string' || !next.startsWith('/') || next.startsWith('//') || next.includes('\\'))
    return fallback;
  // eslint-disable-next-line no-control-regex -- control characters in a redirect target are refused
  if (/[\u0000-\u001f\u007f]/.test(next) || next.length > 500) return fallback;
  // A URL parser resolves dot segments: "/.//evil.example" becomes the path "//evil.example", which a
  // browser reads as another site once it is written out again (as a notice added to the path is).
  if (new URL(next, 'http://local').pathname.startsWith('//')) return fallback;
  return next;
}
