/** Letters: types and pure rules. No I/O here. */

import type { Salutations } from '../recipients/recipient-salutation.js';
import type { RecipientNames } from '../recipients/recipient-names.js';
import { pickLanguage } from '../lib/languages.js';

export const LETTER_STATUSES = ['draft', 'open', 'closed', 'delivered'] as const;
export type LetterStatus = (typeof LETTER_STATUSES)[number];

/** The legal moves of a letter, written once; the repository refuses any other. */
export const LETTER_TRANSITIONS: Readonly<Record<LetterStatus, readonly LetterStatus[]>> = {
  draft: ['open'],
  open: ['closed'],
  // A closed letter reopens when its organizer extends it; it is delivered once.
  closed: ['open', 'delivered'],
  delivered: [],
};

/** Whether a letter may move from `from` to `to`. */
export function canMoveLetter(from: LetterStatus, to: LetterStatus): boolean {
  return LETTER_TRANSITIONS[from].includes(to);
}

export interface Letter {
  id: number;
  slug: string;
  status: LetterStatus;
  primaryLanguage: string;
  sponsor: string;
  goal: number | null;
  opensAt: Date | null;
  closesAt: Date | null;
  /** When it was closed by hand or by its delivery; null while open, or when its closing date closed it. */
  closedAt: Date | null;
  currentVersionId: number;
  signatureCount: number;
  /** The organizer who owns it; null for demo letters. */
  ownerId: number | null;
  /** Whether reaching the goal closes the letter. */
  closeOnGoal: boolean;
  /** Co-signing organisations, in the organizer's order. */
  organisations: string[];
  reviewRequestedAt: Date | null;
  publishedAt: Date | null;
  /** When changes to this published letter were saved to wait for an admin's review; null when none wait. */
  pendingEditAt: Date | null;
  /**
   * The last time an admin sent the letter (or its changes) back from review, with what they wrote; null
   * once its organizers ask for review again, or it is published.
   */
  returned: { at: Date; note: string } | null;
  /** The https origins allowed to frame its embed; empty: any site may. */
  embedOrigins: string[];
}

/** A letter version as history shows it. */
export interface LetterVersion {
  id: number;
  number: number;
  createdAt: Date;
  createdBy: number | null;
}

/** One translation of the current letter version. */
export interface LetterText {
  language: string;
  title: string;
  summary: string;
  body: string;
}

/** A translation as a list shows it: its title and summary, and whether it is complete (isComplete). */
export interface LetterHeading {
  language: string;
  title: string;
  summary: string;
  complete: boolean;
}

export interface LetterRecipient {
  id: number;
  name: string;
  title: string;
  organisation: string;
  /** Their names in other interface languages (recipientNamedIn). */
  names: RecipientNames;
  language: string;
  /** The country of the government or body they belong to (ISO code; '' for an international body). */
  country: string;
  /** Their salutations by language (the letter opens with the one in its text's language). */
  salutations: Salutations;
  /** 1 embassy, 2 ministry, 3 head of state: when an escalation schedule is set, the order they are reached in. */
  tier: number;
}

/** A translation is complete when it has a title, a summary and a text; only complete ones are published. */
export function isComplete(text: LetterText): boolean {
  return text.title.trim() !== '' && text.summary.trim() !== '' && text.body.trim() !== '';
}

/** Whether two sets of translations say the same thing (the order of languages does not matter). */
export function sameTexts(a: readonly LetterText[], b: readonly LetterText[]): boolean {
  if (a.length !== b.length) return false;
  const byLanguage = new Map(a.map((t) => [t.language, t]));
  return b.every((t) => {
    const other = byLanguage.get(t.language);
    return (
      other !== undefined && other.title === t.title && other.summary === t.summary && other.body === t.body
    );
  });
}

/** Whether a confirmed count has reached a goal that closes the letter. */
export function goalCloses(letter: Pick<Letter, 'goal' | 'closeOnGoal'>, count: number): boolean {
  return letter.closeOnGoal && letter.goal !== null && letter.goal > 0 && count >= letter.goal;
}

/** Why a letter cannot be published yet (i18n keys), or an empty list when it can. */
export function publishProblems(
  letter: Pick<Letter, 'primaryLanguage' | 'closesAt' | 'opensAt'>,
  texts: readonly LetterText[],
  recipientCount: number,
  now: Date,
): string[] {
  const problems: string[] = [];
  const primary = texts.find((t) => t.language === letter.primaryLanguage);
  if (!primary || !isComplete(primary)) problems.push('editor.publish.problems.primaryIncomplete');
  if (recipientCount === 0) problems.push('editor.publish.problems.noRecipients');
  if (letter.closesAt && letter.closesAt <= now) problems.push('editor.publish.problems.closesInPast');
  if (letter.opensAt && letter.closesAt && letter.closesAt <= letter.opensAt)
    problems.push('editor.publish.problems.closesBeforeOpens');
  return problems;
}

/** A warning before publishing: something allowed that the organizer most likely did not mean. */
export interface PublishWarning {
  key: string;
  params: Record<string, string>;
}

/** The web address a copy of a template starts with (letter-drafting-service): `<template>-draft[-n]`. */
const TEMPLATE_COPY_SLUG = /-draft(-\d+)?$/;

/**
 * What to point out before publishing, without refusing it: a web address still named as a template's
 * copy (it cannot change once people sign), co-signing organisations that no text names (the field was
 * filled in for nothing but the PDF annex), and published letters with one of the same titles (people
 * would sign the one they found first).
 */
export function publishWarnings(
  letter: Pick<Letter, 'slug' | 'organisations'>,
  found: {
    /** Whether some text of the letter uses the co-signing organisations merge field. */
    organisationsInText: boolean;
    sameTitled: readonly { slug: string; title: string; language: string }[];
    /** The language the warnings are read in: a letter's title in it is quoted first. */
    readerLanguage?: string;
  },
): PublishWarning[] {
  const warnings: PublishWarning[] = [];
  const { sameTitled } = found;
  if (TEMPLATE_COPY_SLUG.test(letter.slug))
    warnings.push({ key: 'editor.publish.warnings.draftSlug', params: { slug: letter.slug } });
  if (letter.organisations.length > 0 && !found.organisationsInText)
    warnings.push({ key: 'editor.publish.warnings.organisationsUnused', params: {} });
  // One warning a letter, however many of its texts share a title with this one's: the title in the
  // reader's language where that is one of them (a Korean page quoted the Ukrainian title).
  const quoted = new Map<string, { title: string; language: string }>();
  for (const other of sameTitled) {
    const before = quoted.get(other.slug);
    if (!before || (before.language !== found.readerLanguage && other.language === found.readerLanguage))
      quoted.set(other.slug, other);
  }
  for (const [slug, { title }] of quoted)
    warnings.push({ key: 'editor.publish.warnings.sameTitle', params: { title, slug } });
  return warnings;
}

/**
 * Whether a letter may be deleted: a draft never published. Once published, people signed it or may
 * have, and its record stays; it is closed instead.
 */
export function isDeletable(letter: Pick<Letter, 'status' | 'publishedAt'>): boolean {
  return letter.status === 'draft' && letter.publishedAt === null;
}

/** Whether supporters can sign now, and if not, why. */
export type SigningState = 'open' | 'not-yet-open' | 'closed' | 'unpublished';

/** The letter's signing state at `now`: a letter past its closing date is closed even before a job marks it so. */
export function signingState(
  letter: Pick<Letter, 'status' | 'opensAt' | 'closesAt'>,
  now: Date,
): SigningState {
  if (letter.status === 'draft') return 'unpublished';
  if (letter.status !== 'open') return 'closed';
  if (letter.opensAt && now < letter.opensAt) return 'not-yet-open';
  if (letter.closesAt && now >= letter.closesAt) return 'closed';
  return 'open';
}

/**
 * The day a closed letter stopped taking signatures: the day it was closed, or its closing date if that
 * came first (a letter past its date is closed before anyone marks it so). A letter closed early said
 * "Closed on" its planned date, weeks ahead.
 */
export function collectedUntil(letter: Pick<Letter, 'closedAt' | 'closesAt'>): Date | null {
  const { closedAt, closesAt } = letter;
  if (closedAt && closesAt) return closedAt < closesAt ? closedAt : closesAt;
  return closedAt ?? closesAt;
}

/** Whether `value` is written as a letter's web address is: lower-case letters, digits, single hyphens. */
export function isSlug(value: string): boolean {
  return /^[a-z0-9]+(?:-[a-z0-9]+)*$/.test(value);
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

/**
 * The one language fallback for a letter's text, used wherever a text is shown or sent: the complete
 * translation in the requested language, else the complete one in the primary language, else any complete
 * one; a letter with no complete translation falls back the same way over its unfinished texts.
 */
export function textIn<T extends LetterText>(
  texts: readonly T[],
  requested: string | undefined,
  primary: string,
): T | undefined {
  return chooseText(texts, isComplete, requested, primary);
}

/** textIn for list pages, which read a translation's heading and whether it is complete, not its body. */
export function headingIn(
  headings: readonly LetterHeading[],
  requested: string | undefined,
  primary: string,
): LetterHeading | undefined {
  return chooseText(headings, (h) => h.complete, requested, primary);
}

function chooseText<T extends { language: string }>(
  texts: readonly T[],
  complete: (text: T) => boolean,
  requested: string | undefined,
  primary: string,
): T | undefined {
  const done = texts.filter(complete);
  const pool = done.length > 0 ? done : texts;
  const chosen = pickLanguage(
    pool.map((t) => t.language),
    requested,
    primary,
  );
  return pool.find((t) => t.language === chosen);
}

/** Whole days from `now` until the letter closes (0 on its last day); null without a closing date. */
export function daysLeft(closesAt: Date | null, now: Date): number | null {
  if (!closesAt) return null;
  return Math.max(0, Math.ceil((closesAt.getTime() - now.getTime()) / 86_400_000) - 1);
}

/** The round closing a letter starts by itself, as the close page says it before it is pressed. */
export interface ClosingRound {
  recipients: number;
  /** Without a test sent, it waits for one after the letter is closed. */
  tested: boolean;
  /** Whether an earlier version of the letter was delivered already (this one goes as a whole letter again). */
  deliveredBefore: boolean;
}
