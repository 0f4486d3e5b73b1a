import type { User } from '../accounts/account.js';
import type { AuditActor } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db, Tx } from '../db/database.js';
import type { Letter } from '../letters/letter.js';
import type { AccessedLetter } from '../letters/letter-access.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import { authorize } from '../policy/policy.js';
import type { DeliveryRepository } from './delivery-repository.js';
import type { LetterRecipientOf, RecipientsOfLetter } from './delivery-recipients.js';
import {
  dueAt,
  nextTier,
  reachedTier,
  roundsThatReached,
  type CancelReason,
  type EscalationSchedule,
  type EscalationStep,
} from './escalation.js';
import { parseEscalation, type EscalationValues } from './escalation-input.js';
import type { EscalationRepository } from './escalation-repository.js';
import type { RoundStarter } from './round-starter.js';

/** Port: which of a letter's recipients replied since a time (the replies slice answers it). */
export interface RepliesSince {
  repliedSince(letterId: number, recipientIds: readonly number[], since: Date): Promise<Set<number>>;
}

export interface EscalationServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  deliveries: DeliveryRepository;
  escalations: EscalationRepository;
  rounds: RoundStarter;
  recipientsOf: RecipientsOfLetter;
  replies: RepliesSince;
  clock: Clock;
  logger: Logger;
  /** The letter if the user may work on it, else a 403/404 (letters' LetterAccess.forEdit). */
  access: (user: User, letterId: number) => Promise<AccessedLetter>;
  /**
   * Whether the platform receives replies (a reply address with a listener behind it): without, no reply is
   * ever seen and every step fires when due, which the panel says.
   */
  receivingReplies: boolean;
}

/** What the delivery page's escalation panel shows. */
export interface EscalationPanel {
  letter: Letter;
  schedule: EscalationSchedule | undefined;
  recipients: LetterRecipientOf[];
  steps: EscalationStep[];
  /** The highest tier a round has reached (0: none yet; 3: every recipient, as without a schedule). */
  reached: number;
  /** Whether replies reach the platform at all (see EscalationServiceDeps.receivingReplies). */
  receivingReplies: boolean;
}

/**
 * Escalation on no reply (issue 15 §4): the organizer's schedule and tiers, cancelling a step, and the
 * job that fires due steps whose tier has not replied. Rounds go through RoundStarter, which sends a
 * letter with a schedule tier by tier and plans each next step (round-starter.ts).
 */
export class EscalationService {
  constructor(private readonly deps: EscalationServiceDeps) {}

  /** The panel of the delivery page. */
  async panel(user: User, letterId: number): Promise<EscalationPanel> {
    return this.panelOf((await this.access(user, letterId)).letter);
  }

  /**
   * Saves the schedule (days empty: none) and the recipients' tiers in one transaction with its audit
   * entry. A changed schedule moves its pending step's due date; a removed one cancels it.
   */
  async save(
    user: User,
    letterId: number,
    values: EscalationValues,
  ): Promise<
    { kind: 'saved' } | { kind: 'invalid'; errors: Record<string, string>; panel: EscalationPanel }
  > {
    const { letter } = await this.access(user, letterId);
    const parsed = parseEscalation(values);
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors, panel: await this.panelOf(letter) };
    const now = this.deps.clock.now();
    const { days, tiers } = parsed;
    await this.deps.db.transaction().execute(async (tx) => {
      const escalations = this.deps.escalations.with(tx);
      await this.deps.letters.with(tx).setTiers(letter.id, tiers);
      const pending = (await escalations.stepsOf(letter.id)).filter((s) => s.status === 'pending');
      if (days === null) {
        await escalations.removeSchedule(letter.id);
        for (const step of pending) await this.cancelIn(tx, step, 'schedule-removed', user, now);
      } else {
        await escalations.saveSchedule(letter.id, days, user.id, now);
        for (const step of pending)
          await escalations.reschedule(step.id, days, dueAt(step.tierReachedAt, days));
      }
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'escalation-changed',
          targetType: 'letter',
          targetId: letter.id,
          details: { letterId: letter.id, days, tiers: Object.fromEntries(tiers) },
        },
        now,
      );
    });
    return { kind: 'saved' };
  }

  /** The step, if it is the letter's and still pending (for the confirmation page); else 404 or 409. */
  async pendingStep(
    user: User,
    letterId: number,
    stepId: number,
  ): Promise<{ letter: Letter; step: EscalationStep }> {
    const { letter } = await this.access(user, letterId);
    return { letter, step: await this.stepOf(letter, stepId) };
  }

  /** The organizer cancels a pending step: it never fires; audited in the same transaction. */
  async cancel(user: User, letterId: number, stepId: number): Promise<void> {
    const { letter } = await this.access(user, letterId);
    const step = await this.stepOf(letter, stepId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.cancelIn(tx, step, 'organizer', user, now)))
        throw new AppError(409, 'escalation_decided', 'escalation.errors.decided');
    });
  }

  /**
   * The scheduler's job: each pending step whose tier has replied since it was reached is cancelled as
   * answered; each due one whose tier has not is fired (a round to the next tier with recipients).
   * Several processes may run it: a step fires once (compare-and-set in the round's transaction).
   */
  async runDue(): Promise<number> {
    let fired = 0;
    for (const step of await this.deps.escalations.pending()) {
      try {
        if (await this.decide(step)) fired += 1;
      } catch (error) {
        this.deps.logger.error(
          { err: error, stepId: step.id, letterId: step.letterId },
          'escalation step failed',
        );
      }
    }
    return fired;
  }

  private async decide(step: EscalationStep): Promise<boolean> {
    const now = this.deps.clock.now();
    const letter = await this.deps.letters.findById(step.letterId);
    if (!letter) return false;
    const recipients = await this.deps.recipientsOf(letter);
    const asked = recipients.filter((r) => r.tier === step.fromTier).map((r) => r.id);
    const replied = await this.deps.replies.repliedSince(letter.id, asked, step.tierReachedAt);
    if (replied.size > 0) {
      await this.cancelAs(step, 'replied', now);
      return false;
    }
    if (step.dueAt > now) return false;
    // Where it goes is read now: the organizer may have moved recipients between tiers since it was planned.
    const to = nextTier(
      step.fromTier,
      recipients.map((r) => r.tier),
    );
    if (to === null) {
      await this.cancelAs(step, 'no-recipients', now);
      return false;
    }
    try {
      await this.deps.rounds.start(letter, 'update', 'escalation', {
        escalation: { stepId: step.id, fromTier: step.fromTier, toTier: to, days: step.days },
      });
      return true;
    } catch (error) {
      if (!(error instanceof AppError)) throw error;
      // Another process fired it, or the organizer cancelled it meanwhile: the round was undone with it.
      if (error.code === 'escalation_decided') return false;
      // Too large to send now: it stays pending and is tried again; operators see why here.
      this.deps.logger.warn({ stepId: step.id, letterId: letter.id, code: error.code }, 'escalation refused');
      return false;
    }
  }

  private async cancelAs(step: EscalationStep, reason: CancelReason, now: Date): Promise<void> {
    await this.deps.db.transaction().execute((tx) => this.cancelIn(tx, step, reason, 'platform', now));
  }

  /** Cancels a pending step with its audit entry, in the caller's transaction; false when it had moved. */
  private async cancelIn(
    tx: Tx,
    step: EscalationStep,
    reason: CancelReason,
    by: User | 'platform',
    now: Date,
  ): Promise<boolean> {
    const userId = by === 'platform' ? null : by.id;
    if (!(await this.deps.escalations.with(tx).cancel(step.id, reason, userId, now))) return false;
    const actor: AuditActor = by === 'platform' ? 'platform' : { id: by.id, email: by.email };
    await this.deps.audit.with(tx).record(
      {
        actor,
        action: 'escalation-cancelled',
        targetType: 'letter',
        targetId: step.letterId,
        details: {
          letterId: step.letterId,
          step: step.id,
          fromTier: step.fromTier,
          toTier: step.toTier,
          reason,
        },
      },
      now,
    );
    return true;
  }

  private async stepOf(letter: Letter, stepId: number): Promise<EscalationStep> {
    const step = await this.deps.escalations.findStep(stepId);
    if (!step || step.letterId !== letter.id)
      throw notFound('escalation_step_not_found', 'escalation.errors.notFound');
    if (step.status !== 'pending') throw new AppError(409, 'escalation_decided', 'escalation.errors.decided');
    return step;
  }

  private async panelOf(letter: Letter): Promise<EscalationPanel> {
    const [schedule, recipients, steps, rounds] = await Promise.all([
      this.deps.escalations.scheduleOf(letter.id),
      this.deps.recipientsOf(letter),
      this.deps.escalations.stepsOf(letter.id),
      this.deps.deliveries.roundsOf(letter.id),
    ]);
    const reached = reachedTier(roundsThatReached(rounds));
    return { letter, schedule, recipients, steps, reached, receivingReplies: this.deps.receivingReplies };
  }

  private async access(user: User, letterId: number): Promise<AccessedLetter> {
    const found = await this.deps.access(user, letterId);
    authorize(user, 'escalation.manage', found.resource);
    return found;
  }
}
