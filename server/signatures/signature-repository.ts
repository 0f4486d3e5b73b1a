import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { NewSignatureRow, SignatureRow, SignatureUpdate } from '../db/tables.js';
import { canMove, type DisplayChoice, type Signature, type SignatureStatus } from './signature.js';

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
    consentUpdates: row.consent_updates === 1,
    confirmationSends: row.confirmation_sends,
    createdAt: new Date(row.created_at),
    confirmedAt: row.confirmed_at ? new Date(row.confirmed_at) : null,
  };
}

/** A confirmed signature as the public may see it. */
export interface PublicSignatureRow {
  fullName: string;
  display: DisplayChoice;
  country: string;
  organisation: string;
  confirmedAt: Date;
}

/** SQL for signatures. */
export class SignatureRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): SignatureRepository {
    return new SignatureRepository(tx);
  }

  async findByLetterAndEmailHash(letterId: number, emailHash: string): Promise<Signature | undefined> {
    const row = await this.db
      .selectFrom('signatures')
      .selectAll()
      .where('letter_id', '=', letterId)
      .where('email_hash', '=', emailHash)
      .executeTakeFirst();
    return row ? toSignature(row) : undefined;
  }

  async findByRef(ref: string): Promise<Signature | undefined> {
    const row = await this.db.selectFrom('signatures').selectAll().where('ref', '=', ref).executeTakeFirst();
    return row ? toSignature(row) : undefined;
  }

  /** Inserts a pending signature; undefined if the address has already signed this letter (a race). */
  async insertPending(row: Omit<NewSignatureRow, 'status'>): Promise<Signature | undefined> {
    const inserted = await this.db
      .insertInto('signatures')
      .values({ ...row, status: 'pending' })
      .onConflict((oc) => oc.columns(['letter_id', 'email_hash']).doNothing())
      .returningAll()
      .executeTakeFirst();
    return inserted ? toSignature(inserted) : undefined;
  }

  /**
   * Compare-and-set: moves the signature from `from` to `to` only if it is still in `from`.
   * Returns whether it moved, so two concurrent confirmations count once.
   */
  async transition(
    id: number,
    from: SignatureStatus,
    to: SignatureStatus,
    changes: SignatureUpdate = {},
  ): Promise<boolean> {
    if (!canMove(from, to)) throw new Error(`illegal signature transition ${from} → ${to}`);
    const result = await this.db
      .updateTable('signatures')
      .set({ ...changes, status: to })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  async recordConfirmationSent(id: number, at: Date): Promise<void> {
    await this.db
      .updateTable('signatures')
      .set((eb) => ({ confirmation_sends: eb('confirmation_sends', '+', 1), updated_at: at.toISOString() }))
      .where('id', '=', id)
      .execute();
  }

  /** The most recent confirmed signatures whose supporters agreed to be named (uses the letter/status index). */
  async recentPublic(letterId: number, limit: number): Promise<PublicSignatureRow[]> {
    const rows = await this.db
      .selectFrom('signatures')
      .select(['full_name', 'display', 'country', 'organisation', 'confirmed_at'])
      .where('letter_id', '=', letterId)
      .where('status', '=', 'confirmed')
      .where('display', '!=', 'hidden')
      .orderBy('confirmed_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      fullName: r.full_name,
      display: r.display as DisplayChoice,
      country: r.country,
      organisation: r.organisation,
      confirmedAt: new Date(r.confirmed_at!),
    }));
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

  /** Signatures that still stand (pending or confirmed) per letter version, for the version history. */
  async countStandingByVersion(letterId: number): Promise<Map<number, number>> {
    const rows = await this.db
      .selectFrom('signatures')
      .select(['letter_version_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('letter_id', '=', letterId)
      .where('status', 'in', ['pending', 'confirmed'])
      .groupBy('letter_version_id')
      .execute();
    return new Map(rows.map((r) => [r.letter_version_id, Number(r.n)]));
  }

  /** The confirmed signatures of a letter up to a moment, oldest first, as the annex needs them (never addresses). */
  async annexRows(
    letterId: number,
    upTo: Date,
  ): Promise<{ fullName: string; display: DisplayChoice; country: string; organisation: string; jobTitle: string }[]> {
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
   * The next supporters who asked for news about the letter and have not been told about this round
   * yet; the job calls it until it is empty, so a run cut off halfway goes on where it stopped.
   */
  async awaitingRoundNotice(
    letterId: number,
    roundId: number,
    limit: number,
  ): Promise<{ id: number; ref: string; fullName: string; email: string; language: string }[]> {
    const rows = await this.db
      .selectFrom('signatures as s')
      .select(['s.id', 's.ref', 's.full_name', 's.email', 's.language'])
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
    return rows.map((r) => ({ id: r.id, ref: r.ref, fullName: r.full_name, email: r.email, language: r.language }));
  }

  /** A supporter no longer wants news about the letter (one-click unsubscribe). */
  async stopUpdates(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('signatures')
      .set({ consent_updates: 0, updated_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }
}
