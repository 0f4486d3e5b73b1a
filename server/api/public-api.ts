/**
 * The public read API's rules, without I/O: its query parameters, which text language an answer is in,
 * and the resources it answers (the Open Supporter Data Interface's petition shape, HAL links).
 * Whatever is written here is public: supporters appear only as public-signatories.ts lets them.
 */
import { keptNameIn, recipientNamedIn } from '../recipients/recipient-names.js';
import type { ConsistencyAnswer, PublishedCommitment } from '../commitments/commitment.js';
import type { PublishedReply } from '../deliveries/delivery-reply.js';
import { AppError, notFound } from '../lib/errors.js';
import type { LetterHeading, Letter, LetterRecipient, SigningState } from '../letters/letter.js';
import type { PublicSignatory } from '../letters/public-signatories.js';
import type { SentEscalation } from '../letters/letter-service.js';

/** Where the API lives; the version is in the path, so a later one can live beside it. */
export const API_PATH = '/api/v1';

/** Sizes of a page of letters or signatures: the default, and the most a client may ask for. */
export const DEFAULT_PER_PAGE = 25;
export const MAX_PER_PAGE = 100;
/** The last page of letters anyone may ask for (as the home page's list, http/input.ts). */
export const MAX_PAGE = 10_000;

/** What this system is called in OSDI identifiers (`undersigned:<slug>`) and `origin_system`. */
export const SYSTEM_ID = 'undersigned';
export const ORIGIN_SYSTEM = 'Undersigned';

/** OSDI's link relations, as a HAL curie. */
const CURIES = [
  { name: 'osdi', href: 'https://opensupporter.github.io/osdi-docs/{rel}.html', templated: true },
];

/** A slug as the letters' form makes them (letter-input.ts), loosely: anything else names no letter. */
const SLUG = /^[a-z0-9][a-z0-9-]{0,99}$/;

/** Whether `text` could be a letter's slug; one that cannot is answered 404 without a database read. */
export function plausibleSlug(text: string): boolean {
  return SLUG.test(text);
}

/** A refused query parameter: 400, with the parameter's name in the message. */
function invalid(name: string, messageKey: string, params: Record<string, unknown> = {}): AppError {
  return new AppError(400, 'invalid_parameter', messageKey, { name, ...params });
}

/** A query parameter given once as text; undefined when absent. Repeated (`?a=1&a=2`) or nested is refused. */
function single(query: Record<string, unknown>, name: string): string | undefined {
  const value = query[name];
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalid(name, 'api.errors.repeated');
  return value;
}

/** A whole number from 1 to `max` written plainly, or the default when absent. */
function wholeNumber(query: Record<string, unknown>, name: string, max: number, fallback: number): number {
  const text = single(query, name);
  if (text === undefined) return fallback;
  if (!/^[1-9][0-9]{0,5}$/.test(text) || Number(text) > max)
    throw invalid(name, 'api.errors.wholeNumber', { max });
  return Number(text);
}

/** `?lang=`: a plain language code, or undefined. */
function languageParameter(query: Record<string, unknown>): string | undefined {
  const text = single(query, 'lang');
  if (text === undefined) return undefined;
  if (!/^[a-z]{2,3}$/.test(text)) throw invalid('lang', 'api.errors.language');
  return text;
}

/** The list's parameters: `page` (from 1), `per_page`, `lang`. */
export interface ListQuery {
  page: number;
  perPage: number;
  lang: string | undefined;
}

/** Reads the list's query; a bad value is a 400 that names the parameter. */
export function parseListQuery(query: Record<string, unknown>): ListQuery {
  return {
    page: wholeNumber(query, 'page', MAX_PAGE, 1),
    perPage: wholeNumber(query, 'per_page', MAX_PER_PAGE, DEFAULT_PER_PAGE),
    lang: languageParameter(query),
  };
}

/** A letter's parameters: `lang`. */
export function parseLetterQuery(query: Record<string, unknown>): { lang: string | undefined } {
  return { lang: languageParameter(query) };
}

/** The signatures' parameters: `cursor` (as a previous page's `next` link gave it), `per_page`. */
export interface SignaturesQuery {
  cursor: string | undefined;
  perPage: number;
}

/** Reads the signatures' query; the cursor's content is checked where it is opened (api-cursor.ts). */
export function parseSignaturesQuery(query: Record<string, unknown>): SignaturesQuery {
  const cursor = single(query, 'cursor');
  if (cursor !== undefined && !/^[A-Za-z0-9_-]{1,200}$/.test(cursor))
    throw invalid('cursor', 'api.errors.cursor');
  return { cursor, perPage: wholeNumber(query, 'per_page', MAX_PER_PAGE, DEFAULT_PER_PAGE) };
}

/** The largest round id anyone may name: ids are 32-bit integers in both databases. */
const MAX_ROUND = 2_147_483_647;

/** A round's id in the path (`/commitments/{round}/...`): a plain whole number, else no such round (404). */
export function parseRoundParam(text: string): number {
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > MAX_ROUND)
    throw notFound('commitment_not_found', 'commitments.errors.notFound');
  return Number(text);
}

/** The consistency proof's parameter: `from`, the earlier round (required). */
export function parseConsistencyQuery(query: Record<string, unknown>): { from: number } {
  const text = single(query, 'from');
  if (text === undefined) throw invalid('from', 'commitments.errors.fromRequired');
  if (!/^[1-9][0-9]{0,9}$/.test(text) || Number(text) > MAX_ROUND)
    throw invalid('from', 'api.errors.wholeNumber', { max: MAX_ROUND });
  return { from: Number(text) };
}

/** A letter's published commitments, as its resource lists them (the API's issue-15 fields, camelCase). */
export function commitmentsResource(commitments: readonly PublishedCommitment[]) {
  return commitments.map((c) => ({
    round: c.roundId,
    kind: c.kind,
    deliveredAt: c.deliveredAt.toISOString(),
    treeSize: c.treeSize,
    root: c.root,
    correctsRound: c.correctsRoundId,
  }));
}

/** `GET …/commitments/{round}/consistency?from=`: the two lists and the proof, hex. */
export function consistencyResource(answer: ConsistencyAnswer) {
  return { from: answer.from, to: answer.to, proof: answer.proof };
}

/**
 * The text languages a request prefers, best first: `?lang=`, then Accept-Language's primary subtags by
 * q (q=0 refused; ties keep the header's order). Any plain code, not only the interface languages: a
 * letter may be written in Japanese though the site's pages are not.
 */
export function preferredLanguages(lang: string | undefined, acceptLanguage: string | undefined): string[] {
  const ranked = (acceptLanguage ?? '')
    .slice(0, 500)
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(p)).find(Boolean);
      const quality = q ? Number(q[1]) : 1;
      const code = /^([a-z]{2,3})(?:-|$)/i.exec(tag.trim())?.[1]?.toLowerCase();
      return { code, quality: Number.isFinite(quality) ? quality : 0, index };
    })
    .filter((entry): entry is { code: string; quality: number; index: number } =>
      Boolean(entry.code && entry.quality > 0),
    )
    .sort((a, b) => b.quality - a.quality || a.index - b.index)
    .map((entry) => entry.code);
  return [...new Set([...(lang ? [lang] : []), ...ranked])];
}

/**
 * The translation an answer is in: the first preferred language the letter has complete, else its
 * primary language (complete), else any complete one, else any (textIn's fallback, letter.ts).
 */
export function chooseHeading(
  headings: readonly LetterHeading[],
  preferred: readonly string[],
  primary: string,
): LetterHeading | undefined {
  const complete = headings.filter((h) => h.complete);
  const pool = complete.length > 0 ? complete : headings;
  for (const language of [...preferred, primary]) {
    const found = pool.find((h) => h.language === language);
    if (found) return found;
  }
  return pool[0];
}

/** One sending of the letter on the public record, as the deliveries read it. */
export interface SentRecordRow {
  /** The name the letter went to. */
  recipientName: string;
  /** The recipient in the directory (null once deleted), to name them in the answer's language. */
  recipientId: number | null;
  /** The directory's organisation ('' when none). */
  organisation: string;
  sentAt: Date;
  signatureCount: number;
}

/** A group of the delivery record: one institution on one day with one count. */
export interface DeliveryGroup {
  date: string;
  institution: string;
  recipients: number;
  signatures: number;
}

/**
 * The delivery record grouped by day, institution and count, newest first (200 recipients read as a few
 * lines). Each institution is named in `language` where the letter's recipient has a name typed for it,
 * as the letter page's record names it (keptNameIn); a recipient without one is grouped under its name.
 */
export function groupDeliveries(
  rows: readonly SentRecordRow[],
  recipients: readonly LetterRecipient[],
  language: string,
): DeliveryGroup[] {
  const listed = new Map(recipients.map((r) => [r.id, r]));
  const groups = new Map<string, DeliveryGroup>();
  for (const row of rows) {
    const date = row.sentAt.toISOString().slice(0, 10);
    const named = keptNameIn(
      { name: row.recipientName, organisation: row.organisation },
      row.recipientId === null ? undefined : listed.get(row.recipientId),
      language,
    );
    const institution = named.organisation.trim() || named.name;
    const key = JSON.stringify([date, institution, row.signatureCount]);
    const group = groups.get(key);
    if (group) group.recipients += 1;
    else
      groups.set(key, {
        date,
        institution,
        recipients: 1,
        signatures: row.signatureCount,
      });
  }
  return [...groups.values()].sort(
    (a, b) => b.date.localeCompare(a.date) || a.institution.localeCompare(b.institution),
  );
}

// The grouped record of a document in each language, made once per document (a count epoch), not per
// request: a letter sent in many rounds to 200 offices has thousands of rows to group.
const groupedRecords = new WeakMap<LetterDocument, Map<string, DeliveryGroup[]>>();

function deliveriesIn(doc: LetterDocument, language: string): DeliveryGroup[] {
  let byLanguage = groupedRecords.get(doc);
  if (!byLanguage) groupedRecords.set(doc, (byLanguage = new Map()));
  let groups = byLanguage.get(language);
  if (!groups) byLanguage.set(language, (groups = groupDeliveries(doc.deliveries, doc.recipients, language)));
  return groups;
}

/** What the API answers about one letter, read once per count epoch whatever the language asked for. */
export interface LetterDocument {
  letter: Letter;
  headings: LetterHeading[];
  state: SigningState;
  modifiedAt: Date | null;
  recipients: LetterRecipient[];
  countries: { code: string; count: number }[];
  /** The recipients it reached, one row a sending; grouped in the answer's language (groupDeliveries). */
  deliveries: SentRecordRow[];
  /** The committed lists of its rounds that reached recipients, oldest first. */
  commitments: PublishedCommitment[];
  /** Officials' replies the organizer published, oldest first (without quoted lines or addresses). */
  replies: PublishedReply[];
  /** The escalation steps that sent the letter to a further tier, oldest first (none pending or cancelled). */
  escalations: SentEscalation[];
}

/** One letter of a list page, read with its headings. */
export interface LetterListItem {
  letter: Letter;
  headings: LetterHeading[];
  state: SigningState;
}

/** One page of the list of public letters. */
export interface LetterListDocument {
  items: LetterListItem[];
  total: number;
}

/** One page of a letter's public signatories. */
export interface SignaturesDocument {
  letter: Letter;
  signatories: PublicSignatory[];
  /** The next page's cursor; undefined on the last page. */
  nextCursor: string | undefined;
}

/** Builds absolute addresses on the platform's public URL. */
export class ApiUrls {
  constructor(private readonly publicUrl: string) {}

  /**
   * `path` with the query parameters that have a value, absolute. Appended to PUBLIC_URL as every other
   * address of the platform is (`new URL(path, base)` would drop a path PUBLIC_URL has, `/petitions`).
   */
  at(path: string, query: Record<string, string | number | undefined> = {}): string {
    const url = new URL(`${this.publicUrl}${path}`);
    for (const [name, value] of Object.entries(query))
      if (value !== undefined) url.searchParams.set(name, String(value));
    return url.toString();
  }

  letter(slug: string, lang?: string): string {
    return this.at(`${API_PATH}/letters/${encodeURIComponent(slug)}`, { lang });
  }

  signatures(slug: string, query: Record<string, string | number | undefined> = {}): string {
    return this.at(`${API_PATH}/letters/${encodeURIComponent(slug)}/signatures`, query);
  }

  /** The letter's page, in the text language the answer is in. */
  page(slug: string, language: string): string {
    return this.at(`/letters/${encodeURIComponent(slug)}`, { text: language });
  }
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

/** The fields a letter has in a list and alone. */
function letterFields(
  letter: Letter,
  heading: LetterHeading,
  headings: LetterHeading[],
  state: SigningState,
) {
  return {
    identifiers: [`${SYSTEM_ID}:${letter.slug}`],
    origin_system: ORIGIN_SYSTEM,
    slug: letter.slug,
    created_date: iso(letter.publishedAt),
    title: heading.title,
    description: heading.summary,
    language: heading.language,
    languages: headings.filter((h) => h.complete).map((h) => h.language),
    total_signatures: letter.signatureCount,
    goal: letter.goal,
    status: letter.status,
    signing: state,
    closes_date: iso(letter.closesAt),
  };
}

function letterLinks(urls: ApiUrls, slug: string, language: string, lang: string | undefined) {
  return {
    self: { href: urls.letter(slug, lang) },
    'osdi:signatures': { href: urls.signatures(slug) },
    html: { href: urls.page(slug, language), type: 'text/html' },
  };
}

/** A letter as `GET /api/v1/letters/{slug}` answers it, in the first preferred language it has. */
export function letterResource(
  doc: LetterDocument,
  preferred: readonly string[],
  lang: string | undefined,
  urls: ApiUrls,
) {
  const { letter } = doc;
  const heading = chooseHeading(doc.headings, preferred, letter.primaryLanguage);
  if (!heading) throw new Error(`letter ${letter.id} has no text`);
  return {
    ...letterFields(letter, heading, doc.headings, doc.state),
    modified_date: iso(doc.modifiedAt ?? letter.publishedAt),
    opens_date: iso(letter.opensAt),
    browser_url: urls.page(letter.slug, heading.language),
    organisations: letter.organisations,
    countries: doc.countries.map((c) => ({ country: c.code, count: c.count })),
    // Names, titles and institutions only: a recipient's address is the platform's to use, no one else's.
    // In the answer's language where the directory names them in it, else in their own.
    recipients: doc.recipients.map((r) => {
      const named = recipientNamedIn(r, heading.language);
      return { name: named.name, title: named.title, institution: named.organisation, country: r.country };
    }),
    deliveries: deliveriesIn(doc, heading.language),
    commitments: commitmentsResource(doc.commitments),
    // Who answered and when, never who wrote it: the sender's address is not in the document at all.
    replies: doc.replies.map((r) => {
      const listed = doc.recipients.find((recipient) => recipient.id === r.recipientId);
      const { name, organisation } = keptNameIn(
        { name: r.recipientName, organisation: r.institution },
        listed,
        heading.language,
      );
      return {
        receivedAt: r.receivedAt.toISOString(),
        institution: organisation,
        recipient: name,
        subject: r.subject,
        text: r.bodyText,
      };
    }),
    // What the letter page says under a round ("No reply from the embassy within 14 days: sent to the
    // ministry."), as data: the round (as commitments name it), the tiers and the days.
    escalations: doc.escalations.map((e) => ({
      round: e.roundId,
      fromTier: e.fromTier,
      toTier: e.toTier,
      daysWithoutReply: e.days,
    })),
    _links: { ...letterLinks(urls, letter.slug, heading.language, lang), curies: CURIES },
  };
}

/** One page of `GET /api/v1/letters`, with OSDI's collection fields and HAL's page links. */
export function letterListResource(
  doc: LetterListDocument,
  query: ListQuery,
  preferred: readonly string[],
  urls: ApiUrls,
) {
  const totalPages = Math.max(1, Math.ceil(doc.total / query.perPage));
  const pageLink = (page: number) => ({
    href: urls.at(`${API_PATH}/letters`, {
      page: page === 1 ? undefined : page,
      per_page: query.perPage === DEFAULT_PER_PAGE ? undefined : query.perPage,
      lang: query.lang,
    }),
  });
  const petitions = doc.items.map(({ letter, headings, state }) => {
    const heading = chooseHeading(headings, preferred, letter.primaryLanguage);
    if (!heading) throw new Error(`letter ${letter.id} has no text`);
    return {
      ...letterFields(letter, heading, headings, state),
      browser_url: urls.page(letter.slug, heading.language),
      _links: letterLinks(urls, letter.slug, heading.language, query.lang),
    };
  });
  return {
    total_pages: totalPages,
    per_page: query.perPage,
    page: query.page,
    total_records: doc.total,
    _links: {
      self: pageLink(query.page),
      first: pageLink(1),
      last: pageLink(totalPages),
      ...(query.page < totalPages ? { next: pageLink(query.page + 1) } : {}),
      ...(query.page > 1 ? { prev: pageLink(Math.min(query.page - 1, totalPages)) } : {}),
      'osdi:petitions': petitions.map((p) => p._links.self),
      curies: CURIES,
    },
    _embedded: { 'osdi:petitions': petitions },
  };
}

/** One page of `GET /api/v1/letters/{slug}/signatures`: each signatory exactly as they chose to appear. */
export function signaturesResource(doc: SignaturesDocument, query: SignaturesQuery, urls: ApiUrls) {
  const { slug } = doc.letter;
  const perPage = query.perPage === DEFAULT_PER_PAGE ? undefined : query.perPage;
  return {
    total_signatures: doc.letter.signatureCount,
    per_page: query.perPage,
    _links: {
      self: { href: urls.signatures(slug, { cursor: query.cursor, per_page: perPage }) },
      first: { href: urls.signatures(slug, { per_page: perPage }) },
      ...(doc.nextCursor
        ? { next: { href: urls.signatures(slug, { cursor: doc.nextCursor, per_page: perPage }) } }
        : {}),
      'osdi:petition': { href: urls.letter(slug) },
      curies: CURIES,
    },
    _embedded: {
      // Built field by field: nothing a signatory row may carry besides these can reach the answer.
      'osdi:signatures': doc.signatories.map((s) => ({
        name: s.name,
        country: s.country,
        organisation: s.organisation,
        title: s.title,
      })),
    },
  };
}
