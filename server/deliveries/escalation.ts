/** Escalation on no reply (issue 15 §4): recipient tiers, schedules and steps. Types and pure rules; no I/O. */

/** 1 embassy, 2 ministry, 3 head of state: the order a letter escalates in. */
export const TIERS = [1, 2, 3] as const;
export type Tier = (typeof TIERS)[number];
export const TOP_TIER: Tier = 3;

/** The fewest and most days a schedule may wait for a reply. */
export const MIN_DAYS_WITHOUT_REPLY = 1;
export const MAX_DAYS_WITHOUT_REPLY = 90;

const DAY_MS = 86_400_000;

/** A letter's schedule: if no recipient of the tier reached last replies within `days`, the next tier gets it. */
export interface EscalationSchedule {
  letterId: number;
  days: number;
  updatedAt: Date;
  updatedBy: number | null;
}

export type StepStatus = 'pending' | 'sent' | 'cancelled';
export type CancelReason = 'organizer' | 'replied' | 'schedule-removed' | 'no-recipients';

/** One step from a tier to the next. */
export interface EscalationStep {
  id: number;
  letterId: number;
  fromTier: Tier;
  toTier: Tier;
  /** The round that first reached fromTier, and when: replies count from then. */
  basisRoundId: number | null;
  tierReachedAt: Date;
  days: number;
  dueAt: Date;
  status: StepStatus;
  /** The round that sent the letter to toTier, once sent. */
  roundId: number | null;
  cancelReason: CancelReason | null;
  cancelledBy: number | null;
  createdAt: Date;
  decidedAt: Date | null;
}

/** The tiers a round goes to, inclusive; null: every recipient (a letter without a schedule). */
export interface RoundTiers {
  from: Tier;
  to: Tier;
}

/** When a step planned now for a tier reached at `reachedAt` is due. */
export function dueAt(reachedAt: Date, days: number): Date {
  return new Date(reachedAt.getTime() + days * DAY_MS);
}

/** The lowest tier above `tier` that has recipients, or null when none has. */
export function nextTier(tier: number, recipientTiers: readonly number[]): Tier | null {
  const above = recipientTiers.filter((t) => t > tier);
  return above.length === 0 ? null : (Math.min(...above) as Tier);
}

/**
 * The rounds that took the letter to recipients: not tests, not rounds cancelled before sending, and not
 * corrections (an erratum goes only to those a delivered round reached, so it reaches no one new).
 */
export function roundsThatReached<R extends { kind: string; status: string; trigger: string }>(
  rounds: readonly R[],
): R[] {
  return rounds.filter((r) => r.kind !== 'test' && r.status !== 'cancelled' && r.trigger !== 'correction');
}

/**
 * The highest tier the letter has reached: each round that went to recipients reached up to its
 * tier_to, and one without tiers (sent before a schedule, or without one) reached them all. 0: none yet.
 */
export function reachedTier(rounds: readonly { tierTo: number | null }[]): number {
  let reached = 0;
  for (const round of rounds) reached = Math.max(reached, round.tierTo ?? TOP_TIER);
  return reached;
}

/** The lowest tier that has recipients (tier 1 when none has): where a letter with a schedule starts. */
export function firstTier(recipientTiers: readonly number[]): Tier {
  const listed = recipientTiers.filter((t): t is Tier => (TIERS as readonly number[]).includes(t));
  return listed.length === 0 ? 1 : (Math.min(...listed) as Tier);
}

/**
 * The tiers a round of a letter with a schedule goes to: its first round to recipients goes to the
 * lowest tier that has recipients only (tier 1, unless the organizer put nobody there: a first round to
 * an empty tier would reach no one); later ones (updates, milestones, a new version's delivery) to every
 * tier reached so far, never further, even when those tiers were emptied since: only an escalation step
 * reaches a new tier (and the delivery page then refuses a round that would reach no one).
 */
export function tiersOfRound(reached: number, recipientTiers: readonly number[]): RoundTiers {
  return { from: 1, to: (reached === 0 ? firstTier(recipientTiers) : reached) as Tier };
}

/**
 * For a letter with a schedule, from its rounds and its recipients' tiers: the tiers its next round goes
 * to, and the tier that round reaches first when it is the letter's first (null after), where the step to
 * the next tier starts from.
 */
export function tiersOfNextRound(
  rounds: readonly { kind: string; status: string; trigger: string; tierTo: number | null }[],
  recipientTiers: readonly number[],
): { tiers: RoundTiers; firstReached: Tier | null } {
  const reached = reachedTier(roundsThatReached(rounds));
  return {
    tiers: tiersOfRound(reached, recipientTiers),
    firstReached: reached === 0 ? firstTier(recipientTiers) : null,
  };
}

/** Whether a recipient of this tier gets a round going to these tiers (null: every recipient does). */
export function inTiers(tier: number, tiers: { tierFrom: number | null; tierTo: number | null }): boolean {
  if (tiers.tierFrom === null || tiers.tierTo === null) return true;
  return tier >= tiers.tierFrom && tier <= tiers.tierTo;
}

/** Reads a tier from a form or a row; undefined when it is none of 1, 2, 3. */
export function parseTier(value: unknown): Tier | undefined {
  const n =
    typeof value === 'number'
      ? value
      : typeof value === 'string' && /^[123]$/.test(value.trim())
        ? Number(value)
        : NaN;
  return (TIERS as readonly number[]).includes(n) ? (n as Tier) : undefined;
}
