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
import type { DeliveryRound, RoundKind } from './delivery.js';
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
}

/** What a round records about who asked for it and what it is for. */
export interface RoundRequest {
  requestKey?: string;
  requestedBy?: number;
  testAddress?: string;
  milestone?: number;
  actor?: { id: number; email: string };
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
      const current = (await letters.findById(letter.id)) ?? letter;
      const created = await deliveries.createRound(
        {
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
          { type: 'letter.delivered', letterId: current.id, roundId: created.id },
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
          details: { round: created.id, kind, trigger, signatures: current.signatureCount },
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
