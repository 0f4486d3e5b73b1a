import { ipKeyGenerator } from 'express-rate-limit';
import type { GroupCommit } from '../db/group-commit.js';
import type { Clock } from '../lib/clock.js';
import { keyedHash } from '../lib/keyed-hash.js';
import {
  NO_FINDINGS,
  type ScreenInTransaction,
  type ScreeningVerdict,
  type SigningAttempt,
  type SigningScreen,
} from '../signatures/signing-screen.js';
import type { LimitRepository } from './limit-repository.js';
import { longestWindowMs, rateReasons, type SigningLimits } from './signing-limits.js';

/**
 * The signing limits as a screen: every attempt is recorded in the database under a keyed hash of
 * client address and letter, and one past a limit is marked suspect (`rate-burst`, `rate-sustained`).
 * The attempt is recorded before it is counted, in the signing's own transaction, holding its key until
 * that transaction ends (SQLite's single writer; a lock per key on PostgreSQL, LimitRepository): of two
 * attempts at the same moment, even in two processes, the later one sees the earlier, so a race errs
 * towards marking, never towards letting one through.
 */
export class SigningLimitScreen implements SigningScreen {
  constructor(
    private readonly deps: {
      limits: LimitRepository;
      /** Screened on its own (`screen`), the attempt is recorded in a commit shared with the other writes of the moment. */
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

  /** Screens an attempt on its own, its record committed with the other writes of the moment. */
  async screen(attempt: SigningAttempt): Promise<ScreeningVerdict> {
    const found = await this.inTransaction(attempt);
    return typeof found === 'function' ? this.deps.writes.run(found) : found;
  }

  /**
   * Decides outside any transaction whether the attempt is limited at all (the exemption reads the
   * allow lists); the record and the count then run in the signing's transaction, recorded first.
   */
  async inTransaction(attempt: SigningAttempt): Promise<ScreeningVerdict | ScreenInTransaction> {
    // Without a client address there is nothing to key a limit on (a misconfigured proxy); other screens still run.
    if (!attempt.ip) return NO_FINDINGS;
    if (this.deps.exempt && (await this.deps.exempt(attempt))) return NO_FINDINGS;
    const { secret, signingLimits } = this.deps;
    // An IPv6 client holds a whole block of addresses: the limit keys on the block (/56), as the request limits do.
    const key = keyedHash(secret, 'signing-limit', `${attempt.letterId}\u0000${ipKeyGenerator(attempt.ip)}`);
    const now = attempt.now.getTime();
    return async (tx) => {
      const limits = this.deps.limits.with(tx);
      await limits.recordSigningHit(key, attempt.now);
      const counted = await limits.countSigningHitsSince(key, {
        burst: new Date(now - signingLimits.burst.seconds * 1000),
        sustained: new Date(now - signingLimits.sustained.seconds * 1000),
      });
      return {
        suspect: rateReasons(signingLimits, {
          inBurstWindow: counted.burst,
          inSustainedWindow: counted.sustained,
        }),
        review: [],
      };
    };
  }
}

/** Forgets what the limits no longer need; for the scheduler. */
export function pruneLimits(limits: LimitRepository, signingLimits: SigningLimits, clock: Clock) {
  const now = clock.now();
  return limits.prune(new Date(now.getTime() - longestWindowMs(signingLimits)), now);
}
