import type { Tx } from '../db/database.js';

/**
 * What the letters' admin side reads about signatures. Letters sit below signatures, so they do not
 * import them: wiring.ts passes the signature repository, which has these methods.
 */
export interface SignatureFigures {
  /** The same figures read inside a transaction. */
  with(tx: Tx): SignatureFigures;
  /** Confirmed signatures per letter and UTC day since `since`. */
  confirmedPerDay(
    letterIds: readonly number[],
    since: Date,
  ): Promise<{ letterId: number; day: string; count: number }[]>;
  /** Signatures that stand (pending or confirmed, not suspect), by the letter version they signed. */
  countStandingByVersion(letterId: number): Promise<Map<number, number>>;
  /** Signatures held by screening (suspect, not counted until an admin clears them), per letter; none left out. */
  heldPerLetter(letterIds: readonly number[]): Promise<Map<number, number>>;
}
