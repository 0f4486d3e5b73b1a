import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import { treeRoot } from '../commitments/merkle.js';
import type { Db, Executor } from '../db/database.js';
import { isComplete, textIn, type Letter } from '../letters/letter.js';
import type { LetterAccess } from '../letters/letter-access.js';
import { recordLetterStep } from '../letters/letter-access.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { formatsFor } from '../lib/format.js';
import type { Logger } from '../lib/logger.js';
import type { PlatformMail } from '../mail/platform-mail.js';
import { authorize } from '../policy/policy.js';
import { deliverySettingsOf, senderName, type DeliveryRound } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';
import {
  changeOfLeaves,
  correctedLeaves,
  CORRECTION_TRIGGER,
  erratumLanguage,
  erratumRefusal,
  hasChanged,
  listChangeOf,
  type ErratumRefusal,
  type ListChange,
  type ListedLeaf,
  type RoundList,
} from './erratum.js';
import type { ErratumRepository, PublishedList, ReachedRecipient } from './erratum-repository.js';

/**
 * Where a correction's tree is stored: the commitments' repository (CommitmentRepository.store), which
 * writes a round's commitment and its leaves in order, in the caller's transaction.
 */
export interface CorrectionTrees {
  with(tx: Executor): CorrectionTrees;
  store(
    commitment: {
      roundId: number;
      treeSize: number;
      root: string;
      correctsRoundId?: number | null;
      createdAt: Date;
    },
    leaves: readonly { signatureId: number | null; leafHash: string }[],
  ): Promise<boolean>;
}

export interface ErratumServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  deliveries: DeliveryRepository;
  errata: ErratumRepository;
  trees: CorrectionTrees;
  mail: PlatformMail;
  access: LetterAccess;
  clock: Clock;
  logger: Logger;
  /** A text in a language (the compiled letters' default sponsor, "its organizers"; the sender's name). */
  translate: (language: string, key: string, params?: Record<string, unknown>) => string;
}

/** What the confirmation page shows before a correction is sent. */
export interface ErratumPreview {
  letter: Letter;
  round: DeliveryRound;
  change: ListChange;
  /** The corrected list's size and root. */
  treeSize: number;
  root: string;
  recipients: ReachedRecipient[];
  refusal: ErratumRefusal | null;
}

const REFUSALS: Record<ErratumRefusal, [code: string, messageKey: string]> = {
  unchanged: ['erratum_unchanged', 'errata.refusals.unchanged'],
  alreadySent: ['erratum_already_sent', 'errata.refusals.alreadySent'],
  noRecipients: ['erratum_no_recipients', 'errata.refusals.noRecipients'],
};

/** The message that says why a correction is refused. */
export function erratumRefusalKey(refusal: ErratumRefusal): string {
  return REFUSALS[refusal][1];
}

const hex = (b: Buffer) => b.toString('hex');

/** The corrected list of a delivered one: its remaining leaves in order, their root, and the change. */
function correctionOf(leaves: readonly ListedLeaf[]): {
  remaining: ListedLeaf[];
  root: string;
  change: ListChange;
} {
  const remaining = correctedLeaves(leaves);
  return {
    remaining,
    root: hex(treeRoot(remaining.map((l) => Buffer.from(l.leafHash, 'hex')))),
    change: changeOfLeaves(leaves),
  };
}

/** The delivered list of a round (not a correction's), with its corrections oldest first. */
function deliveredList(
  lists: readonly PublishedList[],
  roundId: number,
): { list: PublishedList; corrections: PublishedList[] } | undefined {
  const list = lists.find((l) => l.roundId === roundId && l.correctsRoundId === null);
  if (!list) return undefined;
  return { list, corrections: lists.filter((l) => l.correctsRoundId === roundId) };
}

/**
 * Errata (issue 15 §5): a delivered list loses signatures (withdrawn, erased, invalidated); the organizer
 * sees by how many, and sends its recipients a correction with the new count and the root of the list
 * less those signatures: a round of kind 'update' made by a correction (trigger 'correction'), whose
 * commitment names the round it corrects.
 */
export class ErratumService {
  constructor(private readonly deps: ErratumServiceDeps) {}

  /**
   * The delivered lists of a letter with what changed since each went, for the delivery page (the
   * caller has checked the account may see the letter). The exact refusal (it needs the new root) is
   * worked out only for a list that changed.
   */
  async listsOf(letterId: number): Promise<RoundList[]> {
    const lists = await this.deps.errata.listsOf(letterId);
    const delivered = lists.filter((l) => l.correctsRoundId === null);
    const counts = await this.deps.errata.leafStates(delivered.map((l) => l.roundId));
    const result: RoundList[] = [];
    for (const list of delivered) {
      const change = listChangeOf(list.treeSize, counts.get(list.roundId) ?? []);
      const corrections = lists
        .filter((l) => l.correctsRoundId === list.roundId)
        .map((l) => ({ roundId: l.roundId, treeSize: l.treeSize, root: l.root, createdAt: l.createdAt }));
      let refusal: ErratumRefusal | null = 'unchanged';
      if (hasChanged(change)) {
        const { root } = correctionOf(await this.deps.errata.leavesOf(list.roundId));
        refusal = erratumRefusal({
          newRoot: root,
          deliveredRoot: list.root,
          latestCorrectionRoot: corrections.at(-1)?.root ?? null,
          recipients: (await this.deps.errata.reachedBy(list.roundId)).length,
        });
      }
      result.push({ roundId: list.roundId, root: list.root, change, corrections, refusal });
    }
    return result;
  }

  /** What a correction of this round would say and to whom, for the confirmation page. */
  async preview(user: User, letterId: number, roundId: number): Promise<ErratumPreview> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'delivery.correct', resource);
    const { round, list, corrections } = await this.listToCorrect(letter, roundId);
    const leaves = await this.deps.errata.leavesOf(round.id);
    const { remaining, root, change } = correctionOf(leaves);
    const recipients = await this.deps.errata.reachedBy(round.id);
    return {
      letter,
      round,
      change,
      treeSize: remaining.length,
      root,
      recipients,
      refusal: erratumRefusal({
        newRoot: root,
        deliveredRoot: list.root,
        latestCorrectionRoot: corrections.at(-1)?.root ?? null,
        recipients: recipients.length,
      }),
    };
  }

  /**
   * Sends the correction: in one transaction, a correction round with its commitment (the delivered
   * list less the signatures that left it, same order, with their leaves copied so receipts work for it
   * too), one message per recipient the delivered round reached, their delivery records and the audit
   * entry. `confirmedRoot` is the root the confirmation page showed: when the list has changed since,
   * nothing is sent. The same request key again returns the round it made.
   */
  async send(
    user: User,
    letterId: number,
    roundId: number,
    request: { requestKey: string; confirmedRoot: string },
  ): Promise<DeliveryRound> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'delivery.correct', resource);
    const earlier = await this.deps.deliveries.findRoundByRequestKey(request.requestKey);
    if (earlier) {
      if (earlier.letterId === letter.id && earlier.trigger === CORRECTION_TRIGGER) return earlier;
      throw new AppError(409, 'erratum_already_sent', 'errata.refusals.alreadySent');
    }
    const { round } = await this.listToCorrect(letter, roundId);
    const settings = deliverySettingsOf(await this.deps.deliveries.settingsOf(letter.id), letter);
    const texts = (await this.deps.letters.textsOfVersion(round.letterVersionId)).filter(isComplete);
    const now = this.deps.clock.now();
    const made = await this.deps.db.transaction().execute(async (tx) => {
      const errata = this.deps.errata.with(tx);
      const deliveries = this.deps.deliveries.with(tx);
      // Corrections of one round are decided one at a time: read what the last one published after it.
      await errata.holdRound(round.id, now);
      const lists = await errata.listsOf(letter.id);
      const found = deliveredList(lists, round.id);
      if (!found) throw notFound('erratum_no_list', 'errata.refusals.noList');
      const { remaining, root, change } = correctionOf(await errata.leavesOf(round.id));
      const recipients = await errata.reachedBy(round.id);
      const refusal = erratumRefusal({
        newRoot: root,
        deliveredRoot: found.list.root,
        latestCorrectionRoot: found.corrections.at(-1)?.root ?? null,
        recipients: recipients.length,
      });
      if (refusal) {
        const [code, messageKey] = REFUSALS[refusal];
        throw new AppError(409, code, messageKey);
      }
      if (root !== request.confirmedRoot)
        throw new AppError(409, 'erratum_changed', 'errata.refusals.changedMeanwhile');
      const created = await deliveries.createRound(
        {
          letterId: letter.id,
          letterVersionId: round.letterVersionId,
          kind: 'update',
          trigger: CORRECTION_TRIGGER,
          signatureCount: remaining.length,
          requestedBy: user.id,
          requestKey: request.requestKey,
        },
        now,
      );
      // The same key pressed twice at once: the first made it.
      if (!created) return undefined;
      await this.deps.trees.with(tx).store(
        { roundId: created.id, treeSize: remaining.length, root, correctsRoundId: round.id, createdAt: now },
        remaining.map((l) => ({ signatureId: l.signatureId, leafHash: l.leafHash })),
      );
      for (const recipient of recipients) {
        const language = erratumLanguage(recipient.language);
        const text = textIn(texts, recipient.language, letter.primaryLanguage);
        const numbers = formatsFor(language);
        const outboxMessageId = await this.deps.mail.toRecipient(
          tx,
          {
            template: 'letter-erratum',
            to: recipient.toAddress,
            language,
            deliveryRoundId: created.id,
            // Answering it reaches whoever answering the letter reached: the Reply-To the letter went with
            // (its delivery's own reply address, whatever the organisation's is), and it arrives in the
            // letter's thread. A letter that went without one: the organisation's address now, if any.
            replyTo: recipient.replyTo ?? (settings.replyTo || null),
            // Under the name the letter went under, in the language of this message.
            fromName: senderName((key, params) => this.deps.translate(language, key, params), letter.sponsor),
            headers: {
              'X-Undersigned-Letter': letter.slug,
              'In-Reply-To': recipient.messageId,
              References: recipient.messageId,
            },
            context: {
              title: text?.title ?? letter.slug,
              letterTitle: text?.title ?? letter.slug,
              titleLanguage: text?.language ?? '',
              deliveredOn: numbers.date(round.createdAt),
              before: change.delivered,
              beforeFormatted: numbers.number(change.delivered),
              after: change.now,
              afterFormatted: numbers.number(change.now),
              count: change.now,
              formatted: numbers.number(change.now),
              withdrawn: change.withdrawn,
              withdrawnFormatted: numbers.number(change.withdrawn),
              erased: change.erased,
              erasedFormatted: numbers.number(change.erased),
              invalidated: change.invalidated,
              invalidatedFormatted: numbers.number(change.invalidated),
              root,
              verifyUrl: this.deps.mail.links.verifyUrl(letter.slug, created.id),
              letterUrl: this.deps.mail.links.letterUrl(letter.slug, { text: recipient.language }),
              sponsor: letter.sponsor || this.defaultSponsor(language),
              replyTo: settings.replyTo,
            },
          },
          now,
        );
        await deliveries.addDelivery(
          {
            roundId: created.id,
            recipientId: recipient.recipientId,
            recipientName: recipient.recipientName,
            language: recipient.language,
            outboxMessageId,
          },
          now,
        );
      }
      // Written whole: nothing compiles a correction, so it is queued at once.
      await deliveries.setRoundStatus(created.id, 'compiling', 'queued', now);
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'erratum-sent',
        letter,
        {
          round: created.id,
          corrects: round.id,
          before: change.delivered,
          after: change.now,
          withdrawn: change.withdrawn,
          erased: change.erased,
          invalidated: change.invalidated,
          root,
          recipients: recipients.length,
        },
        now,
      );
      return created;
    });
    if (made) {
      this.deps.mail.wake();
      this.deps.logger.info(
        { letterId: letter.id, roundId: made.id, corrects: round.id },
        'correction round created',
      );
      return made;
    }
    const twin = await this.deps.deliveries.findRoundByRequestKey(request.requestKey);
    if (twin) return twin;
    throw new AppError(409, 'erratum_already_sent', 'errata.refusals.alreadySent');
  }

  /** The delivered round of this letter with its published list: 404 for another letter's, a test, a correction, or one without a list. */
  private async listToCorrect(
    letter: Letter,
    roundId: number,
  ): Promise<{ round: DeliveryRound; list: PublishedList; corrections: PublishedList[] }> {
    const round = await this.deps.deliveries.findRound(roundId);
    if (
      !round ||
      round.letterId !== letter.id ||
      round.kind === 'test' ||
      round.trigger === CORRECTION_TRIGGER
    )
      throw notFound('erratum_no_list', 'errata.refusals.noList');
    const found = deliveredList(await this.deps.errata.listsOf(letter.id), round.id);
    if (!found) throw notFound('erratum_no_list', 'errata.refusals.noList');
    return { round, ...found };
  }

  private defaultSponsor(language: string): string {
    return this.deps.translate(language, 'emails.letter-delivery.defaultSponsor');
  }
}
