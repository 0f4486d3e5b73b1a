import type { Clock } from '../lib/clock.js';
import type { AuditRepository } from './audit-repository.js';

/** How long one account's refusals of one action on one target stay one entry of the audit log. */
export const REFUSAL_WINDOW_MS = 10 * 60_000;

/** A policy refusal of a signed-in account, as the audit log keeps it. */
export interface AccessRefusal {
  user: { id: number; email: string };
  /** The policy action refused (policy/policy.ts), such as 'letter.edit'. */
  action: string;
  /** What it was aimed at, when the rule's resource names it. */
  target: { type: string; id: number } | undefined;
  method: string;
  /** The address asked for, without its query string (which may carry a search someone typed). */
  path: string;
}

/**
 * Puts refusals of signed-in accounts on the audit record, so an admin sees an account probing letters
 * not its own; at most one entry per account, action and target in each REFUSAL_WINDOW_MS, so an
 * account cannot flood the log by reloading a page.
 *
 * The window is looked up in the audit table itself rather than kept in memory: several web processes
 * (docs/decisions/2026-12-05-several-processes.md) then agree on it, and it needs no table of its own.
 * Lookup and insert are not one transaction: two refusals at the same instant in two processes may both
 * be written, which is harmless; one per reload is what the window stops.
 */
export class AccessRefusals {
  constructor(private readonly deps: { audit: AuditRepository; clock: Clock }) {}

  /** Records the refusal unless the same one is on record within the window; whether it wrote one. */
  async record(refusal: AccessRefusal): Promise<boolean> {
    const now = this.deps.clock.now();
    const target = {
      type: refusal.target?.type ?? '',
      id: refusal.target === undefined ? '' : String(refusal.target.id),
    };
    const recent = await this.deps.audit.refusalsSince(
      refusal.user.id,
      target,
      new Date(now.getTime() - REFUSAL_WINDOW_MS),
    );
    if (recent.some((details) => details.policyAction === refusal.action)) return false;
    await this.deps.audit.record(
      {
        actor: { id: refusal.user.id, email: refusal.user.email },
        action: 'access-refused',
        targetType: target.type,
        targetId: target.id,
        details: { policyAction: refusal.action, method: refusal.method, path: refusal.path },
      },
      now,
    );
    return true;
  }
}
