import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id; the enum is a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2;

/** Argon2id's cost: the library's defaults (19 MiB, 2 passes, 1 lane: the OWASP baseline), cheap enough for a 2-core host. */
export const PASSWORD_HASH_COST: Readonly<HashCost> = Object.freeze({
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
});

/** Argon2's cost parameters, as the hash's PHC string records them (m=, t=, p=). */
export interface HashCost {
  /** KiB of memory. */
  memoryCost: number;
  /** Passes over it. */
  timeCost: number;
  /** Lanes. */
  parallelism: number;
}

let cost: Readonly<HashCost> = PASSWORD_HASH_COST;

/**
 * Tests only (tests/support/password-cost-setup.ts): hashes made from now on in this process use `next`
 * (`PASSWORD_HASH_COST` again to go back). The suite creates thousands of accounts, each a hash or two
 * and a login at ~50 ms of CPU apiece at the production cost; verifying reads the cost from the hash, so
 * a login checks a test account's password at the cost it was made with. A unit test checks that the
 * app hashes at PASSWORD_HASH_COST.
 */
export function hashPasswordsAtCost(next: Readonly<HashCost>): void {
  cost = next;
}

/** Argon2id at PASSWORD_HASH_COST. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID, ...cost });
}

/** Whether `password` matches `hashed`; false (never a throw) for a malformed hash. */
export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password);
  } catch {
    return false;
  }
}

// Verified against when no account has the address, so a wrong address takes as long as a wrong password.
let decoy: Promise<string> | undefined;
/** A hash of a random password, made once per process. */
export function decoyHash(): Promise<string> {
  decoy ??= hashPassword(randomBytes(16).toString('hex'));
  return decoy;
}

// No 0/O, 1/l/I: the password is read off a console and typed by hand.
const READABLE = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';

/** A one-time password of 20 readable characters (about 115 bits). */
export function oneTimePassword(): string {
  const bytes = randomBytes(20);
  return Array.from(bytes, (b) => READABLE[b % READABLE.length]).join('');
}
