import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { position, randomHexPerRow } from '../db/dialect.js';
import { ReusableQuery } from '../db/reusable-query.js';
import type { NewSignatureRow, SignatureRow, SignatureUpdate } from '../db/tables.js';
import type { LetterStatus } from '../letters/letter.js';
import {
  canMove,
  parseReasons,
  type DisplayChoice,
  type Signature,
  type SignatureFilters,
  type SignatureStatus,
  statusOnRestoring,
  withheldFromModerators,
} from './signature.js';
import type { ReviewReason, SuspectReason } from './signing-screen.js';

function toSignature(row: SignatureRow): Signature {
  return {
    id: row.id,
    letterId: row.letter_id,
    letterVersionId: row.letter_version_id,
    ref: row.ref,
    status: row.status as SignatureStatus,
    fullName: row.full_name,
    email: row.email,
    country: row.country,
    city: row.city,
    organisation: row.organisation,
    jobTitle: row.job_title,
    display: row.display as DisplayChoice,
    language: row.language,
    interfaceLanguage: row.interface_language,
    consentUpdates: row.consent_updates === 1,
    confirmationSends: row.confirmation_sends,
    createdAt: new Date(row.created_at),
    confirmedAt: row.confirmed_at ? new Date(row.confirmed_at) : null,
    suspectReasons: parseReasons<SuspectReason>(row.suspect_reasons),
    reviewReasons: parseReasons<ReviewReason>(row.review_reasons),
    confirmRequestedAt: row.confirm_requested_at ? new Date(row.confirm_requested_at) : null,
    anonymised: row.anonymised_at !== null,
  };
}

/** A confirmed signature as the public may see it. */
export interface PublicSignatureRow {
  fullName: string;
  display: DisplayChoice;
  country: string;
  organisation: string;
  jobTitle: string;
  confirmedAt: Date;
}

/** What the public lists of a letter read of a signature (PublicSignatureRow); one list for both readers. */
const PUBLIC_COLUMNS = [
  'full_name',
  'display',
  'country',
  'organisation',
  'job_title',
  'confirmed_at',
] as const;

function toPublicRow(r: Pick<SignatureRow, (typeof PUBLIC_COLUMNS)[number]>): PublicSignatureRow {
  return {
    fullName: r.full_name,
    display: r.display as DisplayChoice,
    country: r.country,
    organisation: r.organisation,
    jobTitle: r.job_title,
    confirmedAt: new Date(r.confirmed_at!),
  };
}

/** Signing's own statements, compiled once (db/reusable-query.ts): they run in every signing. */
const FIND_BY_LETTER_AND_EMAIL_HASH = new ReusableQuery((db, p: { letterId: number; emailHash: string }) =>
  db
    .selectFrom('signatures')
    .selectAll()
    .where('letter_id', '=', p.letterId)
    .where('email_hash', '=', p.emailHash),
);
const INSERT_PENDING = new ReusableQuery((db, row: Omit<NewSignatureRow, 'status'>) =>
  db
    .insertInto('signatures')
    .values({ ...row, status: 'pending' })
    .onConflict((oc) => oc.columns(['letter_id', 'email_hash']).doNothing())
    .returningAll(),
);
const RECORD_CONFIRMATION_SENT = new ReusableQuery((db, p: { id: number; at: string }) =>
  db
    .updateTable('signatures')
    .set((eb) => ({ confirmation_sends: eb('confirmation_sends', '+', 1), updated_at: p.at }))
    .where('id', '=', p.id),
);

/** SQL for signatures. */
export class SignatureRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): SignatureRepository {
    return new SignatureRepository(tx);
  }

  async findByLetterAndEmailHash(letterId: number, emailHash: string): Promise<Signature | undefined> {
    const { rows } = await FIND_BY_LETTER_AND_EMAIL_HASH.execute(this.db, { letterId, emailHash });
    return rows[0] ? toSignature(rows[0]) : undefined;
  }

  async findByRef(ref: string): Promise<Signature | undefined> {
    const row = await this.db.selectFrom('signatures').selectAll().where('ref', '=', ref).executeTakeFirst();
    return row ? toSignature(row) : undefined;
  }

  /**
   * What a signature's leaf in a delivered list is made of, as stored (the confirmation time exactly as
   * written, which the leaf commits to), found by its reference; undefined for no such signature.
   */
  async leafSourceByRef(ref: string): Promise<
    | {
        id: number;
        letterId: number;
        ref: string;
        confirmedAt: string | null;
        anonymised: boolean;
        fullName: string;
        display: DisplayChoice;
        country: string;
        status: SignatureStatus;
      }
    | undefined
  > {
    const row = await this.db
      .selectFrom('signatures')
      .select([
        'id',
        'letter_id',
        'ref',
        'confirmed_at',
        'anonymised_at',
        'full_name',
        'display',
        'country',
        'status',
      ])
      .where('ref', '=', ref)
      .executeTakeFirst();
    return row
      ? {
          id: row.id,
          letterId: row.letter_id,
          ref: row.ref,
          confirmedAt: row.confirmed_at,
          anonymised: row.anonymised_at !== null,
          fullName: row.full_name,
          display: row.display as DisplayChoice,
          country: row.country,
          status: row.status as SignatureStatus,
        }
      : undefined;
  }

  /** Inserts a pending signature; undefined if the address has already signed this letter (a race). */
  async insertPending(row: Omit<NewSignatureRow, 'status'>): Promise<Signature | undefined> {
    const { rows } = await INSERT_PENDING.execute(this.db, row);
    return rows[0] ? toSignature(rows[0]) : undefined;
  }

  /**
   * Compare-and-set on the status, in one statement that returns the signature as it now is: undefined
   * if it was no longer in `from` (so two concurrent moves happen once), or, with `notSuspect`, if
   * screening has silenced it. Only moveSignatures() (signature-moves.ts) calls this: a status change
   * moves the counters with it, in the same transaction.
   */
  async compareAndSetStatus(
    id: number,
    from: SignatureStatus,
    to: SignatureStatus,
    changes: SignatureUpdate,
    options: { notSuspect: boolean },
  ): Promise<Signature | undefined> {
    if (!canMove(from, to)) throw new Error(`illegal signature transition ${from} → ${to}`);
    let query = this.db
      .updateTable('signatures')
      .set({ ...changes, status: to })
      .where('id', '=', id)
      .where('status', '=', from);
    // In the statement, so a signature cleared in moderation at the same moment is confirmed by one
    // side or the other, never twice and never not at all.
    if (options.notSuspect) query = query.where('suspect_reasons', 'is', null);
    const row = await query.returningAll().executeTakeFirst();
    return row ? toSignature(row) : undefined;
  }

  /** The supporter of a silenced, pending signature clicked its link: remembered (the first time) for moderation. */
  async recordConfirmRequest(id: number, at: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('signatures')
      .set({ confirm_requested_at: at.toISOString(), updated_at: at.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .where('suspect_reasons', 'is not', null)
      .where('confirm_requested_at', 'is', null)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /**
   * Clears a silenced signature's suspect reasons (compare-and-set): what it was when cleared, or
   * undefined if it was not suspect any more. One statement, so a confirmation click racing with it is
   * seen by one side or the other.
   */
  async clearSuspect(
    id: number,
    now: Date,
  ): Promise<{ status: SignatureStatus; confirmRequestedAt: Date | null } | undefined> {
    const row = await this.db
      .updateTable('signatures')
      .set({ suspect_reasons: null, updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('suspect_reasons', 'is not', null)
      .returning(['status', 'confirm_requested_at'])
      .executeTakeFirst();
    return row
      ? {
          status: row.status as SignatureStatus,
          confirmRequestedAt: row.confirm_requested_at ? new Date(row.confirm_requested_at) : null,
        }
      : undefined;
  }

  async recordConfirmationSent(id: number, at: Date): Promise<void> {
    await RECORD_CONFIRMATION_SENT.execute(this.db, { id, at: at.toISOString() });
  }

  /** The most recent confirmed signatures whose supporters agreed to be named (uses the letter/status index). */
  async recentPublic(letterId: number, limit: number): Promise<PublicSignatureRow[]> {
    const rows = await this.db
      .selectFrom('signatures')
      .select([...PUBLIC_COLUMNS])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .where('display', '!=', 'hidden')
      .orderBy('confirmed_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map(toPublicRow);
  }

  /**
   * One page of the signatories who chose to be listed by name, newest confirmation first, after
   * `after` (the last row of the page before; keyset pagination, so a deep page reads no skipped rows).
   * Ties on the confirmation time are broken by id. Uses the letter/status/confirmed_at index.
   */
  async publicPage(
    letterId: number,
    after: { confirmedAt: string; id: number } | undefined,
    limit: number,
  ): Promise<(PublicSignatureRow & { position: { confirmedAt: string; id: number } })[]> {
    let query = this.db
      .selectFrom('signatures')
      .select(['id', ...PUBLIC_COLUMNS])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .where('display', '!=', 'hidden');
    if (after)
      query = query.where((eb) =>
        eb(eb.refTuple('confirmed_at', 'id'), '<', eb.tuple(after.confirmedAt, after.id)),
      );
    const rows = await query.orderBy('confirmed_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
    return rows.map((r) => ({ ...toPublicRow(r), position: { confirmedAt: r.confirmed_at!, id: r.id } }));
  }

  /** Counts confirmed signatures by counting rows: for checks and repair, never for page views. */
  async countConfirmed(letterId: number): Promise<number> {
    const { n } = await this.db
      .selectFrom('signatures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .executeTakeFirstOrThrow();
    return Number(n);
  }

  /**
   * Confirmed signatures per UTC day since `since`, for the organizer's chart (uses the
   * letter/status/confirmed_at index; dashboards only, never public pages).
   */
  async confirmedPerDay(
    letterIds: readonly number[],
    since: Date,
  ): Promise<{ letterId: number; day: string; count: number }[]> {
    if (letterIds.length === 0) return [];
    const day = sql<string>`substr(confirmed_at, 1, 10)`;
    const rows = await this.db
      .selectFrom('signatures')
      .select(['letter_id', day.as('day'), (eb) => eb.fn.countAll<number>().as('n')])
      .where('letter_id', 'in', letterIds)
      .where('status', '=', 'confirmed')
      .where('confirmed_at', '>=', since.toISOString())
      .groupBy(['letter_id', day])
      .execute();
    return rows.map((r) => ({ letterId: r.letter_id, day: r.day, count: Number(r.n) }));
  }

  /**
   * Signatures held by screening per letter: suspect and still pending, so counted nowhere until an
   * admin clears them (the partial index on suspect signatures finds them); with `confirmedBySupporter`,
   * only those whose supporter confirmed, which a clearing counts at once.
   */
  async heldPerLetter(
    letterIds: readonly number[],
    options: { confirmedBySupporter?: boolean } = {},
  ): Promise<Map<number, number>> {
    if (letterIds.length === 0) return new Map();
    let query = this.db
      .selectFrom('signatures')
      .select(['letter_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('suspect_reasons', 'is not', null)
      .where('status', '=', 'pending')
      .where('letter_id', 'in', letterIds);
    // Only those a clearing would count now: their supporter pressed the link.
    if (options.confirmedBySupporter) query = query.where('confirm_requested_at', 'is not', null);
    const rows = await query.groupBy('letter_id').execute();
    return new Map(rows.map((r) => [r.letter_id, Number(r.n)]));
  }

  /**
   * Signatures that still stand (pending or confirmed) per letter version, for the version history.
   * Suspect ones are left out: a silenced signature is counted nowhere.
   */
  async countStandingByVersion(letterId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('signatures')
      .select(['letter_version_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('letter_id', '=', letterId)
      .where('status', 'in', ['pending', 'confirmed'])
      .where('suspect_reasons', 'is', null)
      .groupBy('letter_version_id')
      .execute();
    return new Map(rows.map((r) => [r.letter_version_id, Number(r.n)]));
  }

  /** The confirmed signatures of a letter up to a moment, oldest first, as the annex needs them (never addresses). */
  async annexRows(
    letterId: number,
    upTo: Date,
  ): Promise<
    { fullName: string; display: DisplayChoice; country: string; organisation: string; jobTitle: string }[]
  > {
    const rows = await this.db
      .selectFrom('signatures')
      .select(['full_name', 'display', 'country', 'organisation', 'job_title'])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .where('confirmed_at', '<=', upTo.toISOString())
      .orderBy('confirmed_at')
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      fullName: r.full_name,
      display: r.display as DisplayChoice,
      country: r.country,
      organisation: r.organisation,
      jobTitle: r.job_title,
    }));
  }

  /**
   * What a round's annex (signatures confirmed up to `upTo`) reads changes with: how many such rows and
   * when the last of them changed (a withdrawal, an erasure). A kept copy of the round's PDF is valid
   * while this stays the same.
   */
  async annexStamp(letterId: number, upTo: Date): Promise<string> {
    const row = await this.db
      .selectFrom('signatures')
      .select((eb) => [eb.fn.countAll<number | string>().as('n'), eb.fn.max('updated_at').as('changed')])
      .where('letter_id', '=', letterId)
      .where('confirmed_at', '<=', upTo.toISOString())
      .executeTakeFirst();
    return `${Number(row?.n ?? 0)}|${row?.changed ?? ''}`;
  }

  /**
   * One page of annexRows, after a cursor (the last row of the previous page), in the same order: a
   * delivery reads tens of thousands of signatories a page at a time, so no single read holds the
   * event loop (better-sqlite3 reads synchronously).
   */
  async annexRowsPage(
    letterId: number,
    upTo: Date,
    after: { confirmedAt: string; id: number } | undefined,
    limit: number,
  ): Promise<{
    rows: {
      id: number;
      /** The signature's reference, its confirmation time as stored, and whether its person was erased: a list's commitment reads them. */
      ref: string;
      confirmedAt: string;
      anonymised: boolean;
      fullName: string;
      display: DisplayChoice;
      country: string;
      organisation: string;
      jobTitle: string;
    }[];
    next: { confirmedAt: string; id: number } | undefined;
  }> {
    let query = this.db
      .selectFrom('signatures')
      .select([
        'id',
        'ref',
        'confirmed_at',
        'anonymised_at',
        'full_name',
        'display',
        'country',
        'organisation',
        'job_title',
      ])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .where('confirmed_at', '<=', upTo.toISOString());
    if (after) {
      // A row-value comparison, so the (letter_id, status, confirmed_at) index (with the id) is walked.
      query = query.where((eb) =>
        eb(eb.refTuple('confirmed_at', 'id'), '>', eb.tuple(after.confirmedAt, after.id)),
      );
    }
    const rows = await query.orderBy('confirmed_at').orderBy('id').limit(limit).execute();
    const last = rows.at(-1);
    return {
      rows: rows.map((r) => ({
        id: r.id,
        ref: r.ref,
        confirmedAt: r.confirmed_at!,
        anonymised: r.anonymised_at !== null,
        fullName: r.full_name,
        display: r.display as DisplayChoice,
        country: r.country,
        organisation: r.organisation,
        jobTitle: r.job_title,
      })),
      next: rows.length === limit && last ? { confirmedAt: last.confirmed_at!, id: last.id } : undefined,
    };
  }

  /**
   * The next supporters who asked for news about the letter and have not been told about this round
   * yet; the job calls it until it is empty, so a run cut off halfway goes on where it stopped.
   */
  async awaitingRoundNotice(
    letterId: number,
    roundId: number,
    limit: number,
  ): Promise<
    {
      id: number;
      ref: string;
      fullName: string;
      email: string;
      language: string;
      interfaceLanguage: string;
    }[]
  > {
    const rows = await this.db
      .selectFrom('signatures as s')
      .select(['s.id', 's.ref', 's.full_name', 's.email', 's.language', 's.interface_language'])
      .where('s.letter_id', '=', letterId)
      .where('s.status', '=', 'confirmed')
      .where('s.consent_updates', '=', 1)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbox_messages as m')
              .select('m.id')
              .whereRef('m.signature_id', '=', 's.id')
              .where('m.delivery_round_id', '=', roundId)
              .where('m.kind', '=', 'letter-sent'),
          ),
        ),
      )
      .orderBy('s.id')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      ref: r.ref,
      fullName: r.full_name,
      email: r.email,
      language: r.language,
      interfaceLanguage: r.interface_language,
    }));
  }

  /** A supporter no longer wants news about the letter (one-click unsubscribe). */
  async stopUpdates(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('signatures')
      .set({ consent_updates: 0, updated_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Signatures for the moderation page, newest first, matching every filter given. */
  async searchForModeration(
    filters: ModerationFilters,
    limit: number,
    offset: number,
  ): Promise<ModerationRow[]> {
    let query = this.db
      .selectFrom('signatures as s')
      .innerJoin('letters as l', 'l.id', 's.letter_id')
      .select([
        's.id',
        'l.slug',
        's.status',
        's.full_name',
        's.email',
        's.display',
        's.country',
        's.ip_hash',
        's.created_at',
        's.confirmed_at',
        's.invalidated_reason',
        's.anonymised_at',
        's.suspect_reasons',
        's.review_reasons',
        's.confirm_requested_at',
        'l.status as letter_status',
      ]);
    if (filters.id !== undefined) query = query.where('s.id', '=', filters.id);
    if (filters.letter) query = query.where('l.slug', '=', filters.letter);
    if (filters.status) query = query.where('s.status', '=', filters.status);
    if (filters.country) query = query.where('s.country', '=', filters.country);
    // A substring anywhere, without `like` (case-sensitive on PostgreSQL, and `%` and `_` in the input).
    const contains = (column: 's.full_name' | 's.email', part: string) =>
      position(this.db, sql.val(part.toLowerCase()), sql`lower(${sql.ref(column)})`);
    if (filters.name) query = query.where(contains('s.full_name', filters.name), '>', 0);
    if (filters.email) query = query.where(contains('s.email', filters.email), '>', 0);
    // A withdrawn signature names nobody (withheldFromModerators): nor is it found by a name or address.
    if (filters.name || filters.email) query = query.where('s.status', '!=', 'withdrawn');
    if (filters.ipHash) query = query.where('s.ip_hash', '=', filters.ipHash);
    if (filters.flag === 'suspect') query = query.where('s.suspect_reasons', 'is not', null);
    if (filters.flag === 'review') query = query.where('s.review_reasons', 'is not', null);
    if (filters.from) query = query.where('s.created_at', '>=', filters.from.toISOString());
    if (filters.to) query = query.where('s.created_at', '<', filters.to.toISOString());
    const rows = await query
      .orderBy('s.created_at', 'desc')
      .orderBy('s.id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((r) =>
      withheldFromModerators({
        id: r.id,
        letter: r.slug,
        status: r.status as SignatureStatus,
        fullName: r.full_name,
        email: r.email,
        display: r.display as DisplayChoice,
        country: r.country,
        ipHash: r.ip_hash,
        createdAt: new Date(r.created_at),
        confirmedAt: r.confirmed_at ? new Date(r.confirmed_at) : null,
        invalidatedReason: r.invalidated_reason,
        anonymised: r.anonymised_at !== null,
        suspectReasons: parseReasons<SuspectReason>(r.suspect_reasons),
        reviewReasons: parseReasons<ReviewReason>(r.review_reasons),
        confirmRequested: r.confirm_requested_at !== null,
        letterStatus: r.letter_status as LetterStatus,
      }),
    );
  }

  /** The signatures a bulk invalidation would change: still standing, and matching the criteria. */
  async standingMatching(criteria: BulkCriteria): Promise<StandingSignature[]> {
    const rows = await this.bulkMatching(criteria)
      .where('s.status', 'in', ['pending', 'confirmed'])
      .orderBy('s.id')
      .execute();
    return rows.map((r) => toStanding(r, r.status as SignatureStatus));
  }

  /**
   * The signatures a bulk restore would change: invalidated, matching the criteria, and, when given,
   * invalidated for exactly that reason or at exactly that moment (one bulk invalidation's batch).
   * Each is listed as restoring will leave it (`status` is what it returns to).
   */
  async invalidatedMatching(criteria: InvalidatedCriteria): Promise<StandingSignature[]> {
    let query = this.bulkMatching(criteria)
      .select('s.status_before_invalidation')
      .where('s.status', '=', 'invalidated');
    if (criteria.reason !== undefined) query = query.where('s.invalidated_reason', '=', criteria.reason);
    if (criteria.invalidatedAt)
      query = query.where('s.invalidated_at', '=', criteria.invalidatedAt.toISOString());
    const rows = await query.orderBy('s.id').execute();
    return rows.map((r) => toStanding(r, statusOnRestoring(r.status_before_invalidation)));
  }

  /** The columns a bulk preview lists, of the signatures matching a bulk action's criteria, in any status. */
  private bulkMatching(criteria: BulkCriteria) {
    let query = this.db
      .selectFrom('signatures as s')
      .innerJoin('letters as l', 'l.id', 's.letter_id')
      .select([
        's.id',
        's.letter_id',
        'l.slug',
        's.country',
        's.status',
        's.full_name',
        's.created_at',
        's.anonymised_at',
        's.suspect_reasons',
        's.confirm_requested_at',
      ]);
    if (criteria.letter) query = query.where('l.slug', '=', criteria.letter);
    if (criteria.ipHash) query = query.where('s.ip_hash', '=', criteria.ipHash);
    if (criteria.emailDomain) {
      query = query.where(
        sql<string>`lower(substr(s.email, ${position(this.db, sql.lit('@'), sql.ref('s.email'))} + 1))`,
        '=',
        criteria.emailDomain.toLowerCase(),
      );
    }
    if (criteria.from) query = query.where('s.created_at', '>=', criteria.from.toISOString());
    if (criteria.to) query = query.where('s.created_at', '<', criteria.to.toISOString());
    return query;
  }

  /** What an invalidated signature was before, to restore it. */
  async statusBeforeInvalidation(id: number): Promise<SignatureStatus | undefined> {
    const row = await this.db
      .selectFrom('signatures')
      .select('status_before_invalidation')
      .where('id', '=', id)
      .executeTakeFirst();
    return (row?.status_before_invalidation as SignatureStatus | null) ?? undefined;
  }

  async findById(id: number): Promise<Signature | undefined> {
    const row = await this.db.selectFrom('signatures').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toSignature(row) : undefined;
  }

  /**
   * Signatures ever received, in every status, by every process: ids only grow (AUTOINCREMENT, rows are
   * anonymised, never deleted), so the highest is a counter that /metrics reads from the primary key.
   */
  async receivedTotal(): Promise<number> {
    const row = await this.db
      .selectFrom('signatures')
      .select((eb) => eb.fn.max('id').as('last'))
      .executeTakeFirst();
    return Number(row?.last ?? 0);
  }

  /**
   * Signatures whose letter has been closed since before `closedBefore` and that still hold a person:
   * retention takes them in batches of `limit`.
   */
  async dueForAnonymisation(closedBefore: Date, limit: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('signatures as s')
      .innerJoin('letters as l', 'l.id', 's.letter_id')
      .select('s.id')
      .where('s.anonymised_at', 'is', null)
      .where('l.status', 'in', ['closed', 'delivered'])
      .where(sql<string>`coalesce(l.closed_at, l.closes_at)`, '<=', closedBefore.toISOString())
      .orderBy('s.id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The signatures made with an address (by its keyed hash, or as written). */
  async idsByAddress(emailHash: string, address: string): Promise<number[]> {
    const rows = await this.db
      .selectFrom('signatures')
      .select('id')
      .where((eb) =>
        eb.or([
          eb('email_hash', '=', emailHash),
          eb(sql<string>`lower(email)`, '=', address.trim().toLowerCase()),
        ]),
      )
      .where('anonymised_at', 'is', null)
      .execute();
    return rows.map((r) => r.id);
  }

  /** The addresses the signatures were made with, as written (for erasing every form of an address). */
  async addressesOf(ids: readonly number[]): Promise<string[]> {
    const found = new Set<string>();
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('signatures')
        .select('email')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const { email } of rows) if (email !== '') found.add(email);
    }
    return [...found];
  }

  /** Where each of these signatures stands in its letter's figures: its letter, country, display and status. */
  async placesOf(
    ids: readonly number[],
  ): Promise<Pick<Signature, 'letterId' | 'country' | 'display' | 'status'>[]> {
    const places: Pick<Signature, 'letterId' | 'country' | 'display' | 'status'>[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('signatures')
        .select(['letter_id', 'country', 'display', 'status'])
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      for (const row of rows)
        places.push({
          letterId: row.letter_id,
          country: row.country,
          display: row.display as DisplayChoice,
          status: row.status as SignatureStatus,
        });
    }
    return places;
  }

  /**
   * Removes the person from signatures, keeping what counts: status, letter, version, country, language
   * and dates. The address hash becomes random, so the address can sign again as someone new. The
   * caller first takes them out of the figures by country (leaveCountryFigures): they are no longer shown.
   */
  async anonymise(ids: readonly number[], now: Date): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      await this.db
        .updateTable('signatures')
        .set({
          full_name: '',
          email: '',
          email_hash: sql<string>`'erased:' || ${randomHexPerRow(this.db)}`,
          city: '',
          organisation: '',
          job_title: '',
          display: 'hidden',
          ip_hash: null,
          consent_updates: 0,
          anonymised_at: now.toISOString(),
          updated_at: now.toISOString(),
        })
        .where('id', 'in', slice)
        .execute();
    }
  }

  /** Everything held for an address, for a supporter's access request, oldest signature first. */
  async heldFor(
    emailHash: string,
  ): Promise<(Signature & { letterSlug: string; withdrawnAt: Date | null; updatedAt: Date })[]> {
    const rows = await this.db
      .selectFrom('signatures as s')
      .innerJoin('letters as l', 'l.id', 's.letter_id')
      .selectAll('s')
      .select('l.slug')
      // Through the unique (letter_id, email_hash) key, one look-up per letter: no index on the hash
      // alone, which every signing would have to write at a random place (migration 2026-12-06T05).
      .where('s.letter_id', 'in', (eb) => eb.selectFrom('letters').select('id'))
      .where('s.email_hash', '=', emailHash)
      .orderBy('s.id')
      .execute();
    return rows.map(({ slug, ...row }) => ({
      ...toSignature(row),
      letterSlug: slug,
      withdrawnAt: row.withdrawn_at ? new Date(row.withdrawn_at) : null,
      updatedAt: new Date(row.updated_at),
    }));
  }

  /**
   * Every signature matching an export's filters, oldest first, read in chunks so an export of a
   * million rows holds only one chunk in memory. Run it on a connection of its own: a stream keeps its
   * connection until it ends.
   */
  async *streamForExport(filters: SignatureFilters): AsyncGenerator<ExportRow> {
    let query = this.db
      .selectFrom('signatures as s')
      .innerJoin('letters as l', 'l.id', 's.letter_id')
      .innerJoin('letter_versions as v', 'v.id', 's.letter_version_id')
      .select([
        's.id',
        'l.slug',
        's.status',
        's.full_name',
        's.display',
        's.email',
        's.country',
        's.city',
        's.organisation',
        's.job_title',
        's.language',
        's.consent_updates',
        'v.number',
        's.created_at',
        's.confirmed_at',
        's.withdrawn_at',
        's.invalidated_at',
        's.suspect_reasons',
      ])
      .where('s.status', 'in', filters.statuses);
    if (filters.letter) query = query.where('l.slug', '=', filters.letter);
    if (filters.country) query = query.where('s.country', '=', filters.country);
    if (filters.from) query = query.where('s.created_at', '>=', filters.from.toISOString());
    if (filters.to) query = query.where('s.created_at', '<', filters.to.toISOString());
    if (filters.consent !== undefined) query = query.where('s.consent_updates', '=', filters.consent ? 1 : 0);
    for await (const r of query.orderBy('s.id').stream(500)) {
      yield {
        letter: r.slug,
        status: r.status as SignatureStatus,
        fullName: r.full_name,
        display: r.display as DisplayChoice,
        email: r.email,
        country: r.country,
        city: r.city,
        organisation: r.organisation,
        jobTitle: r.job_title,
        language: r.language,
        consentUpdates: r.consent_updates === 1,
        letterVersion: r.number,
        signedAt: r.created_at,
        confirmedAt: r.confirmed_at,
        withdrawnAt: r.withdrawn_at,
        invalidatedAt: r.invalidated_at,
        held: r.status === 'pending' && parseReasons(r.suspect_reasons).length > 0,
      };
    }
  }
}

/** One signature as an export reads it. */
export interface ExportRow {
  letter: string;
  status: SignatureStatus;
  fullName: string;
  display: DisplayChoice;
  email: string;
  country: string;
  city: string;
  organisation: string;
  jobTitle: string;
  language: string;
  consentUpdates: boolean;
  letterVersion: number;
  signedAt: string;
  confirmedAt: string | null;
  withdrawnAt: string | null;
  invalidatedAt: string | null;
  /** Pending and held by screening, not counted until a moderator clears it (exports say `held`). */
  held: boolean;
}

export interface ModerationFilters {
  /** One signature (its confirmation page). */
  id?: number | undefined;
  letter?: string | undefined;
  status?: SignatureStatus | undefined;
  name?: string | undefined;
  email?: string | undefined;
  country?: string | undefined;
  ipHash?: string | undefined;
  /** Only signatures screening silenced (`suspect`) or flagged (`review`). */
  flag?: 'suspect' | 'review' | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** A standing signature a bulk invalidation would change, as its preview lists it (never an address). */
export interface StandingSignature {
  id: number;
  letterId: number;
  letter: string;
  country: string;
  status: SignatureStatus;
  fullName: string;
  createdAt: Date;
  anonymised: boolean;
  /** Pending and suspect: screening silenced it until an admin clears it. */
  suspect: boolean;
  /** Suspect, and its supporter clicked the link: "held", not "not confirmed". */
  held: boolean;
}

/** What a bulk invalidation selects by: an IP hash, an e-mail domain, or a time window (optionally on one letter). */
export interface BulkCriteria {
  letter?: string | undefined;
  ipHash?: string | undefined;
  emailDomain?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/**
 * What a bulk restore selects by: a bulk action's criteria, and the reason the signatures were
 * invalidated for or the moment they were (all of one bulk invalidation share it).
 */
export interface InvalidatedCriteria extends BulkCriteria {
  reason?: string | undefined;
  invalidatedAt?: Date | undefined;
}

/** A bulk preview's row in `status` (as it stands, or as restoring leaves it), from its selected columns. */
function toStanding(
  r: {
    id: number;
    letter_id: number;
    slug: string;
    country: string;
    full_name: string;
    created_at: string;
    anonymised_at: string | null;
    suspect_reasons: string | null;
    confirm_requested_at: string | null;
  },
  status: SignatureStatus,
): StandingSignature {
  const suspect = status === 'pending' && r.suspect_reasons !== null;
  return {
    id: r.id,
    letterId: r.letter_id,
    letter: r.slug,
    country: r.country,
    status,
    fullName: r.full_name,
    createdAt: new Date(r.created_at),
    anonymised: r.anonymised_at !== null,
    suspect,
    held: suspect && r.confirm_requested_at !== null,
  };
}

/** A signature as the moderation page lists it. */
export interface ModerationRow {
  id: number;
  letter: string;
  status: SignatureStatus;
  fullName: string;
  email: string;
  display: DisplayChoice;
  country: string;
  ipHash: string | null;
  createdAt: Date;
  confirmedAt: Date | null;
  invalidatedReason: string | null;
  anonymised: boolean;
  suspectReasons: SuspectReason[];
  reviewReasons: ReviewReason[];
  /** A silenced signature whose supporter clicked the confirmation link. */
  confirmRequested: boolean;
  /** Its letter's: once delivered, a pending signature can no longer be confirmed (canConfirm). */
  letterStatus: LetterStatus;
  /** Withdrawn: its name and address are kept from moderators (withheldFromModerators), as from exports. */
  withheld: boolean;
}
