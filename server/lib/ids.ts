import { randomBytes } from 'node:crypto';

const REF_BYTES = 16;
/**
 * Random bytes drawn in blocks: each call into the system's generator costs far more than 16 bytes of
 * its output (~1 % of a signing, which makes two references), so refs are cut from a block of 256.
 * Each is handed out once and zeroed at once, so the block never holds a reference already in use.
 */
const POOL_BYTES = REF_BYTES * 256;
let pool = Buffer.alloc(0);
let taken = 0;

/** A random, URL-safe reference of 128 bits: not guessable, carries no meaning. */
export function randomRef(): string {
  if (taken + REF_BYTES > pool.length) {
    pool = randomBytes(POOL_BYTES);
    taken = 0;
  }
  const ref = pool.toString('base64url', taken, taken + REF_BYTES);
  pool.fill(0, taken, taken + REF_BYTES);
  taken += REF_BYTES;
  return ref;
}

/**
 * A globally unique id for a Message-ID header, in the sender's domain: the time in milliseconds (12 hex
 * digits, so ids sort by the time they were made) and 128 random bits. Every signing queues a message,
 * and the queue's unique index on this id then grows at its end, where a random id made each signing
 * write a page of the index of its own (issue 12). The time says no more than the Date header beside it.
 */
export function newMessageId(domain: string, now = Date.now()): string {
  return `<${now.toString(16).padStart(12, '0')}.${randomRef()}@${domain}>`;
}
