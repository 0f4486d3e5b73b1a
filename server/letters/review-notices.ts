import type { Tx } from '../db/database.js';
import { headingIn, isComplete, type Letter, type LetterHeading, type LetterText } from './letter.js';

/** The letter a review notice is about: enough to name it and link to it. */
export interface ReviewedLetter {
  id: number;
  slug: string;
  /**
   * Its title for an account reading `language`: in that language where the letter has a complete text
   * in it, else in its main language (else its address). Each notice goes in its account's language, and
   * a Ukrainian organizer was told of a letter by its English title beside a Ukrainian one.
   */
  titleIn(language: string): string;
}

/** What a review is of: a draft to publish, or changes to a published letter. */
export type ReviewKind = 'letter' | 'changes';

/** The e-mails a review step sends, queued in the step's own transaction (H3's mail module implements it). */
export interface ReviewNotices {
  /** Tells every active admin that a letter (or a change to a published letter) waits for their review. */
  awaitingReview(tx: Tx, letter: ReviewedLetter, kind: ReviewKind): Promise<void>;
  /**
   * Tells every active admin that a draft they were asked to review no longer waits: its organizers took
   * the request back (the mail that asked them may already be read).
   */
  withdrawn(tx: Tx, letter: ReviewedLetter): Promise<void>;
  /** Tells the letter's owner and collaborators what the review decided, with the admin's note when sent back. */
  reviewed(
    tx: Tx,
    letter: ReviewedLetter,
    outcome: 'approved' | 'returned',
    kind: ReviewKind,
    note?: string,
  ): Promise<void>;
}

/** What a review notice names: the letter's id, address and its title in each reader's language. */
export function reviewedLetter(
  letter: Pick<Letter, 'id' | 'slug' | 'primaryLanguage'>,
  texts: readonly LetterText[],
): ReviewedLetter {
  return reviewedLetterOfHeadings(
    letter,
    texts.map((text) => ({ ...text, complete: isComplete(text) })),
  );
}

/** reviewedLetter from the letter's headings alone, where its bodies were not read. */
export function reviewedLetterOfHeadings(
  letter: Pick<Letter, 'id' | 'slug' | 'primaryLanguage'>,
  headings: readonly LetterHeading[],
): ReviewedLetter {
  return {
    id: letter.id,
    slug: letter.slug,
    titleIn: (language) => headingIn(headings, language, letter.primaryLanguage)?.title.trim() || letter.slug,
  };
}
