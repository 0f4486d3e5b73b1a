import type { LetterEvents } from './letter-events.js';
import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError } from '../lib/errors.js';
import { authorize, can } from '../policy/policy.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { controllerIsSet } from '../settings/settings.js';
import {
  isDeletable,
  publishProblems,
  publishWarnings,
  sameTexts,
  type Letter,
  type LetterRecipient,
  type PublishWarning,
} from './letter.js';
import { usesField } from './letter-text-check.js';
import type { LetterAccess, NamedLetter } from './letter-access.js';
import { recordLetterStep } from './letter-access.js';
import type { LetterRepository } from './letter-repository.js';
import { reviewedLetter, type ReviewKind, type ReviewNotices } from './review-notices.js';

export interface LetterWorkflowServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  recipients: RecipientRepository;
  settings: SettingsRepository;
  access: LetterAccess;
  reviewNotices: ReviewNotices;
  clock: Clock;
  /** Hears a letter's publication in its transaction (webhooks); none when unset. */
  events?: LetterEvents;
}

/** What publishing a draft would do, shown before the organizer confirms it. */
export interface PublishCheck {
  letter: Letter;
  /**
   * The title of each text, by language (complete or not, as the editor and the lists show them): the
   * page names the letter in its reader's.
   */
  titles: Record<string, string>;
  recipients: LetterRecipient[];
  /** Why it cannot be published yet (i18n keys); empty when it can. */
  problems: string[];
  /** What publishing it would allow but is most likely not meant (publishWarnings). */
  warnings: PublishWarning[];
  /** Publishing asks an admin first: review is required and this account may not skip it. */
  asksForReview: boolean;
  /**
   * Whether the platform names its data controller. Publishing goes ahead without (the privacy notice
   * then says so), but the page points it out: supporters would not know whom to ask about their data.
   */
  controllerNamed: boolean;
  /** Whether this account can name it (in the settings), or must ask an admin. */
  mayNameController: boolean;
  /** When the letter opens for signing once published: now, or its later opening date. */
  opensAt: Date;
  /** Whether that is a later date than now. */
  opensLater: boolean;
}

export type PublishOutcome =
  { kind: 'published' } | { kind: 'review-requested' } | { kind: 'not-ready'; check: PublishCheck };

/** The audit entry's details of a return: its note, when there is one. */
const noteDetail = (note: string) => (note ? { note } : {});

/** A letter's life after drafting: publishing (or asking for review), review decisions, closing and reopening. */
export class LetterWorkflowService {
  constructor(private readonly deps: LetterWorkflowServiceDeps) {}

  /**
   * What publishing the draft would do, for the confirmation page; 409 when it is not a draft.
   * `readerLanguage`, the page's, chooses which title a duplicate-title warning quotes.
   */
  async publishCheck(user: User, letterId: number, readerLanguage?: string): Promise<PublishCheck> {
    return this.check(user, letterId, this.deps.letters, this.deps.settings, readerLanguage);
  }

  private async check(
    user: User,
    letterId: number,
    letters: LetterRepository,
    settings: SettingsRepository,
    readerLanguage?: string,
  ): Promise<PublishCheck> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId, letters);
    if (letter.status !== 'draft') throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
    const now = this.deps.clock.now();
    const [texts, recipients, current] = await Promise.all([
      letters.textsOfVersion(letter.currentVersionId),
      letters.recipientsOfLetters([letter.id]),
      settings.read(),
    ]);
    const listed = recipients.get(letter.id) ?? [];
    const titles = [...new Set(texts.map((text) => text.title.trim()).filter((title) => title !== ''))];
    const sameTitled = await letters.publicLettersTitled(titles, letter.id);
    return {
      letter,
      titles: Object.fromEntries(texts.map((text) => [text.language, text.title])),
      recipients: listed,
      problems: publishProblems(letter, texts, listed.length, now),
      warnings: publishWarnings(letter, {
        organisationsInText: texts.some((text) => usesField(text.body, 'organisations')),
        sameTitled,
        readerLanguage,
      }),
      asksForReview: current.requireReview && !can(user, 'letter.publish-unreviewed', resource),
      controllerNamed: controllerIsSet(current),
      mayNameController: can(user, 'settings.change'),
      opensAt: letter.opensAt && letter.opensAt > now ? letter.opensAt : now,
      opensLater: letter.opensAt !== null && letter.opensAt > now,
    };
  }

  /**
   * Publishes a draft. When the platform requires review, an organizer's publish asks an admin
   * instead (and admins are told); an admin's publish is the review (and the organizers are told).
   * Decided on the letter as it is inside the transaction. `reviewSeen`: the review request the admin's
   * page approved (its time, '' for none).
   */
  async publish(user: User, letterId: number, reviewSeen = ''): Promise<PublishOutcome> {
    await this.deps.access.forEdit(user, letterId);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx): Promise<PublishOutcome> => {
      const letters = this.deps.letters.with(tx);
      const check = await this.check(user, letterId, letters, this.deps.settings.with(tx));
      if (check.problems.length > 0) return { kind: 'not-ready', check };
      const { letter } = check;
      // The page approved a request its organizers withdrew (or withdrew and made again) since: they may
      // be halfway through a change, so nothing is published on a page that no longer says what is.
      if (!check.asksForReview && reviewSeen !== '' && letter.reviewRequestedAt?.toISOString() !== reviewSeen)
        throw new AppError(409, 'review_withdrawn', 'errors.reviewWithdrawn');
      const notice = reviewedLetter(letter, await letters.textsOfVersion(letter.currentVersionId));
      if (check.asksForReview) {
        // Asked again while it waits: nothing new to review, nothing recorded twice.
        if (letter.reviewRequestedAt) return { kind: 'review-requested' };
        if (!(await letters.setReviewRequested(letter.id, now)))
          throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
        await recordLetterStep(this.deps.audit, tx, user, 'letter-review-requested', letter, {}, now);
        await this.deps.reviewNotices.awaitingReview(tx, notice, 'letter');
        return { kind: 'review-requested' };
      }
      // Compare-and-set: a second click, or an admin publishing at the same moment, publishes once.
      if (
        !(await letters.transition(
          letter.id,
          'draft',
          'open',
          { publishedAt: now, opensAt: check.opensAt },
          now,
        ))
      )
        throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-published',
        letter,
        { reviewed: letter.reviewRequestedAt !== null },
        now,
      );
      await this.deps.events?.record(tx, { type: 'letter.published', letterId: letter.id }, now);
      // Publishing a letter that waited for review is the review's approval.
      if (letter.reviewRequestedAt) await this.deps.reviewNotices.reviewed(tx, notice, 'approved', 'letter');
      return { kind: 'published' };
    });
  }

  /** What an admin is about to send back, for the page that asks for a note: 409 when nothing waits. */
  async returnCheck(user: User, letterId: number, kind: ReviewKind): Promise<Letter> {
    const { letter } = await this.deps.access.forReview(user, letterId);
    const waiting =
      kind === 'letter' ? letter.status === 'draft' && letter.reviewRequestedAt : letter.pendingEditAt;
    if (!waiting) throw new AppError(409, 'nothing_waiting', 'policy.review.nothingWaiting');
    return letter;
  }

  /**
   * An admin sends a letter waiting for review back to its organizers, who are told, with the admin's
   * note ('' for none) in the e-mail and in the editor until they ask for review again.
   */
  async returnToDraft(user: User, letterId: number, note: string): Promise<void> {
    await this.deps.access.forReview(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const { letter } = await this.deps.access.forReview(user, letterId, letters);
      if (!(await letters.returnFromReview(letterId, note, now)))
        throw new AppError(409, 'no_review_waiting', 'policy.review.nothingWaiting');
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-returned-to-draft',
        letter,
        noteDetail(note),
        now,
      );
      await this.deps.reviewNotices.reviewed(
        tx,
        reviewedLetter(letter, await letters.textsOfVersion(letter.currentVersionId)),
        'returned',
        'letter',
        note,
      );
    });
  }

  /**
   * An admin approves the changes waiting on a published letter: they become what the public reads and
   * signs and what recipients receive. `seenAt` is when the changes the admin looked at were saved: a
   * newer edit is not approved unseen.
   */
  async approveChanges(user: User, letterId: number, seenAt: Date): Promise<{ newVersion: number | null }> {
    await this.deps.access.forReview(user, letterId);
    if (Number.isNaN(seenAt.getTime())) throw new AppError(400, 'bad_request', 'errors.badRequest');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const current = await letters.findById(letterId);
      const pending = await letters.pendingEdit(letterId);
      if (!current || !pending) throw new AppError(409, 'no_changes_waiting', 'policy.review.nothingWaiting');
      if (pending.at.getTime() !== seenAt.getTime())
        throw new AppError(409, 'changes_changed', 'policy.review.changedSince');
      if (current.status === 'delivered')
        throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
      if (!(await letters.clearPendingEdit(letterId, pending.at)))
        throw new AppError(409, 'changes_changed', 'policy.review.changedSince');
      let newVersion: number | null = null;
      if (!sameTexts(await letters.textsOfVersion(current.currentVersionId), pending.texts))
        newVersion = (await letters.addVersion(letterId, pending.texts, pending.by, now)).number;
      await letters.updateDetails(letterId, { ...pending.details, slug: current.slug }, now);
      // A recipient removed from the directory since the changes were saved is left out.
      const still = await this.deps.recipients.with(tx).findByIds(pending.recipientIds);
      await letters.setRecipients(
        letterId,
        still.map((r) => r.id),
      );
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-changes-approved',
        current,
        { version: newVersion },
        now,
      );
      await this.deps.reviewNotices.reviewed(
        tx,
        reviewedLetter({ ...current, primaryLanguage: pending.details.primaryLanguage }, pending.texts),
        'approved',
        'changes',
      );
      return { newVersion };
    });
  }

  /**
   * An admin sends changes waiting for review back: the letter stays as approved; its organizers are
   * told, with the admin's note ('' for none), which the editor shows until they submit changes again.
   */
  async returnChanges(user: User, letterId: number, note: string): Promise<void> {
    const { letter } = await this.deps.access.forReview(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      if (!(await letters.clearPendingEdit(letterId)))
        throw new AppError(409, 'no_changes_waiting', 'policy.review.nothingWaiting');
      await letters.recordChangesReturned(letterId, note, now);
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-changes-returned',
        letter,
        noteDetail(note),
        now,
      );
      await this.deps.reviewNotices.reviewed(
        tx,
        reviewedLetter(letter, await letters.textsOfVersion(letter.currentVersionId)),
        'returned',
        'changes',
        note,
      );
    });
  }

  /**
   * The draft whose review request its organizers would withdraw, for the page that asks first; whether
   * one still waits (the page says so and offers no button when not). 403 for an admin who is not one
   * of its organizers: an admin approves it or sends it back instead.
   */
  async withdrawReviewCheck(user: User, letterId: number): Promise<{ letter: Letter; waiting: boolean }> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.withdraw-review', resource);
    return { letter, waiting: letter.status === 'draft' && letter.reviewRequestedAt !== null };
  }

  /**
   * The letter's organizers take back their request for review: the letter is a plain draft again, out
   * of the admins' review list, and the admins are told it no longer waits. 409 when nothing waits any
   * more (withdrawn in another tab, or an admin published it or sent it back first).
   */
  async withdrawReviewRequest(user: User, letterId: number): Promise<void> {
    await this.withdrawReviewCheck(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const { letter, resource } = await this.deps.access.forEdit(user, letterId, letters);
      authorize(user, 'letter.withdraw-review', resource);
      // Compare-and-set: an admin's decision at the same moment, or a second click, wins once.
      if (!(await letters.withdrawReviewRequest(letterId)))
        throw new AppError(409, 'no_review_waiting', 'policy.review.nothingToWithdraw');
      await recordLetterStep(this.deps.audit, tx, user, 'letter-review-withdrawn', letter, {}, now);
      await this.deps.reviewNotices.withdrawn(
        tx,
        reviewedLetter(letter, await letters.textsOfVersion(letter.currentVersionId)),
      );
    });
  }

  /** The letter to close, for the page that asks first. */
  async closeCheck(user: User, letterId: number): Promise<Letter> {
    return (await this.deps.access.forEdit(user, letterId)).letter;
  }

  /**
   * The draft deleting would remove, named for the page that asks first: 409 for a letter published
   * once (it is closed instead), 403 for a collaborator (only its owner or an admin deletes it).
   */
  async deleteCheck(user: User, letterId: number, language: string): Promise<NamedLetter> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.delete-draft', resource);
    if (!isDeletable(letter)) throw new AppError(409, 'letter_published', 'errors.letterPublishedOnce');
    return this.deps.access.named(letter, language);
  }

  /**
   * Deletes a draft never published, with a review request it waits on (withdrawn with it). The audit
   * entry keeps its title, for the log to name what is gone.
   */
  async deleteDraft(user: User, letterId: number): Promise<void> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.delete-draft', resource);
    const { title } = await this.deps.access.titleOf(letter, letter.primaryLanguage);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      // Compare-and-set: a draft published meanwhile (by an admin's approval) is not deleted.
      if (!(await this.deps.letters.with(tx).deleteDraft(letter.id)))
        throw new AppError(409, 'letter_published', 'errors.letterPublishedOnce');
      await recordLetterStep(this.deps.audit, tx, user, 'letter-deleted', letter, { title }, now);
    });
  }

  /** Closes an open letter by hand: nobody can sign it any more. */
  async close(user: User, letterId: number): Promise<void> {
    const { letter } = await this.deps.access.forEdit(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      // Compare-and-set: closed once, whoever presses first.
      if (!(await this.deps.letters.with(tx).transition(letter.id, 'open', 'closed', { closedAt: now }, now)))
        throw new AppError(409, 'letter_not_open', 'errors.letterNotOpen');
      await recordLetterStep(this.deps.audit, tx, user, 'letter-closed', letter, {}, now);
    });
  }

  /** Reopens a closed letter whose closing date (if any) is still ahead. */
  async reopen(user: User, letterId: number): Promise<void> {
    await this.deps.access.forEdit(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const { letter } = await this.deps.access.forEdit(user, letterId, letters);
      if (letter.closesAt && letter.closesAt <= now)
        throw new AppError(409, 'letter_closing_date_passed', 'errors.letterClosingDatePassed');
      if (!(await letters.transition(letter.id, 'closed', 'open', { closedAt: null }, now)))
        throw new AppError(409, 'letter_not_closed', 'errors.letterNotClosed');
      await recordLetterStep(this.deps.audit, tx, user, 'letter-reopened', letter, {}, now);
    });
  }

  /** Closes open letters past their closing date; the scheduler calls it every minute. */
  async closeDue(): Promise<number[]> {
    const now = this.deps.clock.now();
    // Also letters whose goal was lowered below their count: no confirmation comes to close them.
    return [...(await this.deps.letters.closeDue(now)), ...(await this.deps.letters.closeAtGoal(now))];
  }
}
