import { randomBytes } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';

// Algorithm.Argon2id; the enum is a const enum, which verbatimModuleSyntax cannot import.
const ARGON2ID = 2;

/** Argon2id with the library's defaults (19 MiB, 2 passes: the OWASP baseline), so hashes stay cheap enough for a 2-core host. */
export async function hashPassword(password: string): Promise<string> {
  return hash(password, { algorithm: ARGON2ID });
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
