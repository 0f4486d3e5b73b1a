import { ipKeyGenerator } from 'express-rate-limit';
import type { GroupCommit } from '../db/group-commit.js';
import type { Clock } from '../lib/clock.js';
import { keyedHash } from '../lib/keyed-hash.js';
import type { ScreeningVerdict, SigningAttempt, SigningScreen } from '../signatures/signing-screen.js';
import type { LimitRepository } from './limit-repository.js';
import { longestWindowMs, rateReasons, type SigningLimits } from './signing-limits.js';

/**
 * The signing limits as a screen: every attempt is recorded in the database under a keyed hash of
 * client address and letter, and one past a limit is marked suspect (`rate-burst`, `rate-sustained`).
 * The attempt is recorded before it is counted, so two attempts at the same moment, even in two
 * processes, both see each other: a race errs towards marking, never towards letting one through.
 */
export class SigningLimitScreen implements SigningScreen {
  constructor(
    private readonly deps: {
      limits: LimitRepository;
      /** The attempt is recorded in a commit shared with the other signings of the moment. */
      writes: GroupCommit;
      secret: string;
      signingLimits: SigningLimits;
      /**
       * Whether an attempt is exempt from the limits: where an admin allow-listed it comes from (an
       * office or campus network where many sign from one address). Such attempts are not even counted.
       */
      exempt?: (attempt: SigningAttempt) => Promise<boolean>;
    },
  ) {}

  async screen(attempt: SigningAttempt): Promise<ScreeningVerdict> {
    // Without a client address there is nothing to key a limit on (a misconfigured proxy); other screens still run.
    if (!attempt.ip) return { suspect: [], review: [] };
    if (this.deps.exempt && (await this.deps.exempt(attempt))) return { suspect: [], review: [] };
    const { limits, writes, secret, signingLimits } = this.deps;
    // An IPv6 client holds a whole block of addresses: the limit keys on the block (/56), as the request limits do.
    const key = keyedHash(secret, 'signing-limit', `${attempt.letterId}\u0000${ipKeyGenerator(attempt.ip)}`);
    const now = attempt.now.getTime();
    await writes.run((tx) => limits.with(tx).recordSigningHit(key, attempt.now));
    const counted = await limits.countSigningHitsSince(key, {
      a: new Date(now - signingLimits.burst.seconds * 1000),
      b: new Date(now - signingLimits.sustained.seconds * 1000),
    });
    const inBurstWindow = counted.a;
    const inSustainedWindow = counted.b;
    return { suspect: rateReasons(signingLimits, { inBurstWindow, inSustainedWindow }), review: [] };
  }
}

/** Forgets what the limits no longer need; for the scheduler. */
export function pruneLimits(limits: LimitRepository, signingLimits: SigningLimits, clock: Clock) {
  const now = clock.now();
  return limits.prune(new Date(now.getTime() - longestWindowMs(signingLimits)), now);
}
