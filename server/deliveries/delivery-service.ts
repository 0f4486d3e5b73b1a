import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { ClosingRound, Letter } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import type { Logger } from '../lib/logger.js';
import type { Recipient } from '../recipients/recipient.js';
import {
  deliveryOfVersion,
  deliverySettingsOf,
  deliveryWarnings,
  dueRound,
  audienceRefusal,
  lastDelivery,
  refusalError,
  refusalOf,
  roundRefusal,
  type DeliveryRound,
  type DeliveryState,
  type DeliveryWarning,
  type LetterDeliverySettings,
  type RoundGate,
  type RoundRefusal,
} from './delivery.js';
import { parseDeliverySettings, type DeliverySettingsValues } from './delivery-input.js';
import { inTiers } from './escalation.js';
import { stillListed, type RecipientsOfLetter } from './delivery-recipients.js';
import type { DeliveryRecord, DeliveryRepository } from './delivery-repository.js';
import type { PdfRenderer } from './pdf-renderer.js';
import type { RoundStarter } from './round-starter.js';
import type { RoundList } from './erratum.js';

export interface DeliveryServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  deliveries: DeliveryRepository;
  rounds: RoundStarter;
  recipientsOf: RecipientsOfLetter;
  /** Whether letters carry a PDF (`available`), as the delivery page says. */
  pdf: PdfRenderer;
  clock: Clock;
  logger: Logger;
  /** The editor's access rule: the letter if the user may work on it, else a 403/404. */
  access: (user: User, letterId: number) => Promise<{ letter: Letter }>;
  /** What became of each delivered list since it went (errata: ErratumService); none: not shown. */
  lists?: { listsOf(letterId: number): Promise<RoundList[]> };
  /** Signatures held by screening per letter (signatures/): in no round until an admin clears them. */
  held?: {
    heldPerLetter(
      letterIds: readonly number[],
      options: { confirmedBySupporter: boolean },
    ): Promise<Map<number, number>>;
  };
}

/** A round as the organizer's delivery page shows it. */
export interface RoundView {
  round: DeliveryRound;
  records: DeliveryRecord[];
  /** Recipients still waiting for their compiled letter, while the round compiles. */
  pending: number;
  /** Its published list with what changed since it went, when it is a delivered list; else null. */
  list: RoundList | null;
}

export interface DeliveryOverview {
  letter: Letter;
  settings: LetterDeliverySettings;
  /** What the organizer must know about the settings (a mode the letter cannot honour by itself). */
  warnings: DeliveryWarning[];
  recipients: Recipient[];
  /**
   * Who the organizer's next round (a delivery or an update) goes to: every recipient, or with an
   * escalation schedule only the tiers reached so far; `later` is how many more only an escalation reaches.
   */
  nextRound: { recipients: Recipient[]; later: number };
  pdfAvailable: boolean;
  /** Signatures held by screening whose supporters confirmed: a round sent now leaves them out. */
  held: number;
  tested: boolean;
  delivered: boolean;
  /** Why "Deliver now" is not offered, or null when it is. */
  deliverRefusal: RoundRefusal | null;
  /** Why "Send an update" may not be pressed now; null when it may. */
  updateRefusal: RoundRefusal | null;
  /** Whether "Send an update" is offered. */
  canUpdate: boolean;
  rounds: RoundView[];
}

/** What the trigger rules (dueRound) read of a letter and its delivery settings. */
function deliveryState(
  letter: Letter,
  settings: LetterDeliverySettings,
  rounds: { delivered: boolean; tested: boolean },
): DeliveryState {
  return {
    status: letter.status,
    mode: settings.mode,
    goal: letter.goal,
    milestoneEvery: settings.milestoneEvery,
    deliverAt: settings.deliverAt,
    closesAt: letter.closesAt,
    signatureCount: letter.signatureCount,
    lastMilestone: settings.lastMilestone,
    ...rounds,
  };
}

/** The organizer's delivery page: settings, test, delivery and update rounds; and the rounds that start by themselves. */
export class DeliveryService {
  constructor(private readonly deps: DeliveryServiceDeps) {}

  /**
   * The letters whose automatic round waits because it would reach no one, and why, as last logged: the
   * job runs every 30 s, and an operator needs the warning once per wait, not 2,880 times a day.
   */
  private readonly waitsLogged = new Map<number, string>();

  /**
   * What closing the letter now would send by itself, for the close page to say before it is pressed:
   * the round its delivery settings ("when it closes", chosen or the default) start once it is closed,
   * when its current version has not gone yet and someone is in reach; null when closing sends nothing.
   */
  async closingRound(user: User, letterId: number): Promise<ClosingRound | null> {
    const overview = await this.overview(user, letterId);
    const { letter, settings } = overview;
    if (letter.status !== 'open' || overview.nextRound.recipients.length === 0) return null;
    // The automatic rounds' own rule, asked for the letter as closing leaves it (a test is waited for).
    const due = dueRound(
      deliveryState({ ...letter, status: 'closed' }, settings, {
        delivered: overview.delivered,
        tested: true,
      }),
      this.deps.clock.now(),
    );
    if (due?.kind !== 'delivery' || due.trigger !== 'closing') return null;
    return {
      recipients: overview.nextRound.recipients.length,
      tested: overview.tested,
      // A version saved since a delivery goes as a whole letter again, not as an update.
      deliveredBefore: lastDelivery(overview.rounds.map((view) => view.round)) !== undefined,
    };
  }

  /** Everything the delivery page shows. */
  async overview(user: User, letterId: number): Promise<DeliveryOverview> {
    const { letter } = await this.deps.access(user, letterId);
    return this.overviewOf(letter);
  }

  private async overviewOf(letter: Letter): Promise<DeliveryOverview> {
    const [recipients, rounds, records, stored, lists, held] = await Promise.all([
      this.deps.recipientsOf(letter),
      this.deps.deliveries.roundsOf(letter.id),
      this.deps.deliveries.recordsOf(letter.id),
      this.deps.deliveries.settingsOf(letter.id),
      this.deps.lists?.listsOf(letter.id) ?? [],
      // Those an admin's clearing would put in the round: their supporters confirmed.
      this.deps.held?.heldPerLetter([letter.id], { confirmedBySupporter: true }) ?? new Map<number, number>(),
    ]);
    const reached = await this.nextRoundRecipients(letter, rounds, recipients);
    // A round still compiling waits for the letters of those it is compiled for (rarely more than one).
    const compiling = new Map(
      await Promise.all(
        rounds
          .filter((round) => round.status === 'compiling' && round.kind !== 'test')
          .map(async (round) => {
            const audience = await this.deps.deliveries.roundAudience(round.id);
            // As the compile reaches them (round-compile-service.ts): still listed, in the round's tiers.
            const reached = stillListed(audience, recipients).filter((r) => inTiers(r.tier, round));
            return [round.id, reached.length] as const;
          }),
      ),
    );
    const settings = deliverySettingsOf(stored, letter);
    const gate = this.gateOf(letter, rounds, recipients.length, reached.length);
    return {
      letter,
      settings,
      warnings: deliveryWarnings(settings.mode, letter),
      recipients,
      nextRound: { recipients: reached, later: recipients.length - reached.length },
      pdfAvailable: this.deps.pdf.available,
      held: held.get(letter.id) ?? 0,
      tested: gate.tested,
      delivered: gate.delivered,
      deliverRefusal: roundRefusal('delivery', gate),
      updateRefusal: roundRefusal('update', gate),
      canUpdate: roundRefusal('update', gate) === null,
      rounds: rounds.map((round) => {
        const mine = records.filter((r) => r.roundId === round.id);
        const expected =
          round.kind === 'test'
            ? new Set(recipients.map((r) => r.language)).size || 1
            : (compiling.get(round.id) ?? 0);
        return {
          round,
          records: mine,
          pending: round.status === 'compiling' ? Math.max(0, expected - mine.length) : 0,
          list: lists.find((l) => l.roundId === round.id) ?? null,
        };
      }),
    };
  }

  /**
   * Saves when the letter goes. Automatic sending is allowed only once a test delivery has been sent.
   * Refused settings come back with their errors and the page's overview, to show them beside the fields.
   */
  async saveSettings(
    user: User,
    letterId: number,
    values: DeliverySettingsValues,
  ): Promise<
    { kind: 'saved' } | { kind: 'invalid'; errors: Record<string, string>; overview: DeliveryOverview }
  > {
    const { letter } = await this.deps.access(user, letterId);
    const now = this.deps.clock.now();
    const parsed = parseDeliverySettings(values, now);
    if (!parsed.ok)
      return { kind: 'invalid', errors: parsed.errors, overview: await this.overviewOf(letter) };
    if (parsed.settings.mode !== 'manual' && !(await this.deps.deliveries.hasRound(letter.id, 'test'))) {
      const errors = { mode: 'deliveries.errors.testFirst' };
      return { kind: 'invalid', errors, overview: await this.overviewOf(letter) };
    }
    const { mode, milestoneEvery, deliverAt } = parsed.settings;
    await this.deps.db.transaction().execute(async (tx) => {
      await this.deps.deliveries.with(tx).saveSettings(letter.id, parsed.settings, now);
      // The reply address is left out: the entry says how the letter goes, not whom it names.
      await this.deps.audit.with(tx).record(
        {
          actor: user,
          action: 'delivery-settings-changed',
          targetType: 'letter',
          targetId: letter.id,
          details: { letterId: letter.id, mode, milestoneEvery, deliverAt: deliverAt?.toISOString() ?? null },
        },
        now,
      );
    });
    return { kind: 'saved' };
  }

  /** Sends the letter to the organizer's own address, once per recipient language, marked as a test. */
  async sendTest(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    // A draft can be tested too: the organizer checks the letter before publishing it.
    if (letter.status === 'delivered') throw refusalError('letterDelivered');
    if ((await this.deps.recipientsOf(letter)).length === 0) throw refusalError('noRecipients');
    return this.deps.rounds.start(letter, 'test', 'manual', {
      requestKey,
      requestedBy: user.id,
      testAddress: user.email,
      actor: user,
    });
  }

  /** Delivers the current version to every recipient now; a closed letter becomes delivered. */
  async deliverNow(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    // The same form sent again (a double click, a reload) is the same delivery, even once the letter
    // it made delivered would refuse a new one.
    const earlier = await this.deps.deliveries.findRoundByRequestKey(requestKey);
    if (earlier && earlier.letterId === letter.id && earlier.kind === 'delivery') return earlier;
    await this.refuseUnless('delivery', letter);
    // Two deliveries of the same version at once: the unique index keeps one, in RoundStarter.start.
    return this.deps.rounds.start(letter, 'delivery', 'manual', {
      requestKey,
      requestedBy: user.id,
      actor: user,
    });
  }

  /** Sends the letter again with today's figures, saying it is an update. */
  async sendUpdate(user: User, letterId: number, requestKey: string): Promise<DeliveryRound> {
    const { letter } = await this.deps.access(user, letterId);
    await this.refuseUnless('update', letter);
    return this.deps.rounds.start(letter, 'update', 'manual', {
      requestKey,
      requestedBy: user.id,
      actor: user,
    });
  }

  /** Creates the rounds that automatic settings call for (at closing, at the goal, at a time, at milestones). */
  async triggerDue(): Promise<number> {
    const now = this.deps.clock.now();
    let created = 0;
    for (const letterId of await this.deps.deliveries.lettersWithAutomaticDelivery()) {
      const letter = await this.deps.letters.findById(letterId);
      if (!letter) continue;
      const settings = deliverySettingsOf(await this.deps.deliveries.settingsOf(letter.id), letter);
      const due = dueRound(
        deliveryState(letter, settings, {
          delivered: await this.deps.deliveries.hasRound(letter.id, 'delivery', letter.currentVersionId),
          tested: await this.deps.deliveries.hasRound(letter.id, 'test'),
        }),
        now,
      );
      if (!due) continue;
      // A round that would reach no one waits, as the organizer's buttons refuse it; the delivery page
      // says why (noRecipients, tiersEmpty), and the round starts once recipients are back in reach.
      // Read here first (no round is measured or begun for nothing every tick), and again by the round
      // in its transaction, with the list held (round-starter.ts): an edit in between also makes it wait.
      const waiting = audienceRefusal(await this.audienceOf(letter));
      if (waiting) {
        this.noteWait(letter.id, due.kind, waiting);
        continue;
      }
      try {
        if (due.kind === 'milestone')
          await this.deps.rounds.start(letter, 'milestone', 'milestone', { milestone: due.milestone });
        else await this.deps.rounds.start(letter, 'delivery', due.trigger, {});
        this.waitsLogged.delete(letter.id);
        created += 1;
      } catch (error) {
        // Another process created it first: the unique indexes keep it to one.
        if (!(error instanceof AppError)) throw error;
        const emptied = refusalOf(error.code);
        if (emptied === 'noRecipients' || emptied === 'tiersEmpty')
          this.noteWait(letter.id, due.kind, emptied);
        // Too large to send: the organizer sees why at the delivery button; operators see it here.
        if (error.code === 'letter_too_large')
          this.deps.logger.warn(
            { letterId: letter.id, ...error.params },
            'automatic delivery refused: letter too large',
          );
      }
    }
    return created;
  }

  /** Logs that a letter's automatic round waits for recipients, once for each reason it waits. */
  private noteWait(letterId: number, kind: string, refusal: RoundRefusal): void {
    if (this.waitsLogged.get(letterId) !== refusal)
      this.deps.logger.warn(
        { letterId, kind, refusal },
        'automatic delivery waits: it would reach no recipient',
      );
    this.waitsLogged.set(letterId, refusal);
  }

  /** Throws the refusal of the one rule (roundRefusal) when the letter may not have this round now. */
  private async refuseUnless(kind: 'delivery' | 'update', letter: Letter): Promise<void> {
    const { rounds, recipients, reachable } = await this.audienceOf(letter);
    const refusal = roundRefusal(kind, this.gateOf(letter, rounds, recipients, reachable));
    if (refusal) throw refusalError(refusal);
  }

  /** The letter's rounds, how many recipients it has, and how many of them its next round would reach. */
  private async audienceOf(
    letter: Letter,
  ): Promise<{ rounds: DeliveryRound[]; recipients: number; reachable: number }> {
    const [rounds, recipients] = await Promise.all([
      this.deps.deliveries.roundsOf(letter.id),
      this.deps.recipientsOf(letter),
    ]);
    const reached = await this.nextRoundRecipients(letter, rounds, recipients);
    return { rounds, recipients: recipients.length, reachable: reached.length };
  }

  /** The recipients the organizer's next round goes to: all, or with an escalation schedule its tiers'. */
  private async nextRoundRecipients<R extends { tier: number }>(
    letter: Letter,
    rounds: readonly DeliveryRound[],
    recipients: readonly R[],
  ): Promise<R[]> {
    const tiers = await this.deps.rounds.nextRoundTiers(
      letter.id,
      rounds,
      recipients.map((r) => r.tier),
    );
    return recipients.filter((r) =>
      inTiers(r.tier, { tierFrom: tiers?.from ?? null, tierTo: tiers?.to ?? null }),
    );
  }

  /**
   * `reachable`: those of the recipients the round would reach. With a schedule whose reached tiers were
   * emptied it would go to no one: a higher tier gets the letter only through a step.
   */
  private gateOf(
    letter: Letter,
    rounds: readonly DeliveryRound[],
    recipients: number,
    reachable: number,
  ): RoundGate {
    return {
      status: letter.status,
      tested: rounds.some((r) => r.kind === 'test'),
      delivered: deliveryOfVersion(rounds, letter.currentVersionId) !== undefined,
      reached: rounds.some((r) => r.kind !== 'test'),
      recipients,
      reachable,
    };
  }
}

/**
 * What the letter's delivery settings need from the letter itself, for its editor (letters' DeliveryNeeds
 * port): said when a save took away the closing date (or goal) the chosen mode waits for.
 */
export function deliveryNeeds(deliveries: Pick<DeliveryRepository, 'settingsOf'>) {
  return {
    async warningsFor(letter: Letter): Promise<string[]> {
      const settings = deliverySettingsOf(await deliveries.settingsOf(letter.id), letter);
      return deliveryWarnings(settings.mode, letter).map((w) => `deliveries.editorWarnings.${w}`);
    },
  };
}
