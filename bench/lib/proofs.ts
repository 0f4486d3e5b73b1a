/**
 * Solved proofs of work for the signing benchmark with PROOF_OF_WORK=1.
 *
 * A real challenge from /altcha/challenge takes about a second of CPU to solve (that is its point), so
 * solving thousands before a timed run is out of reach on 2 cores. The server's check does not depend
 * on that cost: it verifies the HMAC of the derived key the challenge carries, then records the
 * challenge as used. So the benchmark makes its challenges itself, with the same parameters as the
 * server's (taken from a real one) and signed with the server's keys (it knows SECRET_KEY), but with
 * the answer at counter 0: each is solved with one key derivation, and the server does exactly the
 * work it does for a proof a browser solved. The scope strings below are those of
 * server/abuse/proof-of-work.ts: if they change there, every proof here is refused, and the benchmark
 * says so (no signature would be acknowledged as valid: see the proof count it prints).
 */
import { createChallenge, solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { keyedHash } from '../../server/lib/keyed-hash.js';

/** `count` base64 payloads, as the widget sends them in the form's `altcha` field. */
export async function solvedProofs(url: string, secret: string, count: number): Promise<string[]> {
  const response = await fetch(`${url}/altcha/challenge`);
  if (!response.ok) throw new Error(`/altcha/challenge answered ${response.status}: is PROOF_OF_WORK on?`);
  const real = ((await response.json()) as Challenge).parameters;
  const proofs: string[] = [];
  for (let i = 0; i < count; i++) {
    const challenge = await createChallenge({
      algorithm: real.algorithm,
      cost: real.cost,
      keyLength: real.keyLength,
      counter: 0,
      deriveKey,
      hmacSignatureSecret: keyedHash(secret, 'altcha-challenge', ''),
      hmacKeySignatureSecret: keyedHash(secret, 'altcha-key', ''),
      expiresAt: new Date((real.expiresAt ?? Date.now() / 1000 + 600) * 1000),
    });
    const solution = await solveChallenge({ challenge, deriveKey });
    if (!solution) throw new Error('a challenge at counter 0 was not solved');
    proofs.push(Buffer.from(JSON.stringify({ challenge, solution })).toString('base64'));
  }
  return proofs;
}
