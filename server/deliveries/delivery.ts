/** Deliveries: when compiled letters go, and what they say. Types and pure rules; no I/O here. */

import { AppError } from '../lib/errors.js';
import { countedCountry, type Signature } from '../signatures/signature.js';

export const DELIVERY_MODES = ['closing', 'goal', 'milestones', 'scheduled', 'manual'] as const;
export type DeliveryMode = (typeof DELIVERY_MODES)[number];

/**
 * test: to the organizer only; delivery: the letter version's one delivery to its recipients;
 * update: an explicit redelivery with new figures; milestone: an update sent automatically every N signatures.
 */
export const ROUND_KINDS = ['test', 'delivery', 'update', 'milestone'] as const;
export type RoundKind = (typeof ROUND_KINDS)[number];

/**
 * correction: an update round that corrects a delivered list's count (an erratum: erratum.ts);
 * escalation: an update round that takes the letter to the next tier of recipients (escalation.ts).
 */
export type RoundTrigger =
  'manual' | 'closing' | 'goal' | 'milestone' | 'scheduled' | 'correction' | 'escalation';

/** How and when a letter goes, as its organizer chose them on the delivery page. */
export interface DeliverySettings {
  mode: DeliveryMode;
  milestoneEvery: number | null;
  deliverAt: Date | null;
  /** The organisation's address for replies; '' when none. */
  replyTo: string;
}

/** A letter's delivery settings with their state: the last milestone reached, and whether they were chosen. */
export interface LetterDeliverySettings extends DeliverySettings {
  lastMilestone: number;
  /** False while the organizer has not saved settings: the mode is then the default for the letter. */
  chosen: boolean;
}

/** What of a letter the delivery settings' default and warnings depend on. */
export type LetterClosing = { closesAt: Date | null; closeOnGoal: boolean; goal: number | null };

/** Whether a letter ever closes by itself: at a closing date, or at its goal. */
function closesByItself(letter: LetterClosing): boolean {
  return letter.closesAt !== null || (letter.closeOnGoal && letter.goal !== null);
}

/**
 * The mode of a letter whose organizer has not chosen one: at closing when the letter closes by itself
 * (a closing date, or closing at its goal), else by hand, since "when it closes" would wait for a close
 * nobody scheduled.
 */
export function defaultDeliveryMode(letter: LetterClosing): DeliveryMode {
  return closesByItself(letter) ? 'closing' : 'manual';
}

/** The settings a letter delivers by: the organizer's, or the default for the letter when none were saved. */
export function deliverySettingsOf(
  stored: (DeliverySettings & { lastMilestone: number }) | undefined,
  letter: LetterClosing,
): LetterDeliverySettings {
  if (stored) return { ...stored, chosen: true };
  return {
    mode: defaultDeliveryMode(letter),
    milestoneEvery: null,
    deliverAt: null,
    replyTo: '',
    lastMilestone: 0,
    chosen: false,
  };
}

export const DELIVERY_WARNINGS = ['closingWithoutDate', 'goalWithoutGoal'] as const;
export type DeliveryWarning = (typeof DELIVERY_WARNINGS)[number];

/**
 * What the organizer must know about a mode the letter cannot honour by itself: "when it closes" for
 * a letter with no closing date that does not close at its goal (it goes only when closed by hand),
 * "when the goal is reached" for a letter without a goal (it never goes).
 */
export function deliveryWarnings(mode: DeliveryMode, letter: LetterClosing): DeliveryWarning[] {
  if (mode === 'closing' && !closesByItself(letter)) return ['closingWithoutDate'];
  if (mode === 'goal' && letter.goal === null) return ['goalWithoutGoal'];
  return [];
}

/** Why a round failed: a code with a message under limits.roundFailure, and its figures. */
export interface RoundFailure {
  code: 'letter_too_long' | 'message_too_large';
  params: Record<string, string>;
}

export interface DeliveryRound {
  id: number;
  letterId: number;
  letterVersionId: number;
  kind: RoundKind;
  trigger: RoundTrigger;
  status: 'compiling' | 'queued' | 'cancelled';
  /** Why the round was cancelled before its letters were queued (a compiled letter over the size budget). */
  failure: RoundFailure | null;
  signatureCount: number;
  milestone: number | null;
  testAddress: string | null;
  requestedBy: number | null;
  notifiedAt: Date | null;
  createdAt: Date;
  /** The tiers of recipients it goes to (inclusive); null: every recipient (a letter without a schedule). */
  tierFrom: number | null;
  tierTo: number | null;
}

/** What a letter's delivery settings and state look like to the trigger rules. */
export interface DeliveryState {
  status: 'draft' | 'open' | 'closed' | 'delivered';
  mode: DeliveryMode;
  goal: number | null;
  milestoneEvery: number | null;
  deliverAt: Date | null;
  closesAt: Date | null;
  signatureCount: number;
  lastMilestone: number;
  /** Whether the current version has had its delivery round. */
  delivered: boolean;
  /** Whether the organizer has sent a test delivery; automatic sending waits for one. */
  tested: boolean;
}

/** An automatic round that is due now, or null. Only the current version's first delivery and milestones are automatic. */
export function dueRound(
  state: DeliveryState,
  now: Date,
): { kind: 'delivery'; trigger: RoundTrigger } | { kind: 'milestone'; milestone: number } | null {
  if (!state.tested || (state.status !== 'open' && state.status !== 'closed')) return null;
  switch (state.mode) {
    case 'closing': {
      const closed = state.status === 'closed' || (state.closesAt !== null && state.closesAt <= now);
      return closed && !state.delivered ? { kind: 'delivery', trigger: 'closing' } : null;
    }
    case 'goal':
      return state.goal !== null && state.signatureCount >= state.goal && !state.delivered
        ? { kind: 'delivery', trigger: 'goal' }
        : null;
    case 'scheduled':
      return state.deliverAt !== null && state.deliverAt <= now && !state.delivered
        ? { kind: 'delivery', trigger: 'scheduled' }
        : null;
    case 'milestones': {
      if (!state.milestoneEvery || state.milestoneEvery <= 0) return null;
      const reached = Math.floor(state.signatureCount / state.milestoneEvery) * state.milestoneEvery;
      return reached >= state.milestoneEvery && reached > state.lastMilestone
        ? { kind: 'milestone', milestone: reached }
        : null;
    }
    case 'manual':
      return null;
  }
}

/** Why the organizer may not start a delivery or an update now; each has its message (deliveries.refusals). */
export type RoundRefusal =
  | 'notPublished'
  | 'letterDelivered'
  | 'alreadyDelivered'
  | 'testFirst'
  | 'noRecipients'
  | 'tiersEmpty'
  | 'notDeliveredYet';

/** What decides whether a delivery or an update may start. */
export interface RoundGate {
  status: DeliveryState['status'];
  /** Whether a test delivery has been sent. */
  tested: boolean;
  /** Whether the current version has had its delivery round. */
  delivered: boolean;
  /** Whether any delivery, update or milestone round has gone to the recipients. */
  reached: boolean;
  recipients: number;
  /**
   * How many of them the round would reach: all, or with an escalation schedule those in the tiers
   * reached so far (escalation.ts tiersOfRound), which the organizer may have emptied since.
   */
  reachable: number;
}

/**
 * The newest whole delivery of a letter among its rounds (newest first), or undefined: a version saved
 * since goes to the same recipients as a second whole letter, which the pages say before it is sent.
 */
export function lastDelivery<R extends Pick<DeliveryRound, 'kind' | 'status'>>(
  rounds: readonly R[],
): R | undefined {
  return rounds.find((round) => round.kind === 'delivery' && round.status !== 'cancelled');
}

/**
 * The one delivery round of a letter version, whatever became of it (a cancelled one too: the unique
 * index keeps a version to one delivery round, so even a stopped one is its delivery), or undefined.
 */
export function deliveryOfVersion<R extends Pick<DeliveryRound, 'kind' | 'letterVersionId'>>(
  rounds: readonly R[],
  versionId: number,
): R | undefined {
  return rounds.find((round) => round.kind === 'delivery' && round.letterVersionId === versionId);
}

/** The states of a compiled letter still on its way; a retry waits minutes to hours, which no page follows. */
const ON_ITS_WAY: ReadonlySet<string> = new Set(['queued', 'sending']);

/** Whether a compiled letter in this state is still on its way (queued or being handed to the relay). */
export function onItsWay(status: string): boolean {
  return ON_ITS_WAY.has(status);
}

/**
 * Where the letter's current version stands with its one delivery, read before the page asks anything:
 * not delivered yet (with the newest delivery of an earlier version, whose recipients get this version
 * as a second letter), on its way (compiling, or letters still queued), delivered, or stopped (cancelled,
 * with the failure that stopped it when there was one). One answer, so the page says one thing.
 */
export type VersionDelivery<R> =
  | { state: 'notDelivered'; earlier: R | undefined }
  | { state: 'inProgress' | 'delivered' | 'stopped'; round: R };

/** Where the current version stands with its delivery (VersionDelivery); `rounds` newest first. */
export function versionDelivery<R extends Pick<DeliveryRound, 'kind' | 'status' | 'letterVersionId'>>(
  rounds: readonly { round: R; records: readonly { status: string }[] }[],
  currentVersionId: number,
): VersionDelivery<R> {
  const own = deliveryOfVersion(
    rounds.map((view) => view.round),
    currentVersionId,
  );
  if (own === undefined) return { state: 'notDelivered', earlier: lastDelivery(rounds.map((v) => v.round)) };
  if (own.status === 'cancelled') return { state: 'stopped', round: own };
  const records = rounds.find((view) => view.round === own)?.records ?? [];
  // A letter waiting to be retried has not reached its recipient either: not "delivered" yet.
  if (own.status === 'compiling' || records.some((r) => onItsWay(r.status) || r.status === 'retrying'))
    return { state: 'inProgress', round: own };
  return { state: 'delivered', round: own };
}

/**
 * The one rule for the delivery page's buttons and the service that refuses them: a delivery needs a
 * published letter, a test first, recipients, and a version not delivered yet; an update needs a
 * letter already delivered once (a delivered letter may still get updates).
 */
export function roundRefusal(kind: 'delivery' | 'update', gate: RoundGate): RoundRefusal | null {
  if (gate.status === 'draft') return 'notPublished';
  if (kind === 'delivery' && gate.status === 'delivered') return 'letterDelivered';
  if (!gate.tested) return 'testFirst';
  const audience = audienceRefusal(gate);
  if (audience) return audience;
  if (kind === 'delivery' && gate.delivered) return 'alreadyDelivered';
  if (kind === 'update' && !gate.reached) return 'notDeliveredYet';
  return null;
}

/**
 * Whether a round to the recipients would reach nobody: the letter has none, or its escalation schedule's
 * tiers reached so far were emptied (a higher tier gets the letter only through its step). The organizer's
 * buttons refuse it (roundRefusal), and the automatic modes wait instead of sending it to no one.
 */
export function audienceRefusal(
  gate: Pick<RoundGate, 'recipients' | 'reachable'>,
): Extract<RoundRefusal, 'noRecipients' | 'tiersEmpty'> | null {
  if (gate.recipients === 0) return 'noRecipients';
  if (gate.reachable === 0) return 'tiersEmpty';
  return null;
}

const REFUSALS: Record<RoundRefusal, [code: string, messageKey: string]> = {
  notPublished: ['letter_not_published', 'deliveries.errors.notPublished'],
  letterDelivered: ['letter_delivered', 'errors.letterDelivered'],
  alreadyDelivered: ['already_delivered', 'deliveries.errors.alreadyDelivered'],
  testFirst: ['test_first', 'deliveries.errors.testFirst'],
  noRecipients: ['no_recipients', 'deliveries.errors.noRecipients'],
  tiersEmpty: ['tiers_empty', 'deliveries.errors.tiersEmpty'],
  notDeliveredYet: ['not_delivered_yet', 'deliveries.errors.notDeliveredYet'],
};

/** The message that says why a round is refused, for a page that explains it before anyone presses. */
export function refusalMessageKey(refusal: RoundRefusal): string {
  return REFUSALS[refusal][1];
}

/** The refusal an error code stands for (the inverse of refusalError), if it is one. */
export function refusalOf(code: string): RoundRefusal | undefined {
  return (Object.keys(REFUSALS) as RoundRefusal[]).find((refusal) => REFUSALS[refusal][0] === code);
}

/** The error a refused round answers with (409: the letter's state, not the request, is in the way). */
export function refusalError(refusal: RoundRefusal): AppError {
  const [code, messageKey] = REFUSALS[refusal];
  return new AppError(409, code, messageKey);
}

/** Whether a round of this kind is sent to the letter's recipients (a test goes only to the organizer). */
export function reachesRecipients(kind: RoundKind): boolean {
  return kind !== 'test';
}

/** Whether supporters who asked for news hear about this round once it has been sent. */
export function notifiesSupporters(kind: RoundKind): boolean {
  return kind === 'delivery' || kind === 'update' || kind === 'milestone';
}

/** A signatory as the annex shows them: only what they agreed to show, never an e-mail address. */
export interface AnnexEntry {
  name: string;
  country: string;
  /** Organisation and title, only for those who chose to be named in full. */
  affiliation: string;
}

/** The annex lines of confirmed signatures, honouring each supporter's choice; counted-only ones are just counted. */
export function annexOf(
  signatures: readonly {
    name: string | null;
    country: string;
    organisation: string;
    jobTitle: string;
    display: string;
  }[],
): { entries: AnnexEntry[]; unnamed: number } {
  const entries: AnnexEntry[] = [];
  let unnamed = 0;
  for (const s of signatures) {
    // A supporter who chose to be counted only is never named, whatever name reaches this rule.
    if (s.display === 'hidden' || s.name === null || s.name === '') {
      unnamed += 1;
      continue;
    }
    const affiliation =
      s.display === 'full' ? [s.jobTitle, s.organisation].filter((v) => v.trim() !== '').join(', ') : '';
    entries.push({ name: s.name, country: s.country, affiliation });
  }
  return { entries, unnamed };
}

/** Confirmed signatures shown with their country, per country, from an annex's source rows, most first. */
export function countriesOf(
  signatures: readonly Pick<Signature, 'country' | 'display'>[],
): { code: string; count: number }[] {
  const counts = new Map<string, number>();
  for (const s of signatures) {
    // A signature counted without its name is placed in no country either (countedCountry).
    const country = countedCountry(s);
    if (country !== undefined) counts.set(country, (counts.get(country) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([code, count]) => ({ code, count }))
    .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code));
}

/**
 * The return path of one message (VERP): bounces+m<id>-<tag>@domain, where the tag is a short keyed
 * hash of the id, so a bounce names the exact message and cannot be forged for another.
 */
export function verpAddress(bounceAddress: string, messageId: number, tag: string): string {
  const at = bounceAddress.lastIndexOf('@');
  return `${bounceAddress.slice(0, at)}+m${messageId}-${tag}${bounceAddress.slice(at)}`;
}

/** The message id and tag in a VERP address, or undefined when it is not one of ours. */
export function parseVerp(
  address: string,
  bounceAddress: string,
): { messageId: number; tag: string } | undefined {
  const at = bounceAddress.lastIndexOf('@');
  const local = bounceAddress.slice(0, at).toLowerCase();
  const domain = bounceAddress.slice(at + 1).toLowerCase();
  const match = /^(.+)\+m(\d{1,15})-([A-Za-z0-9_-]{6,32})@(.+)$/.exec(address.trim());
  if (!match || match[1]!.toLowerCase() !== local || match[4]!.toLowerCase() !== domain) return undefined;
  return { messageId: Number(match[2]), tag: match[3]! };
}

/**
 * The name a letter to an official is sent under: its organisation's, by way of the platform ("Amnesty
 * Korea via Undersigned"), so the recipient's inbox says who writes; null without one (the platform's
 * From as configured). Line breaks and quotes are dropped: it goes into a header.
 */
export function senderName(
  t: (key: string, params?: Record<string, unknown>) => string,
  sponsor: string,
): string | null {
  const organisation = sponsor
    .replace(/[\r\n"<>]+/g, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  return organisation
    ? t('emails.letter-delivery.fromName', { sponsor: organisation, site: t('site.name') })
    : null;
}
