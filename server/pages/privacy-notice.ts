/**
 * A letter's privacy notice, from the letter's real settings: what of a signature is public, who receives
 * the letter, what is kept and until when, who sees what, and who answers for it. Pure: the facts are
 * read by privacy-notice-service.ts, the words are the view's (views/pages/letter-privacy.hbs).
 */
import type { DeliveryMode, LetterDeliverySettings } from '../deliveries/delivery.js';
import type { Letter, LetterRecipient } from '../letters/letter.js';
import type { SentRecord } from '../letters/letter-service.js';
import { controllerIsSet, type DataController } from '../settings/settings.js';
import type { RecipientNames } from '../recipients/recipient-names.js';

/** What the notice is made from, as read at one moment. */
export interface PrivacyNoticeFacts {
  letter: Letter;
  /** The letter's title in the text shown, and that text's language. */
  title: string;
  titleLanguage: string;
  recipients: readonly LetterRecipient[];
  /** When the letter was closed; null while it is open. */
  closedAt: Date | null;
  delivery: Pick<LetterDeliverySettings, 'mode' | 'milestoneEvery' | 'deliverAt'>;
  /** The recipients the compiled letter has reached so far. */
  sent: readonly SentRecord[];
  controller: DataController;
  /** The hosts of the organizers' systems told of each confirmed or withdrawn signature (webhooks). */
  signatureListeners: readonly string[];
  /** The escalation's days without a reply before the next tier gets the letter; null without a schedule. */
  escalationDays: number | null;
  /** RETENTION_MONTHS. */
  retentionMonths: number;
  /** Mail is kept as files by the embedded capture server (SMTP_URL unset), not sent. */
  mailCaptured: boolean;
}

/** When supporters' personal data leaves the letter's signatures (PrivacyService.applyRetention). */
export type RetentionPlan =
  /** Open with no closing date: kept while it is open. */
  | { kind: 'while-open' }
  /** Open (or not yet open) with a closing date: erased `months` after it, if it closes then. */
  | { kind: 'after-closing-date'; closesAt: Date; eraseFrom: Date }
  /** Closed: erased `months` after it closed; `done` once that time has passed. */
  | { kind: 'after-closed'; closedAt: Date; eraseFrom: Date; done: boolean };

/**
 * The first moment the retention job, which anonymises once `closed <= monthsBefore(now, months)`, takes
 * signatures of a letter closed at `closed`: `months` calendar months later (UTC). setUTCMonth rolls a day
 * the target month lacks into the next (31 August + 6 months = 3 March), and monthsBefore rolls back the
 * same way, so the job reaches such a date at the first moment of the month after the target month.
 */
export function monthsAfter(closed: Date, months: number): Date {
  const later = new Date(closed);
  later.setUTCMonth(later.getUTCMonth() + months);
  if (later.getUTCDate() !== closed.getUTCDate())
    return new Date(Date.UTC(later.getUTCFullYear(), later.getUTCMonth(), 1));
  return later;
}

/**
 * The retention job's rule for this letter, said as dates: it anonymises the signatures of a closed or
 * delivered letter once `coalesce(closed_at, closes_at)` is RETENTION_MONTHS behind (signature-repository's
 * dueForAnonymisation), whatever each signature's status.
 */
export function retentionPlan(
  letter: Pick<Letter, 'status' | 'closesAt'>,
  closedAt: Date | null,
  months: number,
  now: Date,
): RetentionPlan {
  if (letter.status === 'closed' || letter.status === 'delivered') {
    const closed = closedAt ?? letter.closesAt;
    if (closed) {
      const eraseFrom = monthsAfter(closed, months);
      return { kind: 'after-closed', closedAt: closed, eraseFrom, done: eraseFrom <= now };
    }
  }
  if (letter.closesAt)
    return {
      kind: 'after-closing-date',
      closesAt: letter.closesAt,
      eraseFrom: monthsAfter(letter.closesAt, months),
    };
  return { kind: 'while-open' };
}

/** A recipient as the notice names them: name, title, institution (never an address). */
export interface NoticeRecipient {
  name: string;
  title: string;
  organisation: string;
  /** Their names in other interface languages: the notice names them in its reader's (recipientNamedIn). */
  names: RecipientNames;
  country: string;
  /** 1 embassy, 2 ministry, 3 head of state: shown when the letter escalates. */
  tier: number;
}

/** The notice, ready for the view (dates as dates: the view formats them in the reader's language). */
export interface PrivacyNotice {
  slug: string;
  title: string;
  titleLanguage: string;
  sponsor: string;
  organisations: string[];
  recipients: NoticeRecipient[];
  /** When the letter goes to its recipients, as its organizer set it. */
  delivery: { mode: DeliveryMode; milestoneEvery: number | null; deliverAt: Date | null };
  /** With an escalation schedule: the days without a reply before the next tier gets it. */
  escalationDays: number | null;
  /** How many recipients it has reached so far, and when it last went. */
  sent: { recipients: number; lastAt: Date | null };
  retention: RetentionPlan;
  retentionMonths: number;
  /** The sites allowed to show its signing form in a frame; empty: any site may. */
  embedOrigins: string[];
  signatureListeners: string[];
  mailCaptured: boolean;
  controller: (DataController & { addressLines: string[] }) | null;
}

/** The notice of a letter from its facts at `now`. */
export function privacyNotice(facts: PrivacyNoticeFacts, now: Date): PrivacyNotice {
  const { letter, controller } = facts;
  const lastAt = facts.sent.reduce<Date | null>(
    (last, s) => (last === null || s.sentAt > last ? s.sentAt : last),
    null,
  );
  return {
    slug: letter.slug,
    title: facts.title,
    titleLanguage: facts.titleLanguage,
    sponsor: letter.sponsor,
    organisations: letter.organisations,
    recipients: facts.recipients.map((r) => ({
      name: r.name,
      title: r.title,
      // Its institution beside the name unless it is the name again: said where the name is chosen by
      // the reader's language (privacy-notice-routes.ts), since a name typed for it may repeat it too.
      organisation: r.organisation,
      names: r.names,
      country: r.country,
      tier: r.tier,
    })),
    delivery: {
      mode: facts.delivery.mode,
      milestoneEvery: facts.delivery.milestoneEvery,
      deliverAt: facts.delivery.deliverAt,
    },
    escalationDays: facts.escalationDays,
    sent: { recipients: new Set(facts.sent.map((s) => s.recipientName)).size, lastAt },
    retention: retentionPlan(letter, facts.closedAt, facts.retentionMonths, now),
    retentionMonths: facts.retentionMonths,
    embedOrigins: [...letter.embedOrigins],
    signatureListeners: [...new Set(facts.signatureListeners)].sort(),
    mailCaptured: facts.mailCaptured,
    controller: controllerIsSet(controller)
      ? { ...controller, addressLines: controller.controllerAddress.split('\n') }
      : null,
  };
}
