/**
 * Claims on outbox messages: pure rules, time passed in. A worker holds a short lease on what it sends
 * and renews it while it lives, so a dead worker's claims come back within one lease and a live
 * worker's never do, however long its send takes.
 */

/** How long a claim holds unless renewed (MAIL_LEASE_SECONDS' default). */
export const DEFAULT_LEASE_MS = 30_000;

/** Leases renewed this many times per lease: two renewals may fail in a row before a claim lapses. */
const RENEWALS_PER_LEASE = 3;

/** What a claim's lease says, as the repository stores it. */
export interface Claim {
  leaseExpiresAt: Date | null;
}

/** Whether another worker may take this claim over at `now` (its holder stopped renewing it). */
export function leaseExpired(claim: Claim, now: Date): boolean {
  return claim.leaseExpiresAt !== null && claim.leaseExpiresAt.getTime() <= now.getTime();
}

/** When a claim made or renewed at `now` expires. */
export function leaseEnd(now: Date, leaseMs: number): Date {
  return new Date(now.getTime() + leaseMs);
}

/** How often a live worker renews its leases. */
export function renewEveryMs(leaseMs: number): number {
  return Math.max(1, Math.floor(leaseMs / RENEWALS_PER_LEASE));
}

/**
 * The longest a message claimed by a worker killed without warning waits before a running worker
 * claims it again: the lease, counted from the dead worker's last renewal, plus one heartbeat of the
 * running worker (each heartbeat also puts expired claims back in line; a restarted worker beats at once).
 */
export function worstCaseTakeoverMs(leaseMs: number): number {
  return leaseMs + renewEveryMs(leaseMs);
}
