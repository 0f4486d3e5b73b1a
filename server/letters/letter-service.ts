import { createHash } from 'node:crypto';
import { UntilWrite } from '../db/until-write.js';
import type { Clock } from '../lib/clock.js';
import { countryName } from '../lib/countries.js';
import { notFound } from '../lib/errors.js';
import {
  collectedUntil,
  daysLeft,
  headingIn,
  isComplete,
  isPublic,
  progressPercent,
  signingState,
  textIn,
  type Letter,
  type LetterHeading,
  type LetterRecipient,
  type LetterText,
  type SigningState,
} from './letter.js';
import type { LetterRepository } from './letter-repository.js';
import { renderLetter, type RenderedLetter } from './letter-text.js';
import { buildMergeFields, recipientFields } from './merge-fields.js';
import type { PublicSignatories, PublicSignatory } from './public-signatories.js';

export interface LetterSummary {
  letter: Letter;
  /** The text shown: in the language asked for when the letter has it complete (see textIn). */
  text: LetterText;
  /** The languages of the letter's complete translations, the ones a reader may choose between. */
  languages: string[];
  recipients: LetterRecipient[];
  state: SigningState;
  percent: number | null;
  daysLeft: number | null;
  /** When a closed letter stopped taking signatures (collectedUntil); null while it takes them. */
  closedOn: Date | null;
}

/** A recipient the compiled letter reached, for the public record. */
export interface SentRecord {
  recipientName: string;
  /** The recipient in the directory (null once deleted), to name them in the page's language. */
  recipientId?: number | null;
  /** The recipient's organisation ('' when none): the public record groups recipients by it. */
  organisation: string;
  sentAt: Date;
  signatureCount: number;
  /** The round that sent it and the language of the text it got. */
  roundId: number;
  language: string;
  /** The round's committed list (its size and root), when it has one. */
  commitment?: { treeSize: number; root: string } | null;
  /** Corrections of the round's list sent to its recipients (errata), oldest first. */
  corrections?: readonly { roundId: number; treeSize: number; root: string; sentAt: Date }[];
}

/**
 * A round that took the letter to the next tier of recipients because none of the tier before replied
 * in time (an escalation step): the public record says so beside that round.
 */
export interface SentEscalation {
  roundId: number;
  fromTier: number;
  toTier: number;
  /** The days the schedule waited for a reply. */
  days: number;
}

/** Port: the escalation steps that sent a letter on. The deliveries slice answers it. */
export interface SentEscalations {
  sentOf(letterId: number): Promise<SentEscalation[]>;
}

/** Port: whom a letter has reached. The deliveries slice answers it; wiring.ts passes its repository. */
export interface SentLetters {
  /** The latest sending to each recipient of the letter (test sends excluded), newest first. */
  sentTo(letterId: number): Promise<SentRecord[]>;
}

/** An official's reply the organizer published on the letter's record: who answered, when, and what. */
export interface PublicReply {
  id: number;
  /** The recipient in the directory who answered (null once deleted): pages name them in their language. */
  recipientId: number | null;
  recipientName: string;
  institution: string;
  /** Without quoted lines and e-mail addresses (deliveries/delivery-reply.ts, publicReplyText). */
  subject: string;
  bodyText: string;
  receivedAt: Date;
}

/** Port: the replies published on a letter's record, oldest first. The deliveries slice answers it. */
export interface PublishedReplies {
  publishedOf(letterId: number): Promise<PublicReply[]>;
}

/** A letter as the home page's list shows it: its heading, not its body. */
export interface LetterCard extends Omit<LetterSummary, 'text' | 'languages'> {
  text: LetterHeading;
}

/** One page of the home page's list. */
export interface HomeList {
  cards: LetterCard[];
  /** This page's number, from 1. */
  page: number;
  pageCount: number;
}

/** How many letters one page of the home page lists: a page's size and cost stay bounded. */
export const HOME_PAGE_SIZE = 20;

export interface LetterPage extends LetterSummary {
  rendered: RenderedLetter;
  /** The most recent signatories listed by name (country as a code); counted-only ones are never here. */
  recentSignatories: PublicSignatory[];
  /** When the text last changed, if it has changed since the letter was first published. */
  textChangedAt: Date | null;
  versionNumber: number;
  /** Recipients the compiled letter reached, with when and with how many signatures. */
  sent: SentRecord[];
  /** Officials' replies the organizer published, oldest first. */
  replies: PublicReply[];
  /** The rounds that escalated the letter to a next tier of recipients (none without a schedule). */
  escalations: SentEscalation[];
  /**
   * The countries the letter is about, for the signing form to list first: where most of its
   * signatures come from (most first), then its recipients' countries.
   */
  featuredCountries: string[];
}

export interface LetterServiceDeps {
  letters: LetterRepository;
  /** Changes whenever the database may have changed (databaseWriteMark): the page stamps are kept until it does. */
  writeMark: () => string;
  signatories: PublicSignatories;
  sent: SentLetters;
  /** Published replies; none when not given. */
  replies?: PublishedReplies;
  /** The escalation steps that sent the letter on; none when unset. */
  escalations?: SentEscalations;
  clock: Clock;
}

/** How many letters' page stamps are remembered between writes (the page cache keeps ~2,000 pages). */
const MAX_STAMPS = 2_000;

/** How many recent signatories a letter page lists. */
const RECENT_SIGNATORIES = 20;

/**
 * How many of the countries its signatures come from the signing form lists first: fewer than the form's
 * MAX_FEATURED_COUNTRIES, so its recipients' countries (listed after them) keep a place.
 */
const SIGNATURE_COUNTRIES_FIRST = 6;

/** Reads letters for the public pages. */
export class LetterService {
  /** The page stamps worked out since the database last changed (LetterServiceDeps.writeMark). */
  private readonly stamps: UntilWrite<string, string>;
  /** The headings of public letters' versions, by version id (publishedHeadings); bounded like the stamps. */
  private readonly headingsByVersion = new Map<number, LetterHeading[]>();

  constructor(private readonly deps: LetterServiceDeps) {
    this.stamps = new UntilWrite(deps.writeMark, MAX_STAMPS);
  }

  /**
   * One page of the home page's list (HOME_PAGE_SIZE letters, open ones first), each in the text language
   * asked for where the letter has it; reads only what the cards show (no bodies). A page past the last
   * is a 404; page 1 always exists, empty when no letter is public.
   */
  async homeList(textLanguage: string, page: number): Promise<HomeList> {
    const { letters, clock } = this.deps;
    const pageCount = Math.max(1, Math.ceil((await letters.countPublic()) / HOME_PAGE_SIZE));
    if (page > pageCount) throw notFound('home_page_not_found', 'home.pages.notFound');
    const list = await letters.listPublic({ limit: HOME_PAGE_SIZE, offset: (page - 1) * HOME_PAGE_SIZE });
    const headings = await letters.headingsOfVersions(list.map((l) => l.currentVersionId));
    const recipients = await letters.recipientsOfLetters(list.map((l) => l.id));
    const now = clock.now();
    const cards = list.map((letter): LetterCard => {
      const text = headingIn(
        headings.get(letter.currentVersionId) ?? [],
        textLanguage,
        letter.primaryLanguage,
      );
      if (!text) throw new Error(`letter ${letter.id} has no text`);
      return {
        letter,
        text,
        recipients: recipients.get(letter.id) ?? [],
        ...signingFigures(letter, now),
      };
    });
    return { cards, page, pageCount };
  }

  /** A published letter by slug, or a 404. */
  async findPublished(slug: string): Promise<Letter> {
    const letter = await this.deps.letters.findBySlug(slug);
    if (!letter || !isPublic(letter)) throw notFound('letter_not_found', 'errors.letter.notFound');
    return letter;
  }

  /**
   * The letter a signing form posts to and the language of the text shown, without the rest of the
   * page: a signature accepted is answered by a redirect, so building the page (signatories, rendered
   * text, sent record) is left to the answers that show it again.
   */
  async forSigning(slug: string, textLanguage: string): Promise<{ letter: Letter; textLanguage: string }> {
    const { letter, text } = await this.heading(slug, textLanguage);
    return { letter, textLanguage: text.language };
  }

  /**
   * A published letter's row and its heading (title, summary) in the text language asked for where it
   * has it, without the body: what its share card, QR code and badge show. One indexed read of the row;
   * the headings are kept per version (publishedHeadings).
   */
  async heading(slug: string, textLanguage: string): Promise<{ letter: Letter; text: LetterHeading }> {
    const letter = await this.findPublished(slug);
    const text = headingIn(
      await this.publishedHeadings(letter.currentVersionId),
      textLanguage,
      letter.primaryLanguage,
    );
    if (!text) throw new Error(`letter ${letter.id} has no text`);
    return { letter, text };
  }

  /**
   * The headings of a public letter's current version, read once: once a letter is public its versions'
   * texts never change (only a draft's version is rewritten, under a compare-and-set on the draft status;
   * an edit makes a new version with a new id), in this process or any other. Reading the bodies on
   * every signing cost more SQLite time than inserting the signature (issue 12).
   */
  private async publishedHeadings(versionId: number): Promise<LetterHeading[]> {
    const known = this.headingsByVersion.get(versionId);
    if (known) return known;
    const headings = (await this.deps.letters.textsOfVersion(versionId)).map((text): LetterHeading => ({
      language: text.language,
      title: text.title,
      summary: text.summary,
      complete: isComplete(text),
    }));
    if (this.headingsByVersion.size >= MAX_STAMPS) this.headingsByVersion.clear();
    this.headingsByVersion.set(versionId, headings);
    return headings;
  }

  /**
   * What a public letter page shows from the database and may change at any moment, as one string: the
   * letter's row (version, status, dates, goal, count) and its recent signatories (a withdrawal and a
   * confirmation leave the count as it was, not the list). The page cache's key changes with it.
   * Undefined when the letter is not public. Remembered until the database changes, in this process
   * or any other: a hit then costs one prepared statement that reads no table, run synchronously.
   */
  async pageStamp(slug: string): Promise<string | undefined> {
    // A cache hit asks for the stamp on every request: it is worked out again only after a write.
    // Taken before the awaits: a stamp read before a write is kept only in the map that write dropped.
    const stamps = this.stamps.current();
    const known = stamps.get(slug);
    if (known !== undefined) return known;
    const letter = await this.deps.letters.findBySlug(slug);
    if (!letter || !isPublic(letter)) return undefined;
    const recent = await this.deps.signatories.recent(letter.id, RECENT_SIGNATORIES);
    // A reply published or taken off the record shows at once, not at the next count epoch.
    const replies = await this.publishedReplies(letter.id);
    const stamp = createHash('sha1')
      .update(JSON.stringify([letter, recent, replies.map((r) => r.id)]))
      .digest('base64url');
    stamps.set(slug, stamp);
    return stamp;
  }

  private async publishedReplies(letterId: number): Promise<PublicReply[]> {
    return this.deps.replies ? this.deps.replies.publishedOf(letterId) : [];
  }

  /**
   * Everything the letter page shows: the letter as it will be sent, in the text language asked for
   * where it has it, its progress, recent signatories and whom it has reached.
   */
  async page(slug: string, textLanguage: string): Promise<LetterPage> {
    const { letters, signatories, sent, clock } = this.deps;
    const letter = await this.findPublished(slug);
    const texts = await letters.textsOfVersion(letter.currentVersionId);
    const recipients = (await letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    const now = clock.now();
    const summary = summarise(letter, texts, recipients, textLanguage, now);
    const recentSignatories = await signatories.recent(letter.id, RECENT_SIGNATORIES);
    const countries = await letters.countryCounts(letter.id);
    const rendered = renderLetter(
      summary.text.body,
      buildMergeFields(
        {
          recipient: recipientFields(recipients[0], summary.text.language),
          letterTitle: summary.text.title,
          language: summary.text.language,
          date: now,
          signatureCount: letter.signatureCount,
          countries,
          signatories: recentSignatories.map((s) => ({ name: s.name, country: s.country })),
          organisations: letter.organisations,
        },
        countryName,
      ),
    );
    const version = await letters.findVersion(letter.currentVersionId);
    const versionNumber = version?.number ?? 1;
    return {
      ...summary,
      rendered,
      recentSignatories,
      versionNumber,
      textChangedAt: version && versionNumber > 1 ? version.createdAt : null,
      sent: await sent.sentTo(letter.id),
      replies: await this.publishedReplies(letter.id),
      escalations: (await this.deps.escalations?.sentOf(letter.id)) ?? [],
      featuredCountries: [
        ...countries.slice(0, SIGNATURE_COUNTRIES_FIRST).map((c) => c.code),
        ...recipients.map((r) => r.country).filter((code) => code !== ''),
      ],
    };
  }
}

function summarise(
  letter: Letter,
  texts: LetterText[],
  recipients: LetterRecipient[],
  textLanguage: string,
  now: Date,
): LetterSummary {
  const text = textIn(texts, textLanguage, letter.primaryLanguage);
  if (!text) throw new Error(`letter ${letter.id} has no text`);
  return {
    letter,
    text,
    // Only complete translations are offered; a half-written one stays in the editor.
    languages: texts.filter(isComplete).map((t) => t.language),
    recipients,
    ...signingFigures(letter, now),
  };
}

/** What the letter's figures say at `now`: whether it takes signatures, its progress, its days. */
function signingFigures(letter: Letter, now: Date) {
  const state = signingState(letter, now);
  return {
    state,
    percent: progressPercent(letter.signatureCount, letter.goal),
    daysLeft: daysLeft(letter.closesAt, now),
    closedOn: state === 'closed' ? collectedUntil(letter) : null,
  };
}
