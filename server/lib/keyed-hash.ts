import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * HMAC-SHA256 of a value under the platform secret, scoped by purpose so a hash made for one use
 * (an e-mail key) can never stand in for another (a token). Without the secret it cannot be reversed
 * or guessed from a list of addresses.
 */
export function keyedHash(secret: string, purpose: string, value: string): string {
  return createHmac('sha256', secret).update(`${purpose}\u0000${value}`).digest('base64url');
}

/** Compares two strings in constant time (for tokens). */
export function sameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
