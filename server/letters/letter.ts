/** Letters: types and pure rules. No I/O here. */

export const LETTER_STATUSES = ['draft', 'open', 'closed', 'delivered'] as const;
export type LetterStatus = (typeof LETTER_STATUSES)[number];

export interface Letter {
  id: number;
  slug: string;
  status: LetterStatus;
  primaryLanguage: string;
  sponsor: string;
  goal: number | null;
  opensAt: Date | null;
  closesAt: Date | null;
  currentVersionId: number;
  signatureCount: number;
}

/** One translation of the current letter version. */
export interface LetterText {
  language: string;
  title: string;
  summary: string;
  body: string;
}

export interface LetterRecipient {
  id: number;
  name: string;
  title: string;
  organisation: string;
  salutation: string;
  language: string;
}

/** Whether supporters can sign now, and if not, why. */
export type SigningState = 'open' | 'not-yet-open' | 'closed' | 'unpublished';

/** The letter's signing state at `now`: a letter past its closing date is closed even before a job marks it so. */
export function signingState(letter: Pick<Letter, 'status' | 'opensAt' | 'closesAt'>, now: Date): SigningState {
  if (letter.status === 'draft') return 'unpublished';
  if (letter.status !== 'open') return 'closed';
  if (letter.opensAt && now < letter.opensAt) return 'not-yet-open';
  if (letter.closesAt && now >= letter.closesAt) return 'closed';
  return 'open';
}

/** Whether the public may see the letter at all (drafts are the organizer's). */
export function isPublic(letter: Pick<Letter, 'status'>): boolean {
  return letter.status !== 'draft';
}

/**
 * A pending signature may still be confirmed after the letter closed (the supporter signed in time and
 * was slow to open the e-mail), but not once the letter has been delivered with its final count.
 */
export function canConfirm(letter: Pick<Letter, 'status'>): boolean {
  return letter.status === 'open' || letter.status === 'closed';
}

/** Progress toward the goal as a whole percentage, 0–100; null when the letter has no goal. */
export function progressPercent(count: number, goal: number | null): number | null {
  if (!goal || goal <= 0) return null;
  return Math.min(100, Math.floor((count / goal) * 100));
}

/** The translation to show: the requested language if the letter has it, else the letter's primary language. */
export function pickLanguage(available: readonly string[], requested: string | undefined, primary: string): string {
  if (requested && available.includes(requested)) return requested;
  if (available.includes(primary)) return primary;
  return available[0] ?? primary;
}

/** Whole days from `now` until the letter closes (0 on its last day); null without a closing date. */
export function daysLeft(closesAt: Date | null, now: Date): number | null {
  if (!closesAt) return null;
  return Math.max(0, Math.ceil((closesAt.getTime() - now.getTime()) / 86_400_000) - 1);
}
