import { randomBytes, randomUUID } from 'node:crypto';

/** A random, URL-safe reference of 128 bits: not guessable, carries no meaning. */
export function randomRef(): string {
  return randomBytes(16).toString('base64url');
}

/** A globally unique id for a Message-ID header, in the sender's domain. */
export function newMessageId(domain: string): string {
  return `<${randomUUID()}@${domain}>`;
}
