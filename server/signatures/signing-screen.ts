import type { Tx } from '../db/database.js';

/**
 * Screening a signing attempt for signs of abuse. Types only; the checks live in their own modules.
 *
 * A screened signature is answered exactly like any other (same status, same page, same e-mail), so
 * an attacker learns nothing. What screening finds is stored with the signature:
 * - `suspect` reasons silence it: it is never confirmed and never counted until an admin clears it
 *   in moderation (rate limits, block lists, a replayed or forged proof of work);
 * - `review` reasons only flag it for moderation; it counts as usual (no proof of work because the
 *   browser ran no JavaScript, a disposable e-mail domain).
 */

/** Why a signature is silenced. Stable codes: stored in the database and shown (translated) in moderation. */
export type SuspectReason =
  | 'rate-burst'
  | 'rate-sustained'
  | 'blocked-ip'
  | 'blocked-domain'
  | 'blocked-address'
  | 'proof-invalid'
  | 'proof-replayed';

/** Why a signature is flagged for review while it counts. */
export type ReviewReason = 'no-proof-of-work' | 'disposable-domain';

export interface ScreeningVerdict {
  suspect: SuspectReason[];
  review: ReviewReason[];
}

/** What a screen sees of one attempt. The e-mail address and IP are never stored in clear by screens. */
export interface SigningAttempt {
  letterId: number;
  /** The address as typed (already validated as an address). */
  email: string;
  /** The client address as Express sees it (after TRUST_PROXY). */
  ip: string | undefined;
  /** The proof-of-work payload the form sent (the ALTCHA widget's `altcha` field); undefined without JavaScript. */
  proof: string | undefined;
  now: Date;
  /**
   * The keyed hashes of the address and the client (keyedHash 'email' of emailKey, 'ip'), when the
   * caller made them already: screens that match them (block lists) need not make them again.
   */
  hashes?: { email: string; ip: string | undefined };
}

/** One check over an attempt; several are combined by the signing service. */
export interface SigningScreen {
  screen(attempt: SigningAttempt): Promise<ScreeningVerdict>;
  /**
   * For a screen that writes what it sees (the signing limits record each attempt): checks what it can
   * now and returns the rest as work for the signing's own transaction, so the record and the signature
   * share one commit instead of waiting for one each; or its verdict, when nothing is left to write.
   * When present, the signing service calls this instead of `screen`.
   */
  inTransaction?(attempt: SigningAttempt): Promise<ScreeningVerdict | ScreenInTransaction>;
}

/** The part of a screen that runs inside the signing's transaction (SigningScreen.inTransaction). */
export type ScreenInTransaction = (tx: Tx) => Promise<ScreeningVerdict>;

export const NO_FINDINGS: ScreeningVerdict = Object.freeze({ suspect: [], review: [] }) as ScreeningVerdict;
