import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { AccessedLetter } from '../letters/letter-access.js';
import { recordLetterStep } from '../letters/letter-access.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import { publishRefusal, type ReplyInList } from './delivery-reply.js';
import type { DeliveryReplyRepository } from './delivery-reply-repository.js';

export interface DeliveryReplyServiceDeps {
  db: Db;
  replies: DeliveryReplyRepository;
  audit: AuditRepository;
  clock: Clock;
  /** The letter if the user may reach it (404, or 403 for someone else's): LetterAccess.forEdit. */
  letterFor: (user: User, letterId: number) => Promise<AccessedLetter>;
  /** Whether replies can be received at all (REPLY_ADDRESS): the page says so when they cannot. */
  receiving: boolean;
}

/** A letter's replies as the organizer's page shows them, newest first. */
export interface LetterReplies {
  letter: AccessedLetter['letter'];
  replies: ReplyInList[];
  receiving: boolean;
}

/**
 * The organizer's side of replies: reading a letter's replies, and publishing one on the letter's
 * public record or taking it off, each allowed by the policy (reply.manage: whoever may work on the
 * letter) and audited in its transaction.
 */
export class DeliveryReplyService {
  constructor(private readonly deps: DeliveryReplyServiceDeps) {}

  private async letter(user: User, letterId: number): Promise<AccessedLetter> {
    const accessed = await this.deps.letterFor(user, letterId);
    authorize(user, 'reply.manage', accessed.resource);
    return accessed;
  }

  async list(user: User, letterId: number): Promise<LetterReplies> {
    const { letter } = await this.letter(user, letterId);
    return { letter, replies: await this.deps.replies.listOf(letter.id), receiving: this.deps.receiving };
  }

  /** One reply of the letter (404 when it is another letter's). */
  async find(
    user: User,
    letterId: number,
    replyId: number,
  ): Promise<{ letter: AccessedLetter['letter']; reply: ReplyInList }> {
    const { letter } = await this.letter(user, letterId);
    const reply = await this.deps.replies.findInList(replyId);
    if (!reply || reply.letterId !== letter.id) throw notFound('reply_not_found', 'replies.notFound');
    return { letter, reply };
  }

  /**
   * Publishes a reply on the letter's record (recipient, date, subject and text; never the sender's
   * address). An automatic reply or one to a test is refused (409); publishing twice changes nothing.
   */
  async publish(user: User, letterId: number, replyId: number): Promise<void> {
    const { letter, reply } = await this.find(user, letterId, replyId);
    const refusal = publishRefusal(reply);
    if (refusal) throw new AppError(409, `reply_${refusal}`, `replies.refusals.${refusal}`);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.replies.with(tx).publish(reply.id, user.id, now))) return;
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'reply-published',
        letter,
        { replyId: reply.id, recipient: reply.recipientName, round: reply.roundId },
        now,
      );
    });
  }

  /** Takes a published reply off the record; one not published is left as it is. */
  async unpublish(user: User, letterId: number, replyId: number): Promise<void> {
    const { letter, reply } = await this.find(user, letterId, replyId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.replies.with(tx).unpublish(reply.id))) return;
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'reply-unpublished',
        letter,
        { replyId: reply.id, recipient: reply.recipientName, round: reply.roundId },
        now,
      );
    });
  }
}
