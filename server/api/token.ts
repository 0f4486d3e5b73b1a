import { createHash, randomBytes } from 'node:crypto';
import { UNSAFE_IN_A_LINE, visibleTrim } from '../lib/unsafe-text.js';

/**
 * Organizer API tokens: pure rules, time passed in. A token is 256 random bits behind a fixed prefix
 * (`ust_`, so a leaked one is recognisable in logs and by secret scanners). Only its SHA-256 is stored:
 * with that much entropy a plain hash cannot be reversed or guessed, and it is looked up by equality.
 */

export const TOKEN_PREFIX = 'ust_';
/** How many of a token's first characters are kept to tell tokens apart: the prefix and 6 more (36 bits). */
const SHOWN_CHARACTERS = TOKEN_PREFIX.length + 6;
const TOKEN_PATTERN = /^ust_[A-Za-z0-9_-]{43}$/;

export const TOKEN_NAME_MAX = 80;
/** Lifetimes offered when creating a token, in days; 0 is "never expires". */
export const TOKEN_LIFETIMES = [30, 90, 365, 0] as const;
export type TokenLifetime = (typeof TOKEN_LIFETIMES)[number];

export interface ApiToken {
  id: number;
  userId: number;
  name: string;
  prefix: string;
  createdAt: Date;
  expiresAt: Date | null;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

export type TokenState = 'active' | 'expired' | 'revoked';

/** A new token: the secret to show once, its hash to store, and the prefix to show afterwards. */
export function newToken(): { token: string; hash: string; prefix: string } {
  const token = `${TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: tokenHash(token), prefix: token.slice(0, SHOWN_CHARACTERS) };
}

/** The stored form of a token. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('base64url');
}

/**
 * The token of an `Authorization: Bearer <token>` header, or undefined when the header is missing or
 * is not one of ours (checked by shape before any lookup, so junk costs no query).
 */
export function bearerToken(header: string | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
  const token = match?.[1];
  return token !== undefined && TOKEN_PATTERN.test(token) ? token : undefined;
}

/** Whether a token may be used at `now`. */
export function tokenState(token: Pick<ApiToken, 'expiresAt' | 'revokedAt'>, now: Date): TokenState {
  if (token.revokedAt) return 'revoked';
  if (token.expiresAt && token.expiresAt.getTime() <= now.getTime()) return 'expired';
  return 'active';
}

/** When a token made at `now` with this lifetime expires (null: never). */
export function expiryOf(lifetime: TokenLifetime, now: Date): Date | null {
  return lifetime === 0 ? null : new Date(now.getTime() + lifetime * 86_400_000);
}

/** The token form as typed: a name and a lifetime; errors are i18n keys per field. */
export function parseTokenForm(
  body: Record<string, unknown>,
):
  | { ok: true; name: string; lifetime: TokenLifetime }
  | { ok: false; name: string; lifetime: string; errors: Record<string, string> } {
  const name = typeof body.name === 'string' ? visibleTrim(body.name) : '';
  const lifetimeText = typeof body.lifetime === 'string' ? body.lifetime : '';
  const errors: Record<string, string> = {};
  if (name === '') errors.name = 'webhooks.tokens.errors.nameMissing';
  else if ([...name].length > TOKEN_NAME_MAX || UNSAFE_IN_A_LINE.test(name))
    errors.name = 'webhooks.tokens.errors.nameInvalid';
  const lifetime = TOKEN_LIFETIMES.find((days) => String(days) === lifetimeText);
  if (lifetime === undefined) errors.lifetime = 'webhooks.tokens.errors.lifetime';
  if (Object.keys(errors).length > 0 || lifetime === undefined)
    return { ok: false, name, lifetime: lifetimeText, errors };
  return { ok: true, name, lifetime };
}
