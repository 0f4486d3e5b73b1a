/** Signing limits: pure rules. How many signings one client address may make on one letter, and when. */
import type { SuspectReason } from '../signatures/signing-screen.js';

/** At most `count` signings in any `seconds`. */
export interface Window {
  readonly count: number;
  readonly seconds: number;
}

/** The two limits per client address and letter: a short burst and a longer, sustained one. */
export interface SigningLimits {
  readonly burst: Window;
  readonly sustained: Window;
}

/**
 * Three in a minute, ten in ten minutes (2026-12-07; docs/decisions/2026-12-07-signing-limits-for-shared-addresses.md):
 * a household or a small group signs together from one address, and mobile carriers put many people
 * behind one; one a minute held the second of two people on a sofa until an admin cleared it. The
 * confirmation e-mail, the proof of work and the disposable-domain list stay the defences against
 * signatures made in bulk; these limits catch what still comes from one address.
 */
export const DEFAULT_SIGNING_LIMITS: SigningLimits = Object.freeze({
  burst: Object.freeze({ count: 3, seconds: 60 }),
  sustained: Object.freeze({ count: 10, seconds: 600 }),
});

/** How far back hits are needed: the longer of the two windows. Older hits can be pruned. */
export function longestWindowMs(limits: SigningLimits): number {
  return Math.max(limits.burst.seconds, limits.sustained.seconds) * 1000;
}

/**
 * Which limits an attempt breaks, given how many attempts (this one included) the address made on the
 * letter within each window. Over the burst limit is `rate-burst`; over the sustained one, `rate-sustained`.
 */
export function rateReasons(
  limits: SigningLimits,
  attempts: { inBurstWindow: number; inSustainedWindow: number },
): SuspectReason[] {
  const reasons: SuspectReason[] = [];
  if (attempts.inBurstWindow > limits.burst.count) reasons.push('rate-burst');
  if (attempts.inSustainedWindow > limits.sustained.count) reasons.push('rate-sustained');
  return reasons;
}
