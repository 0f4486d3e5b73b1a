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

/**
 * What restoring an invalidated signature returns it to: the status kept with it when it was
 * invalidated. One with none kept returns to confirmed; one restore and a bulk one decide alike.
 */
export function statusOnRestoring(before: string | null | undefined): SignatureStatus {
  return before === 'pending' ? 'pending' : 'confirmed';
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

/**
 * The most e-mails signing one letter with one address sends: the first confirmation, then whatever
 * signing again sends (a re-sent confirmation, a new start after a withdrawal, an "already signed" notice).
 */
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
  /** Its supporter's details were erased (or the retention period ended): it may still count, with no name. */
  anonymised: boolean;
}

/** Whether screening silenced a signature: answered like any other, never confirmed or counted until cleared. */
export function isSuspect(signature: Pick<Signature, 'suspectReasons'>): boolean {
  return signature.suspectReasons.length > 0;
}

/**
 * A signature's status as its supporter is shown it. A suspect one whose confirmation link was pressed
 * stays pending (held for an admin), but pressing it showed "confirmed" like any other, so reopening the
 * link says "already confirmed" too: the page never tells a supporter, or an abuser, that it is held.
 */
export function statusShown(
  signature: Pick<Signature, 'status' | 'suspectReasons' | 'confirmRequestedAt'>,
): SignatureStatus {
  return signature.status === 'pending' && isSuspect(signature) && signature.confirmRequestedAt !== null
    ? 'confirmed'
    : signature.status;
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

/** A name with a Hangul letter (syllable or jamo) in it is "written in Hangul" for initials. */
const HANGUL = /\p{Script=Hangul}/u;

/** What an initial is: a letter or a digit, never an emoji, a bracket or a quotation mark before one. */
const NAME_CHARACTER = /[\p{L}\p{N}]/u;

/** A piece of a name's initial: its first letter or digit, none when it has neither. */
const firstLetterOf = (piece: string): string | undefined => NAME_CHARACTER.exec(piece)?.[0];

/** A piece of a name's first character, whatever it is: what initials took before 2026-12-07's last rule. */
const firstCharacterOf = (piece: string): string | undefined => Array.from(piece)[0];

/**
 * "Kim Ji-hoon" → "K. J.-H."; each space-separated part, and each hyphenated piece, gives its first letter.
 * A name written in Hangul gives its first syllable only ("홍길동" and "홍 길동" → "홍."), as the privacy
 * notice promises: a syllable of a Korean given name says far more than a Latin initial, and a supporter
 * who put a space after the family name must not show more of it than one who did not. What stands
 * before a letter is passed over ("🌻Zoë Ng" → "Z. N.", "(Kim) Ji-hoon" → "K. J.-H."); a name with no
 * letter or digit at all keeps its first characters, so that no chosen name shows as nothing.
 */
export function initialsOf(fullName: string): string {
  if (HANGUL.test(fullName)) {
    const first = firstLetterOf(fullName) ?? firstCharacterOf(fullName.trim());
    return first === undefined ? '' : `${first.toLocaleUpperCase()}.`;
  }
  return initialsByPart(fullName, firstLetterOf) || initialsByPart(fullName, firstCharacterOf);
}

/**
 * Each space-separated part's initials as `initial` takes them, its hyphenated pieces' joined by hyphens;
 * a piece without one gives none, and a part without any gives an empty string.
 */
function initialsOfParts(fullName: string, initial: (piece: string) => string | undefined): string[] {
  return fullName
    .trim()
    .split(/\s+/)
    .filter((part) => part.length > 0)
    .map((part) =>
      part
        .split('-')
        .flatMap((piece) => {
          const letter = piece.length > 0 ? initial(piece) : undefined;
          return letter === undefined ? [] : [`${letter.toLocaleUpperCase()}.`];
        })
        .join('-'),
    );
}

/** The parts' initials, a part without any left out. */
function initialsByPart(fullName: string, initial: (piece: string) => string | undefined): string {
  return initialsOfParts(fullName, initial)
    .filter((part) => part.length > 0)
    .join(' ');
}

/**
 * The initials of every name before 2026-12-07, then the day's two rules in order: each piece's first
 * character, with a Hangul name's spaced syllables each an initial; then a Hangul name's first character
 * only. The current rule (initialsOf) passes over what is not a letter.
 */
const EARLIER_INITIALS: readonly ((fullName: string) => string)[] = [
  (fullName) => initialsOfParts(fullName, firstCharacterOf).join(' '),
  (fullName) =>
    HANGUL.test(fullName)
      ? `${Array.from(fullName.trim())[0]!.toLocaleUpperCase()}.`
      : initialsOfParts(fullName, firstCharacterOf).join(' '),
];

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
 * Everything a signature shows of its supporter besides the country, as the delivered letter's list
 * prints it: the name as publicName gives it and, with a full name only, the title and organisation
 * they gave. null when they asked to be counted only. What the e-mail and the link pages say will
 * appear: a walkthrough signed "full name and country" with an organisation and was told only the name.
 */
export function publicDetails(
  signature: Pick<Signature, 'fullName' | 'display' | 'jobTitle' | 'organisation'>,
): string | null {
  const name = publicName(signature);
  if (name === null || signature.display !== 'full') return name;
  return [name, signature.jobTitle.trim(), signature.organisation.trim()].filter((v) => v !== '').join(', ');
}

/**
 * The names a signature may have been listed under by earlier rules of publicName, other than the one it
 * gets now: a list delivered before a rule changed committed to the name it printed then, and a receipt
 * for that list must be checked against that name. Until 2026-12-07 a Hangul name with spaces gave one
 * syllable a part ("김 철수" → "김. 철."), and until that day's last rule a name's first character was its
 * initial whatever it was ("🌻Zoë Ng" → "🌻. N.").
 */
export function earlierPublicNames(signature: Pick<Signature, 'fullName' | 'display'>): string[] {
  if (signature.display !== 'initials') return [];
  const now = initialsOf(signature.fullName);
  const before = EARLIER_INITIALS.map((rule) => rule(signature.fullName));
  return [...new Set(before)].filter((name) => name !== now);
}

/**
 * The country a counted signature adds to its letter's public figures by country: none for a signature
 * whose supporter chose not to be shown (or was erased). Figures by country are public, and one hidden
 * signer from a country nobody named comes from would stand out there ("North Korea: 1").
 */
export function countedCountry(signature: Pick<Signature, 'display' | 'country'>): string | undefined {
  return signature.display === 'hidden' ? undefined : signature.country;
}

/**
 * A signature's status as an export states it (exports/): its status, but a pending signature that screening holds
 * (over a signing limit, on a block list…) is `held`, whether or not its supporter pressed the link. An
 * export that called it pending said, in its PDF, "never confirmed from the signatory's address" of
 * supporters who had confirmed; moderation already tells the two apart. Held ones are exported with
 * the pending status filter: they are pending until a moderator clears them.
 */
export type StatedStatus = SignatureStatus | 'held';

/** The statuses an export states, in the order a PDF lists their counts. */
export const STATED_STATUSES: readonly StatedStatus[] = [
  'pending',
  'held',
  'confirmed',
  'withdrawn',
  'invalidated',
];

export function statedStatus(row: { status: SignatureStatus; held: boolean }): StatedStatus {
  return row.status === 'pending' && row.held ? 'held' : row.status;
}

/** The statuses a list of signatures with these statuses may state: held ones come with pending ones. */
export function statedStatusesOf(statuses: readonly SignatureStatus[]): StatedStatus[] {
  return STATED_STATUSES.filter((s) => statuses.includes(s === 'held' ? 'pending' : s));
}

/** Whether a signature counts and may be listed: only confirmed ones ever do. */
export function counts(status: SignatureStatus): boolean {
  return status === 'confirmed';
}

/**
 * What signing again with the same address does, given the existing signature's state. Every e-mail it
 * sends counts towards the same limit, so no one can fill a stranger's inbox by signing with their address.
 */
export type ResignOutcome = 'resend-confirmation' | 'restart-as-pending' | 'tell-already-signed' | 'nothing';

export function onSigningAgain(existing: Pick<Signature, 'status' | 'confirmationSends'>): ResignOutcome {
  if (existing.confirmationSends >= MAX_CONFIRMATION_SENDS) return 'nothing';
  switch (existing.status) {
    case 'pending':
      return 'resend-confirmation';
    case 'withdrawn':
      return 'restart-as-pending';
    case 'confirmed':
      // The page after signing says an e-mail is on its way, whatever the address's history (it must not
      // tell a stranger who signed); this one tells its owner that the signature already counts.
      return 'tell-already-signed';
    case 'invalidated':
      // Removed by the letter's moderators: nothing to confirm and nothing to tell.
      return 'nothing';
  }
}

/**
 * A signature as moderators see it: a withdrawn one names nobody. Its supporter was told their name and
 * address are shown nowhere until they are erased with the rest, and exports leave them out too; its
 * status, country and dates (the history of the count) stay.
 */
export function withheldFromModerators<
  R extends { status: SignatureStatus; fullName: string; email: string },
>(row: R): R & { withheld: boolean } {
  return row.status === 'withdrawn'
    ? { ...row, fullName: '', email: '', withheld: true }
    : { ...row, withheld: false };
}
