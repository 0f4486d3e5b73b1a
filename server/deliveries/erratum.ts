/**
 * Errata: what became of a delivered list since it went, and the correction that tells its recipients.
 * Types and pure rules; no I/O. The SQL is erratum-repository.ts, the use cases erratum-service.ts.
 */
import type { SignatureStatus } from '../signatures/signature.js';
import { INTERFACE_LANGUAGES } from '../lib/i18n.js';

/** A correction round's trigger: kind 'update' (no new kind, which would rebuild the table on SQLite), made by an erratum. */
export const CORRECTION_TRIGGER = 'correction';

/** Why a listed signature no longer counts. */
export const REMOVALS = ['withdrawn', 'erased', 'invalidated'] as const;
export type Removal = (typeof REMOVALS)[number];

/** One leaf of a delivered list, with what its signature is now. */
export interface ListedLeaf {
  position: number;
  /** 64 lowercase hex digits, as stored. */
  leafHash: string;
  /** The signature it came from; null once unlinked (erased, or anonymised by the retention job). */
  signatureId: number | null;
  /** The signature's status now; null when no signature is linked. */
  status: SignatureStatus | null;
  /** Whether the signature's person was erased on request since the list was made (round_leaves.erased_at). */
  erased: boolean;
}

/** What decides whether a listed signature still counts. */
export type LeafState = Pick<ListedLeaf, 'status' | 'erased'>;

/**
 * Why a listed signature no longer counts, or null while it still does. Erased: its person was erased on
 * request since the list was made. Withdrawn: withdrawn, or pending again after a withdrawal and not
 * confirmed since. A signature restored after an invalidation, or confirmed again, counts again. A leaf
 * with no signature linked and not erased counts: its signature was anonymised before the list was made
 * or by the retention job, and the platform keeps counting it without its person.
 */
export function removalOf(leaf: LeafState): Removal | null {
  if (leaf.erased) return 'erased';
  if (leaf.status === null || leaf.status === 'confirmed') return null;
  if (leaf.status === 'invalidated') return 'invalidated';
  return 'withdrawn';
}

/** How a delivered list changed: how many it had, how many left it and why, how many it counts now. */
export interface ListChange {
  delivered: number;
  withdrawn: number;
  erased: number;
  invalidated: number;
  now: number;
}

/** The change of a list of `delivered` leaves, from how many of them are in each state now. */
export function listChangeOf(
  delivered: number,
  byState: readonly (LeafState & { count: number })[],
): ListChange {
  const change: ListChange = { delivered, withdrawn: 0, erased: 0, invalidated: 0, now: delivered };
  for (const group of byState) {
    const removal = removalOf(group);
    if (removal === null) continue;
    change[removal] += group.count;
    change.now -= group.count;
  }
  return change;
}

/** Whether anything left the list. */
export function hasChanged(change: ListChange): boolean {
  return change.now !== change.delivered;
}

/**
 * The corrected list: the delivered list's leaves less those that no longer count, in the same order.
 * No salt is needed: a remaining leaf hashes as it did.
 */
export function correctedLeaves(leaves: readonly ListedLeaf[]): ListedLeaf[] {
  return [...leaves].sort((a, b) => a.position - b.position).filter((leaf) => removalOf(leaf) === null);
}

/** The change counted over the leaves themselves (what a correction is built from). */
export function changeOfLeaves(leaves: readonly ListedLeaf[]): ListChange {
  return listChangeOf(
    leaves.length,
    leaves.map((leaf) => ({ status: leaf.status, erased: leaf.erased, count: 1 })),
  );
}

/** Why a correction may not be sent now; each has its message under errata.refusals. */
export type ErratumRefusal = 'unchanged' | 'alreadySent' | 'noRecipients';

/** A correction sent for a delivered list. */
export interface SentCorrection {
  roundId: number;
  treeSize: number;
  root: string;
  createdAt: Date;
}

/** A delivered round's list as the organizer's delivery page shows it: what changed, and its corrections. */
export interface RoundList {
  roundId: number;
  root: string;
  change: ListChange;
  /** Corrections sent for it, oldest first. */
  corrections: SentCorrection[];
  /** Why a correction may not be sent now; null when it may. Only worked out when the list changed. */
  refusal: ErratumRefusal | null;
}

/**
 * The one rule for the correction button and the service: something must have left the list since it
 * went, the corrected list must differ from the one the latest correction published (a list of the same
 * size but other signatures is a change: the root says so), and the round must have reached someone.
 */
export function erratumRefusal(gate: {
  /** The corrected tree's root, and the delivered round's own. */
  newRoot: string;
  deliveredRoot: string;
  /** The root the latest correction of this round published, or null when none was sent. */
  latestCorrectionRoot: string | null;
  recipients: number;
}): ErratumRefusal | null {
  if (gate.newRoot === gate.deliveredRoot) return 'unchanged';
  if (gate.latestCorrectionRoot === gate.newRoot) return 'alreadySent';
  if (gate.recipients === 0) return 'noRecipients';
  return null;
}

/**
 * The language a recipient's correction is written in: the language of the letter they got when the
 * platform speaks it (en, ko, uk), else English. The correction is a short fixed text, not the letter.
 */
export function erratumLanguage(deliveredIn: string): string {
  return (INTERFACE_LANGUAGES as readonly string[]).includes(deliveredIn) ? deliveredIn : 'en';
}
