import type { LetterEvents } from '../letters/letter-events.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Letter } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import { checkLetterSize } from '../letters/letter-text-check.js';
import { buildMergeFields, recipientFields } from '../letters/merge-fields.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import type { Tx } from '../db/database.js';
import {
  audienceRefusal,
  reachesRecipients,
  refusalError,
  type DeliveryRound,
  type RoundKind,
} from './delivery.js';
import { dueAt, inTiers, nextTier, tiersOfNextRound, type RoundTiers, type Tier } from './escalation.js';
import type { EscalationRepository } from './escalation-repository.js';
import type { DeliveryRepository } from './delivery-repository.js';
import { readRoundAnnex } from './round-annex.js';
import { isComplete } from '../letters/letter.js';

export interface RoundStarterDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  signatures: SignatureRepository;
  deliveries: DeliveryRepository;
  clock: Clock;
  logger: Logger;
  /** A country's name in a language, as compiled letters show it (for measuring a letter before a round). */
  countryName: (code: string, language: string) => string;
  /** Hears a letter's delivery round in its transaction (webhooks); none when unset. */
  events?: LetterEvents;
  /** Escalation schedules and steps: a letter with a schedule is delivered tier by tier; none when unset. */
  escalations?: EscalationRepository;
}

/** What a round records about who asked for it and what it is for. */
export interface RoundRequest {
  requestKey?: string;
  requestedBy?: number;
  testAddress?: string;
  milestone?: number;
  actor?: { id: number; email: string };
  /** The escalation step this round fires: it goes to that tier only, and the step is marked sent with it. */
  escalation?: { stepId: number; fromTier: Tier; toTier: Tier; days: number };
}

/**
 * Refuses (noRecipients, tiersEmpty: the rule the delivery page and the automatic modes ask first) a
 * round that would reach no one: the list's tiers as they are in the round's transaction, not as the
 * caller read them a moment before, when the organizer may since have removed the last recipient or
 * emptied a tier.
 */
function refuseIfNoOneReached(listedTiers: readonly number[], tiers: RoundTiers | undefined): void {
  const range = { tierFrom: tiers?.from ?? null, tierTo: tiers?.to ?? null };
  const refusal = audienceRefusal({
    recipients: listedTiers.length,
    reachable: listedTiers.filter((tier) => inTiers(tier, range)).length,
  });
  if (refusal) throw refusalError(refusal);
}

/**
 * Starting a delivery round, the one step shared by the organizer's buttons and the automatic modes:
 * the letter is measured first, then the round, its consequences and its audit entry are one transaction.
 */
export class RoundStarter {
  constructor(private readonly deps: RoundStarterDeps) {}

  /**
   * Creates a round in one transaction with its consequences: the figures are frozen now, a closed
   * letter's delivery marks it delivered, a milestone is recorded as reached. A second request with
   * the same key, or a second delivery of the same version, returns the first round instead.
   */
  async start(
    letter: Letter,
    kind: RoundKind,
    trigger: DeliveryRound['trigger'],
    extra: RoundRequest,
  ): Promise<DeliveryRound> {
    await this.refuseTooLarge(letter);
    const now = this.deps.clock.now();
    const round = await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const deliveries = this.deps.deliveries.with(tx);
      // Whom the round reaches is decided with the letter held: an edit of its list waits, or went first.
      // The list's tiers are read once, here, for the round's tiers, the check and the next step.
      const reaches = reachesRecipients(kind);
      if (reaches) await letters.holdLetter(letter.id);
      const current = (await letters.findById(letter.id)) ?? letter;
      const list = reaches ? await letters.recipientList(current.id) : [];
      const listed = list.map((r) => r.tier);
      const escalation = await this.tiersFor(tx, current.id, kind, extra, listed);
      if (reaches) refuseIfNoOneReached(listed, escalation?.tiers);
      const created = await deliveries.createRound(
        {
          tierFrom: escalation?.tiers.from ?? null,
          tierTo: escalation?.tiers.to ?? null,
          letterId: current.id,
          letterVersionId: current.currentVersionId,
          kind,
          trigger,
          signatureCount: current.signatureCount,
          milestone: extra.milestone ?? null,
          testAddress: extra.testAddress ?? null,
          requestedBy: extra.requestedBy ?? null,
          requestKey: extra.requestKey ?? null,
        },
        now,
      );
      if (!created) return undefined;
      // The round is compiled for whom it reaches now (those of them still listed when it is compiled): a
      // recipient added meanwhile waits for the next round, and a resumed compile never reaches new people.
      if (reaches)
        await deliveries.keepAudience(
          created.id,
          list.filter((r) => inTiers(r.tier, created)),
        );
      if (escalation) await this.escalate(tx, current.id, created, escalation, extra, now, listed);
      let status = current.status;
      // Past its closing date but not closed yet (the closing job runs on its own schedule): close it
      // here, so a letter delivered at closing ends delivered whichever job runs first.
      if (kind === 'delivery' && status === 'open' && current.closesAt !== null && current.closesAt <= now) {
        if (await letters.transition(current.id, 'open', 'closed', { closedAt: now }, now)) status = 'closed';
      }
      if (kind === 'delivery' && status === 'closed') {
        await letters.transition(current.id, 'closed', 'delivered', {}, now);
      }
      if (kind === 'delivery')
        await this.deps.events?.record(
          tx,
          {
            type: 'letter.delivered',
            letterId: current.id,
            roundId: created.id,
            tierFrom: created.tierFrom,
            tierTo: created.tierTo,
          },
          now,
        );
      if (kind === 'milestone' && extra.milestone !== undefined)
        await deliveries.advanceMilestone(current.id, extra.milestone, now);
      await this.deps.audit.with(tx).record(
        {
          actor: extra.actor ?? 'platform',
          action: 'delivery',
          targetType: 'letter',
          targetId: current.id,
          details: {
            round: created.id,
            kind,
            trigger,
            signatures: current.signatureCount,
            ...(escalation ? { tiers: `${escalation.tiers.from}-${escalation.tiers.to}` } : {}),
          },
        },
        now,
      );
      return created;
    });
    if (round) {
      this.deps.logger.info(
        { letterId: letter.id, roundId: round.id, kind, trigger },
        'delivery round created',
      );
      return round;
    }
    const twin = extra.requestKey
      ? await this.deps.deliveries.findRoundByRequestKey(extra.requestKey)
      : undefined;
    if (twin) return twin;
    throw new AppError(409, 'already_delivered', 'deliveries.errors.alreadyDelivered');
  }

  /**
   * The tiers a round goes to when its letter has an escalation schedule (undefined: every recipient):
   * an escalation's own tier; else the first tier for the first round to recipients, and every tier
   * reached so far for later ones. `firstReached`: the tier this round reaches for the first time, whose
   * step to the next tier it plans.
   */
  private async tiersFor(
    tx: Tx,
    letterId: number,
    kind: RoundKind,
    extra: RoundRequest,
    /** The recipients' tiers, read in this transaction. */
    listedTiers: readonly number[],
  ): Promise<{ tiers: RoundTiers; days: number; firstReached: Tier | null } | undefined> {
    const escalations = this.deps.escalations?.with(tx);
    if (!escalations || kind === 'test') return undefined;
    const schedule = await escalations.scheduleOf(letterId);
    if (extra.escalation) {
      const tier = extra.escalation.toTier;
      return {
        tiers: { from: tier, to: tier },
        days: schedule?.days ?? extra.escalation.days,
        firstReached: tier,
      };
    }
    if (!schedule) return undefined;
    const rounds = await this.deps.deliveries.with(tx).roundsOf(letterId);
    return { ...tiersOfNextRound(rounds, listedTiers), days: schedule.days };
  }

  /**
   * The tiers the organizer's next round (a delivery or an update) would go to, as `start` decides them,
   * from the rounds and recipients' tiers the caller has read already (the delivery page, its buttons);
   * null: every recipient (a letter without a schedule).
   */
  async nextRoundTiers(
    letterId: number,
    rounds: Parameters<typeof tiersOfNextRound>[0],
    recipientTiers: readonly number[],
  ): Promise<RoundTiers | null> {
    if (!(await this.deps.escalations?.scheduleOf(letterId))) return null;
    return tiersOfNextRound(rounds, recipientTiers).tiers;
  }

  /**
   * In the round's transaction: plans the step from the tier it reached first to the next tier with
   * recipients (due after the schedule's days), and for an escalation's round marks its step sent
   * (compare-and-set: a step another process fired, or the organizer cancelled meanwhile, undoes the round).
   */
  private async escalate(
    tx: Tx,
    letterId: number,
    round: DeliveryRound,
    plan: { tiers: RoundTiers; days: number; firstReached: Tier | null },
    extra: RoundRequest,
    now: Date,
    /** The recipients' tiers, read in this transaction. */
    listedTiers: readonly number[],
  ): Promise<void> {
    const escalations = this.deps.escalations!.with(tx);
    if (extra.escalation) {
      const { stepId, fromTier, toTier } = extra.escalation;
      if (!(await escalations.markSent(stepId, round.id, toTier, now)))
        throw new AppError(409, 'escalation_decided', 'escalation.errors.decided');
      await this.deps.audit.with(tx).record(
        {
          actor: 'platform',
          action: 'delivery-escalated',
          targetType: 'letter',
          targetId: letterId,
          details: { letterId, step: stepId, round: round.id, fromTier, toTier, days: extra.escalation.days },
        },
        now,
      );
    }
    if (plan.firstReached === null || !(await escalations.scheduleOf(letterId))) return;
    const next = nextTier(plan.firstReached, listedTiers);
    if (next === null) return;
    await escalations.planStep(
      {
        letterId,
        fromTier: plan.firstReached,
        toTier: next,
        basisRoundId: round.id,
        tierReachedAt: now,
        days: plan.days,
        dueAt: dueAt(now, plan.days),
      },
      now,
    );
  }

  /**
   * Refuses a round whose letter text would pass the size limit with the signatories of this moment:
   * said at the button (or skipped by the scheduler), before a closed letter is marked delivered. The
   * compile worker measures again, and cancels the round if the letter has grown since.
   */
  private async refuseTooLarge(letter: Letter): Promise<void> {
    const texts = (await this.deps.letters.textsOfVersion(letter.currentVersionId)).filter(isComplete);
    // Only a text that goes through the signatories needs them read.
    if (!texts.some((text) => text.body.includes('signatories'))) return;
    const now = this.deps.clock.now();
    const { annex, countries } = await readRoundAnnex(this.deps.signatures, letter.id, now);
    for (const text of texts) {
      const fields = buildMergeFields(
        {
          recipient: recipientFields(null, text.language),
          letterTitle: text.title,
          language: text.language,
          date: now,
          signatureCount: letter.signatureCount,
          countries,
          signatories: annex.entries.map((e) => ({ name: e.name, country: e.country })),
          organisations: letter.organisations,
        },
        this.deps.countryName,
      );
      const problem = checkLetterSize(text.body, fields, annex.entries.length);
      if (!problem) continue;
      throw new AppError(409, 'letter_too_large', 'limits.deliveryRefused', {
        language: text.language,
        line: problem.line,
        block: problem.params.name ?? '',
        // Numbers, so the text writes them as the reader's language does ({{count, number}}).
        count: Number(problem.params.count ?? 0),
        max: Number(problem.params.max ?? 0),
      });
    }
  }
}
