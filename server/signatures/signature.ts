/** Signatures: types and pure rules. No I/O here. */
import type { ReviewReason, ScreeningVerdict, SuspectReason } from './signing-screen.js';

export const SIGNATURE_STATUSES = ['pending', 'confirmed', 'withdrawn', 'invalidated'] as const;
export type SignatureStatus = (typeof SIGNATURE_STATUSES)[number];

/** The legal moves, written once. Every status change in the repository is checked against this. */
export const SIGNATURE_TRANSITIONS: Readonly<Record<SignatureStatus, readonly SignatureStatus[]>> = {
  pending: ['confirmed', 'withdrawn', 'invalidated'],
  confirmed: ['withdrawn', 'invalidated'],
  withdrawn: ['pending'],
  // Restoring returns a signature to what it was before it was invalidated.
  invalidated: ['confirmed', 'pending'],
};

export function canMove(from: SignatureStatus, to: SignatureStatus): boolean {
  return SIGNATURE_TRANSITIONS[from].includes(to);
}

/** Which signatures a list reads (exports): a letter, statuses, a country, a window of signing days, consent. */
export interface SignatureFilters {
  /** A letter's slug; undefined for every letter. */
  letter: string | undefined;
  statuses: SignatureStatus[];
  country: string | undefined;
  /** Signed on or after the start of this UTC day. */
  from: Date | undefined;
  /** Signed before the end of this UTC day. */
  to: Date | undefined;
  consent: boolean | undefined;
}

/** How a supporter's name appears publicly and in the delivered letter. */
export const DISPLAY_CHOICES = ['full', 'initials', 'hidden'] as const;
export type DisplayChoice = (typeof DISPLAY_CHOICES)[number];

/** The first e-mail plus this many re-sends when the same address signs again while pending. */
export const MAX_CONFIRMATION_SENDS = 4;

export interface Signature {
  id: number;
  letterId: number;
  letterVersionId: number;
  ref: string;
  status: SignatureStatus;
  fullName: string;
  email: string;
  country: string;
  city: string;
  organisation: string;
  jobTitle: string;
  display: DisplayChoice;
  /** The language of the letter text the supporter read. */
  language: string;
  /** The language of the pages they signed on: every e-mail to them is written in it. */
  interfaceLanguage: string;
  consentUpdates: boolean;
  confirmationSends: number;
  createdAt: Date;
  confirmedAt: Date | null;
  /** Why screening silenced it: while any is left, it is never confirmed or counted. */
  suspectReasons: SuspectReason[];
  /** Why screening flagged it for moderation; it counts as usual. */
  reviewReasons: ReviewReason[];
  /** When the supporter of a silenced signature clicked its confirmation link (cleared: it is confirmed then). */
  confirmRequestedAt: Date | null;
}

/** Whether screening silenced a signature: answered like any other, never confirmed or counted until cleared. */
export function isSuspect(signature: Pick<Signature, 'suspectReasons'>): boolean {
  return signature.suspectReasons.length > 0;
}

/** Every screen's findings as one verdict: each reason once, in the order first found. */
export function mergeVerdicts(verdicts: readonly ScreeningVerdict[]): ScreeningVerdict {
  return {
    suspect: [...new Set(verdicts.flatMap((v) => v.suspect))],
    review: [...new Set(verdicts.flatMap((v) => v.review))],
  };
}

/** Reasons as stored: comma-separated stable codes, null when there are none. */
export function storedReasons(reasons: readonly string[]): string | null {
  return reasons.length > 0 ? reasons.join(',') : null;
}

/** Stored reasons back as a list (an empty or null column is no reason). */
export function parseReasons<R extends string>(stored: string | null): R[] {
  return stored ? (stored.split(',').filter((code) => code !== '') as R[]) : [];
}

const GMAIL_DOMAINS = new Set(['gmail.com', 'googlemail.com']);

/**
 * The key two addresses are compared by: trimmed and lower-cased; for Gmail, dots and a +tag in the
 * local part are dropped and googlemail.com is gmail.com, because Gmail delivers all of them to one inbox.
 */
export function emailKey(address: string): string {
  const trimmed = address.trim().toLowerCase();
  const at = trimmed.lastIndexOf('@');
  if (at < 1) return trimmed;
  let local = trimmed.slice(0, at);
  let domain = trimmed.slice(at + 1);
  if (GMAIL_DOMAINS.has(domain)) {
    domain = 'gmail.com';
    local = local.split('+')[0]!.replaceAll('.', '');
  }
  return `${local}@${domain}`;
}

/** The initial consonants of Hangul syllables, in Unicode's order (each covers 588 syllables from U+AC00). */
const CHOSEONG = 'ㄱㄲㄴㄷㄸㄹㅁㅂㅃㅅㅆㅇㅈㅉㅊㅋㅌㅍㅎ';
const HANGUL_SYLLABLES = { first: 0xac00, last: 0xd7a3, perInitial: 588 };

/** A Hangul syllable's initial consonant ("김" → "ㄱ"); undefined for any other character. */
function choseongOf(character: string): string | undefined {
  const code = character.codePointAt(0)!;
  if (code < HANGUL_SYLLABLES.first || code > HANGUL_SYLLABLES.last) return undefined;
  return CHOSEONG[Math.floor((code - HANGUL_SYLLABLES.first) / HANGUL_SYLLABLES.perInitial)];
}

/** "Kim" → "K.", "Ji-hoon" → "J.-H.": the first letter of each hyphenated piece. */
function latinStyleInitials(part: string): string {
  return part
    .split('-')
    .filter((piece) => piece.length > 0)
    .map((piece) => `${Array.from(piece)[0]!.toLocaleUpperCase()}.`)
    .join('-');
}

/**
 * "Kim Ji-hoon" → "K. J.-H."; each space-separated part, and each hyphenated piece, gives its first
 * letter. A name written in Hangul gives each syllable's initial consonant, as Korean abbreviates names
 * ("김지훈" → "ㄱㅈㅎ"): Korean names are written without a space between surname and given name, so the
 * first syllable alone would print every Kim as "김." and hide nothing the list needs to tell apart.
 */
export function initialsOf(fullName: string): string {
  return nameParts(fullName)
    .map((part) => {
      if (choseongOf(part) === undefined) return latinStyleInitials(part);
      return Array.from(part)
        .map((character) => choseongOf(character) ?? '')
        .join('');
    })
    .join(' ');
}

/**
 * Initials as they were printed before 2026-12-06, when a Hangul name gave its first syllable ("김지훈"
 * → "김."). Only for the leaves of lists delivered then: their hashes hold that text (receipt-service).
 */
export function initialsBefore20261206(fullName: string): string {
  return nameParts(fullName).map(latinStyleInitials).join(' ');
}

function nameParts(fullName: string): string[] {
  return fullName
    .trim()
    .split(/\s+/)
    .filter((part) => part.length > 0);
}

/**
 * The name to show for a signature, honouring the supporter's choice; null when they asked to be
 * counted only. E-mail addresses never appear here or anywhere public.
 */
export function publicName(signature: Pick<Signature, 'fullName' | 'display'>): string | null {
  switch (signature.display) {
    case 'full':
      return signature.fullName.trim();
    case 'initials':
      return initialsOf(signature.fullName);
    case 'hidden':
      return null;
  }
}

/**
 * Every name a list may have printed for a signature as it is now: publicName, and for initials of a
 * Hangul name the form lists delivered before 2026-12-06 printed (initialsBefore20261206). Receipts
 * match a delivered leaf against each, so a rule change never takes a supporter's receipt away.
 */
export function namesOnceShown(signature: Pick<Signature, 'fullName' | 'display'>): (string | null)[] {
  const now = publicName(signature);
  if (signature.display !== 'initials') return [now];
  const before = initialsBefore20261206(signature.fullName);
  return before === now ? [now] : [now, before];
}

/** Whether a signature counts and may be listed: only confirmed ones ever do. */
export function counts(status: SignatureStatus): boolean {
  return status === 'confirmed';
}

/** What signing again with the same address does, given the existing signature's state. */
export type ResignOutcome = 'resend-confirmation' | 'restart-as-pending' | 'nothing';

export function onSigningAgain(existing: Pick<Signature, 'status' | 'confirmationSends'>): ResignOutcome {
  switch (existing.status) {
    case 'pending':
      return existing.confirmationSends < MAX_CONFIRMATION_SENDS ? 'resend-confirmation' : 'nothing';
    case 'withdrawn':
      return existing.confirmationSends < MAX_CONFIRMATION_SENDS ? 'restart-as-pending' : 'nothing';
    case 'confirmed':
    case 'invalidated':
      return 'nothing';
  }
}
