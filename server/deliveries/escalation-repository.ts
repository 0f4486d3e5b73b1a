import type { Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { EscalationStepsTable } from '../db/tables.js';
import type { CancelReason, EscalationSchedule, EscalationStep, StepStatus, Tier } from './escalation.js';

function toStep(row: Selectable<EscalationStepsTable>): EscalationStep {
  return {
    id: row.id,
    letterId: row.letter_id,
    fromTier: row.from_tier as Tier,
    toTier: row.to_tier as Tier,
    basisRoundId: row.basis_round_id,
    tierReachedAt: new Date(row.tier_reached_at),
    days: row.days_without_reply,
    dueAt: new Date(row.due_at),
    status: row.status as StepStatus,
    roundId: row.round_id,
    cancelReason: row.cancel_reason as CancelReason | null,
    cancelledBy: row.cancelled_by,
    createdAt: new Date(row.created_at),
    decidedAt: row.decided_at ? new Date(row.decided_at) : null,
  };
}

/** A step to plan: from the tier a round has just reached to the next one. */
export interface NewStep {
  letterId: number;
  fromTier: Tier;
  toTier: Tier;
  basisRoundId: number;
  tierReachedAt: Date;
  days: number;
  dueAt: Date;
}

/** SQL for escalation schedules (escalation_schedules) and their steps (escalation_steps). */
export class EscalationRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): EscalationRepository {
    return new EscalationRepository(tx);
  }

  /** The letter's schedule; undefined when it escalates never (the default). */
  async scheduleOf(letterId: number): Promise<EscalationSchedule | undefined> {
    const row = await this.db
      .selectFrom('escalation_schedules')
      .selectAll()
      .where('letter_id', '=', letterId)
      .executeTakeFirst();
    return row
      ? {
          letterId: row.letter_id,
          days: row.days_without_reply,
          updatedAt: new Date(row.updated_at),
          updatedBy: row.updated_by,
        }
      : undefined;
  }

  /** Sets (or changes) the letter's schedule. */
  async saveSchedule(letterId: number, days: number, userId: number, now: Date): Promise<void> {
    const at = now.toISOString();
    await this.db
      .insertInto('escalation_schedules')
      .values({
        letter_id: letterId,
        days_without_reply: days,
        created_at: at,
        updated_at: at,
        updated_by: userId,
      })
      .onConflict((oc) =>
        oc.column('letter_id').doUpdateSet({ days_without_reply: days, updated_at: at, updated_by: userId }),
      )
      .execute();
  }

  /** Removes the letter's schedule; true when it had one. */
  async removeSchedule(letterId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('escalation_schedules')
      .where('letter_id', '=', letterId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /** Plans a step; undefined when the letter already has one from this tier (the unique index decides). */
  async planStep(step: NewStep, now: Date): Promise<EscalationStep | undefined> {
    const row = await this.db
      .insertInto('escalation_steps')
      .values({
        letter_id: step.letterId,
        from_tier: step.fromTier,
        to_tier: step.toTier,
        basis_round_id: step.basisRoundId,
        tier_reached_at: step.tierReachedAt.toISOString(),
        days_without_reply: step.days,
        due_at: step.dueAt.toISOString(),
        status: 'pending',
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? toStep(row) : undefined;
  }

  async findStep(id: number): Promise<EscalationStep | undefined> {
    const row = await this.db
      .selectFrom('escalation_steps')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toStep(row) : undefined;
  }

  /** A letter's steps, newest first. */
  async stepsOf(letterId: number): Promise<EscalationStep[]> {
    const rows = await this.db
      .selectFrom('escalation_steps')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toStep);
  }

  /** Every pending step, the soonest due first: the job looks at each (for a reply, or to fire it). */
  async pending(): Promise<EscalationStep[]> {
    const rows = await this.db
      .selectFrom('escalation_steps')
      .selectAll()
      .where('status', '=', 'pending')
      .orderBy('due_at')
      .orderBy('id')
      .execute();
    return rows.map(toStep);
  }

  /**
   * The steps that sent a letter on, each with its round: the public record says why those rounds went
   * (letters' SentEscalations port). Pending and cancelled steps are not public: see
   * docs/decisions/2026-12-06-escalation.md.
   */
  async sentOf(
    letterId: number,
  ): Promise<{ roundId: number; fromTier: number; toTier: number; days: number }[]> {
    const rows = await this.db
      .selectFrom('escalation_steps')
      .select(['round_id', 'from_tier', 'to_tier', 'days_without_reply'])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'sent')
      .where('round_id', 'is not', null)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      roundId: r.round_id!,
      fromTier: r.from_tier,
      toTier: r.to_tier,
      days: r.days_without_reply,
    }));
  }

  /** A pending step fires (compare-and-set): true for the one process whose round it is. */
  async markSent(id: number, roundId: number, toTier: Tier, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('escalation_steps')
      .set({ status: 'sent', round_id: roundId, to_tier: toTier, decided_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** A pending step is cancelled (compare-and-set); true when it moved. */
  async cancel(id: number, reason: CancelReason, by: number | null, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('escalation_steps')
      .set({ status: 'cancelled', cancel_reason: reason, cancelled_by: by, decided_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Moves a pending step's due date (the schedule's days changed). */
  async reschedule(id: number, days: number, due: Date): Promise<void> {
    await this.db
      .updateTable('escalation_steps')
      .set({ days_without_reply: days, due_at: due.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .execute();
  }
}
