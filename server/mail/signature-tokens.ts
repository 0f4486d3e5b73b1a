import { keyedHash, sameSecret } from '../lib/keyed-hash.js';

/**
 * Links in e-mails carry `<ref>.<mac>`: the signature's random reference and an HMAC of it for one
 * purpose. Nothing secret is stored, the links stay valid across re-sends, and a confirm link cannot be
 * turned into a withdraw link. Kept in mail/ (the kernel) because e-mails carry them: services build
 * and read the links through MailLinks; only it and tests call these two functions.
 */
export type TokenPurpose = 'confirm' | 'withdraw' | 'unsubscribe' | 'erase' | 'receipt';

const MAC_LENGTH = 32;

/** The token of a signature's link for one purpose: `<ref>.<mac>`. */
export function signatureToken(secret: string, ref: string, purpose: TokenPurpose): string {
  return `${ref}.${keyedHash(secret, `signature-${purpose}`, ref).slice(0, MAC_LENGTH)}`;
}

/** The signature reference a token stands for, or null when the token is malformed or forged. */
export function refFromToken(secret: string, token: string, purpose: TokenPurpose): string | null {
  const match = /^([A-Za-z0-9_-]{16,64})\.([A-Za-z0-9_-]{32})$/.exec(token);
  if (!match) return null;
  const ref = match[1]!;
  return sameSecret(signatureToken(secret, ref, purpose), token) ? ref : null;
}
