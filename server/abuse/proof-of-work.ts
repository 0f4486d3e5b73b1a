/**
 * Self-hosted proof of work (ALTCHA): the challenge the signing form's widget solves, and the check
 * of what it sends back. A solution is accepted once.
 *
 * Times here are the system clock, not the platform's Clock: altcha-lib writes and checks a
 * challenge's expiry against Date.now(), so the replay record must follow the same time.
 */
import { createChallenge, randomInt, verifySolution, type Challenge, type Payload } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { keyedHash } from '../lib/keyed-hash.js';
import type { ProofOfWorkRepository } from './proof-of-work-repository.js';

/** What a submitted proof is worth. */
export type ProofCheck = 'valid' | 'invalid' | 'replayed';

/**
 * PBKDF2 with 1,000 iterations per try and the answer somewhere between 1,000 and 5,000 tries: about
 * a second on a phone with the widget's workers, and a second of CPU per signature for a bot. The
 * server checks an answer with one HMAC (the derived key is signed when the challenge is made).
 */
const ALGORITHM = 'PBKDF2/SHA-256';
const COST = 1_000;
const COUNTER_MIN = 1_000;
const COUNTER_MAX = 5_000;
/** Long enough to fill in the form after the widget has solved it; short enough to be worth little to a bot. */
export const CHALLENGE_TTL_MS = 20 * 60_000;
/** A payload larger than this is not something the widget sent. */
const MAX_PAYLOAD_LENGTH = 4_000;

export class ProofOfWork {
  private readonly signatureSecret: string;
  private readonly keySecret: string;

  constructor(
    secret: string,
    private readonly solutions: ProofOfWorkRepository,
    private readonly now: () => number = Date.now,
  ) {
    // Scoped keys, so a challenge signature can never stand in for any other token of the platform.
    this.signatureSecret = keyedHash(secret, 'altcha-challenge', '');
    this.keySecret = keyedHash(secret, 'altcha-key', '');
  }

  /** A new signed challenge for the widget. */
  async challenge(): Promise<Challenge> {
    return createChallenge({
      algorithm: ALGORITHM,
      cost: COST,
      counter: randomInt(COUNTER_MIN, COUNTER_MAX),
      deriveKey,
      hmacSignatureSecret: this.signatureSecret,
      hmacKeySignatureSecret: this.keySecret,
      expiresAt: new Date(this.now() + CHALLENGE_TTL_MS),
    });
  }

  /** Checks the widget's payload (base64 JSON), and records it as used when it is valid. */
  async check(payloadText: string): Promise<ProofCheck> {
    const payload = parsePayload(payloadText);
    if (!payload) return 'invalid';
    const { challenge, solution } = payload;
    const expiresAt = challenge.parameters.expiresAt;
    // A challenge without an expiry was not made here (ours always have one): refused before any work.
    if (typeof expiresAt !== 'number' || expiresAt * 1000 < this.now()) return 'invalid';
    let verified = false;
    try {
      const result = await verifySolution({
        challenge,
        solution,
        deriveKey,
        hmacSignatureSecret: this.signatureSecret,
        hmacKeySignatureSecret: this.keySecret,
      });
      verified = result.verified;
    } catch {
      // altcha-lib throws on malformed parameters (a forged payload): that is an invalid proof.
      verified = false;
    }
    if (!verified) return 'invalid';
    const fresh = await this.solutions.markUsed(challenge.parameters.nonce, expiresAt * 1000);
    return fresh ? 'valid' : 'replayed';
  }

  /** Forgets used solutions whose challenges have expired (the scheduler runs this). */
  async pruneUsed(): Promise<number> {
    return this.solutions.pruneExpired(this.now());
  }
}

function parsePayload(text: string): Payload | undefined {
  if (text.length === 0 || text.length > MAX_PAYLOAD_LENGTH) return undefined;
  try {
    const value = JSON.parse(Buffer.from(text, 'base64').toString('utf8')) as unknown;
    if (!value || typeof value !== 'object') return undefined;
    const { challenge, solution } = value as Partial<Payload>;
    if (!challenge || typeof challenge !== 'object' || !solution || typeof solution !== 'object')
      return undefined;
    const parameters = (challenge as Partial<Challenge>).parameters;
    if (!parameters || typeof parameters !== 'object' || typeof parameters.nonce !== 'string')
      return undefined;
    return { challenge, solution };
  } catch {
    return undefined;
  }
}
