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

export const DEFAULT_SIGNING_LIMITS: SigningLimits = Object.freeze({
  burst: Object.freeze({ count: 1, seconds: 60 }),
  sustained: Object.freeze({ count: 5, seconds: 300 }),
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
