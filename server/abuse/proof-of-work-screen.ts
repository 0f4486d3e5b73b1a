import type { ProofOfWork } from './proof-of-work.js';
import {
  NO_FINDINGS,
  type ScreeningVerdict,
  type SigningAttempt,
  type SigningScreen,
} from '../signatures/signing-screen.js';

/**
 * The proof of work the signing form's widget sends. Valid: nothing to say. Forged, expired or for
 * another secret: `proof-invalid`; a solution sent a second time: `proof-replayed` (both silence the
 * signature). None at all means the browser ran no JavaScript, which people do for good reasons
 * (Tor Browser's safest level, for one): the signature counts, and is flagged for review.
 */
export class ProofOfWorkScreen implements SigningScreen {
  /** `proofOfWork` undefined: verification is switched off (PROOF_OF_WORK=0, benchmarks only). */
  constructor(private readonly proofOfWork: ProofOfWork | undefined) {}

  async screen(attempt: SigningAttempt): Promise<ScreeningVerdict> {
    if (!this.proofOfWork) return NO_FINDINGS;
    if (attempt.proof === undefined || attempt.proof === '')
      return { suspect: [], review: ['no-proof-of-work'] };
    switch (await this.proofOfWork.check(attempt.proof)) {
      case 'valid':
        return NO_FINDINGS;
      case 'invalid':
        return { suspect: ['proof-invalid'], review: [] };
      case 'replayed':
        return { suspect: ['proof-replayed'], review: [] };
    }
  }
}
