/**
 * The one way a signature's status changes (DESIGN convention 16): the compare-and-set on the status
 * and every counter that depends on it, in the caller's transaction. Signing again after withdrawing,
 * confirming, withdrawing, invalidating, restoring, clearing a suspect one and bulk moderation all
 * come here; nothing else writes a signature's status or the counters (`letters.signature_count`,
 * `letter_country_counts`), apart from erasure taking signatures out of the figures by country
 * (leaveCountryFigures, below) and migrations that recount rows.
 */
import type { Tx } from '../db/database.js';
import type { SignatureUpdate } from '../db/tables.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { canMove, countedCountry, counts, type Signature, type SignatureStatus } from './signature.js';
import type { SignatureRepository } from './signature-repository.js';

/** One status change of one signature. */
export interface SignatureMove {
  id: number;
  from: SignatureStatus;
  to: SignatureStatus;
  /** Why it is invalidated (kept with it, shown in moderation); only for a move to `invalidated`. */
  reason?: string | undefined;
  /** Other columns the same statement sets: what a withdrawn supporter signing again entered now. */
  details?: SignatureUpdate | undefined;
}

/** The repositories a move writes to: the signature, and the letter's counters that move with it. */
export interface MoveRepositories {
  signatures: SignatureRepository;
  letters: Pick<
    LetterRepository,
    'with' | 'addToSignatureCount' | 'addToCountryCount' | 'closeIfGoalReached'
  >;
}

/** The longest invalidation reason kept. */
export const REASON_MAX_LENGTH = 500;

/**
 * Moves one signature and its counters, in the caller's transaction: the signature as it now is, or
 * undefined if it was no longer in `from` (or, to confirm, screening silenced it). Throws, changing
 * nothing, on a move SIGNATURE_TRANSITIONS does not allow.
 */
export async function moveSignature(
  tx: Tx,
  repositories: MoveRepositories,
  move: SignatureMove,
  now: Date,
): Promise<Signature | undefined> {
  const [moved] = await moveSignatures(tx, repositories, [move], now);
  return moved;
}

/**
 * Moves many signatures, each compare-and-set, then every counter once per letter and country by
 * what really moved; a letter whose count went up is closed if that reached its closing goal, so
 * the signature that reaches it is the last one counted. Returns the signatures that moved.
 */
export async function moveSignatures(
  tx: Tx,
  repositories: MoveRepositories,
  moves: readonly SignatureMove[],
  now: Date,
): Promise<Signature[]> {
  // Every move is checked before any is made: an illegal one changes nothing at all.
  for (const { from, to } of moves)
    if (!canMove(from, to)) throw new Error(`illegal signature transition ${from} → ${to}`);
  const signatures = repositories.signatures.with(tx);
  const moved: Signature[] = [];
  const deltas = new Map<string, { letterId: number; country: string | undefined; delta: number }>();
  for (const move of moves) {
    const signature = await signatures.compareAndSetStatus(
      move.id,
      move.from,
      move.to,
      { ...stampsOf(move, now), ...move.details },
      // Never confirmed while screening has silenced it (isSuspect), whichever way it is confirmed.
      { notSuspect: move.to === 'confirmed' },
    );
    if (!signature) continue;
    moved.push(signature);
    const delta = Number(counts(move.to)) - Number(counts(move.from));
    if (delta === 0) continue;
    // The row's own letter and country, as the statement returned them (no country when not shown).
    const country = countedCountry(signature);
    const key = `${signature.letterId}/${country ?? ''}`;
    const entry = deltas.get(key) ?? { letterId: signature.letterId, country, delta: 0 };
    entry.delta += delta;
    deltas.set(key, entry);
  }
  if (deltas.size === 0) return moved;
  const letters = repositories.letters.with(tx);
  const grown = new Set<number>();
  for (const { letterId, country, delta } of deltas.values()) {
    if (delta === 0) continue;
    await letters.addToSignatureCount(letterId, delta, country);
    if (delta > 0) grown.add(letterId);
  }
  for (const letterId of grown) await letters.closeIfGoalReached(letterId, now);
  return moved;
}

/**
 * Takes signatures about to be erased (anonymised: no longer shown) out of their letters' figures by
 * country, in the caller's transaction, before they lose their display: they still count, but are no
 * longer placed in a country (countedCountry). Only counted ones that were shown are in those figures.
 */
export async function leaveCountryFigures(
  tx: Tx,
  repositories: MoveRepositories,
  signatures: readonly Pick<Signature, 'letterId' | 'country' | 'display' | 'status'>[],
): Promise<void> {
  const deltas = new Map<string, { letterId: number; country: string; delta: number }>();
  for (const signature of signatures) {
    const country = countedCountry(signature);
    if (!counts(signature.status) || country === undefined) continue;
    const key = `${signature.letterId}/${country}`;
    const entry = deltas.get(key) ?? { letterId: signature.letterId, country, delta: 0 };
    entry.delta -= 1;
    deltas.set(key, entry);
  }
  const letters = repositories.letters.with(tx);
  for (const { letterId, country, delta } of deltas.values())
    await letters.addToCountryCount(letterId, country, delta);
}

/** The dates and records that go with a move, written once: when it was confirmed, withdrawn, invalidated. */
function stampsOf(move: SignatureMove, now: Date): SignatureUpdate {
  const at = now.toISOString();
  const stamps: SignatureUpdate = { updated_at: at };
  if (move.from === 'pending' && move.to === 'confirmed') stamps.confirmed_at = at;
  if (move.to === 'withdrawn') stamps.withdrawn_at = at;
  // Signing again after withdrawing starts over: not confirmed, not withdrawn.
  if (move.from === 'withdrawn') Object.assign(stamps, { confirmed_at: null, withdrawn_at: null });
  if (move.to === 'invalidated') {
    // What it was is kept, so restoring puts it back as it was.
    Object.assign(stamps, {
      status_before_invalidation: move.from,
      invalidated_at: at,
      invalidated_reason: (move.reason ?? '').slice(0, REASON_MAX_LENGTH),
    });
  }
  if (move.from === 'invalidated') {
    Object.assign(stamps, {
      status_before_invalidation: null,
      invalidated_at: null,
      invalidated_reason: null,
    });
  }
  return stamps;
}
