import type { User } from '../accounts/account.js';
import type { AuditAction } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Tx } from '../db/database.js';
import { notFound } from '../lib/errors.js';
import { authorize, letterResource, type Actions, type LetterResource } from '../policy/policy.js';
import { headingIn, type Letter } from './letter.js';
import type { LetterRepository } from './letter-repository.js';
import { reviewedLetterOfHeadings, type ReviewedLetter } from './review-notices.js';

/** The policy's actions on one letter (their resource is the letter). */
type LetterAction = { [A in keyof Actions]: Actions[A] extends LetterResource ? A : never }[keyof Actions];

/** A letter the account was allowed to reach, with what the policy needs to decide further steps. */
export interface AccessedLetter {
  letter: Letter;
  collaboratorIds: number[];
  resource: LetterResource;
}

/** A letter named as a page that asks before a step on it names it: by its title in the reader's language. */
export interface NamedLetter {
  letter: Letter;
  title: string;
  titleLanguage: string;
}

/**
 * The one "load the letter and check the account may reach it" step of every admin use case on a
 * letter: 404 when it does not exist, 403 (with what would help) when the policy refuses.
 */
export class LetterAccess {
  constructor(private readonly letters: LetterRepository) {}

  /** The letter if the user may work on it: 404 when it does not exist, 403 when it is someone else's. */
  async forEdit(user: User, letterId: number, letters = this.letters): Promise<AccessedLetter> {
    return this.forAction(user, letterId, 'letter.edit', letters);
  }

  /** The letter if the policy lets the user take `action` on it: 404 when it does not exist, 403 otherwise. */
  async forAction(
    user: User,
    letterId: number,
    action: LetterAction,
    letters = this.letters,
  ): Promise<AccessedLetter> {
    const found = await this.load(letterId, letters);
    authorize(user, action, found.resource);
    return found;
  }

  /** forAction for a letter named by its address (an organizer's read of its signatures, by the API). */
  async forActionBySlug(user: User, slug: string, action: LetterAction): Promise<AccessedLetter> {
    const found = await this.accessed(await this.letters.findBySlug(slug), this.letters);
    authorize(user, action, found.resource);
    return found;
  }

  /**
   * The letter if the user may review it: 404 when it does not exist, 403 "admins only" otherwise (the
   * refusal says what would help: an admin, not the letter's owner).
   */
  async forReview(user: User, letterId: number, letters = this.letters): Promise<AccessedLetter> {
    return this.forAction(user, letterId, 'letter.review', letters);
  }

  /**
   * The letter's title in the reader's language (else its primary one, else its address), for the pages
   * that ask before a step on it: only the headings are read, not the bodies.
   */
  async titleOf(letter: Letter, language: string): Promise<{ title: string; titleLanguage: string }> {
    const headings = await this.letters.headingsOfVersions([letter.currentVersionId]);
    const heading = headingIn(headings.get(letter.currentVersionId) ?? [], language, letter.primaryLanguage);
    return {
      title: heading?.title.trim() || letter.slug,
      titleLanguage: heading?.language ?? letter.primaryLanguage,
    };
  }

  /** The letter as a notice e-mail names it, in each reader's language (review-notices.ts). */
  async forNotices(letter: Letter): Promise<ReviewedLetter> {
    const headings = await this.letters.headingsOfVersions([letter.currentVersionId]);
    return reviewedLetterOfHeadings(letter, headings.get(letter.currentVersionId) ?? []);
  }

  /** The letter with its title in `language`, for a page that asks before a step on it. */
  async named(letter: Letter, language: string): Promise<NamedLetter> {
    return { letter, ...(await this.titleOf(letter, language)) };
  }

  private async load(letterId: number, letters: LetterRepository): Promise<AccessedLetter> {
    return this.accessed(await letters.findById(letterId), letters);
  }

  private async accessed(letter: Letter | undefined, letters: LetterRepository): Promise<AccessedLetter> {
    if (!letter) throw notFound('letter_not_found', 'errors.letter.notFound');
    const collaboratorIds = await letters.collaboratorIds(letter.id);
    return { letter, collaboratorIds, resource: letterResource(letter, collaboratorIds) };
  }
}

/**
 * The audit entry of an organizer's or admin's step on one letter, written in the step's own
 * transaction. Details always carry the letter's id, so the audit page can name and link it.
 */
export function recordLetterStep(
  audit: AuditRepository,
  tx: Tx,
  user: Pick<User, 'id' | 'email'>,
  action: AuditAction,
  letter: Pick<Letter, 'id' | 'slug'>,
  details: Record<string, unknown>,
  now: Date,
): Promise<number> {
  return audit.with(tx).record(
    {
      actor: { id: user.id, email: user.email },
      action,
      targetType: 'letter',
      targetId: letter.id,
      details: { letterId: letter.id, slug: letter.slug, ...details },
    },
    now,
  );
}
