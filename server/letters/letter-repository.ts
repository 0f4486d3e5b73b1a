import { sql } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../db/database.js';
import { dialectOf, trimCharacters } from '../db/dialect.js';
import type { LetterRow } from '../db/tables.js';
import { RecipientRepository } from '../recipients/recipient-repository.js';
import type {
  LetterHeading,
  LetterRecipient,
  Letter,
  LetterStatus,
  LetterText,
  LetterVersion,
} from './letter.js';
import { canMoveLetter } from './letter.js';
import { titleFor } from '../lib/languages.js';

/** The statuses of letters the public may see. */
const PUBLIC_STATUSES = ['open', 'closed', 'delivered'];

/** The public list's order: open letters first, soonest closing first, those without a closing date after them. */
const PUBLIC_ORDER = sql`case status when 'open' then 0 else 1 end, closes_at is null, closes_at asc, id asc`;

/**
 * What JavaScript's String.prototype.trim removes (isComplete trims so), for the database's trim: white space,
 * line terminators and the Unicode space separators.
 */
const WHITESPACE =
  '\t\n\v\f\r \u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';

/** A letter no review has sent back (or whose organizers answered it by asking again). */
const NOT_RETURNED = { returned_at: null, returned_note: '' } as const;

function toLetter(row: LetterRow): Letter {
  if (row.current_version_id === null) throw new Error(`letter ${row.id} has no version`);
  return {
    id: row.id,
    slug: row.slug,
    status: row.status as LetterStatus,
    primaryLanguage: row.primary_language,
    sponsor: row.sponsor,
    goal: row.goal,
    opensAt: row.opens_at ? new Date(row.opens_at) : null,
    closesAt: row.closes_at ? new Date(row.closes_at) : null,
    closedAt: row.closed_at ? new Date(row.closed_at) : null,
    currentVersionId: row.current_version_id,
    signatureCount: row.signature_count,
    ownerId: row.owner_id,
    closeOnGoal: row.close_on_goal === 1,
    organisations: row.organisations.split('\n').filter((line) => line.trim() !== ''),
    reviewRequestedAt: row.review_requested_at ? new Date(row.review_requested_at) : null,
    publishedAt: row.published_at ? new Date(row.published_at) : null,
    pendingEditAt: row.pending_edit_at ? new Date(row.pending_edit_at) : null,
    returned: row.returned_at ? { at: new Date(row.returned_at), note: row.returned_note } : null,
    embedOrigins: row.embed_origins.split('\n').filter((line) => line !== ''),
  };
}

/** Changes to a published letter waiting for an admin's review: what the editor saved, whole. */
export interface PendingEdit {
  details: LetterDetails;
  texts: LetterText[];
  recipientIds: number[];
  /** Who saved them, and when. */
  by: number | null;
  at: Date;
}

const isoDate = z.string().datetime().nullable();
/** The stored form of a waiting edit; read back through this schema, never trusted as it is. */
const storedEdit = z.object({
  details: z.object({
    slug: z.string(),
    primaryLanguage: z.string(),
    sponsor: z.string(),
    goal: z.number().int().nullable(),
    closeOnGoal: z.boolean(),
    opensAt: isoDate,
    closesAt: isoDate,
    organisations: z.array(z.string()),
  }),
  texts: z.array(
    z.object({ language: z.string(), title: z.string(), summary: z.string(), body: z.string() }),
  ),
  recipientIds: z.array(z.number().int()),
});

function storeEdit(edit: Pick<PendingEdit, 'details' | 'texts' | 'recipientIds'>): string {
  const { details } = edit;
  return JSON.stringify({
    details: {
      ...details,
      opensAt: details.opensAt?.toISOString() ?? null,
      closesAt: details.closesAt?.toISOString() ?? null,
    },
    texts: edit.texts.map(({ language, title, summary, body }) => ({ language, title, summary, body })),
    recipientIds: edit.recipientIds,
  } satisfies z.input<typeof storedEdit>);
}

/** The settings of a letter an organizer edits (everything but its texts and recipients). */
export interface LetterDetails {
  slug: string;
  primaryLanguage: string;
  sponsor: string;
  goal: number | null;
  closeOnGoal: boolean;
  opensAt: Date | null;
  closesAt: Date | null;
  organisations: string[];
}

/** One row of an organizer's list of letters. */
export interface LetterListItem {
  letter: Letter;
  title: string;
  /**
   * The language of `title`: the reader's when the letter has a titled text in it, else the letter's
   * primary one; the reader's too when the title is the web address (a letter with no title yet).
   */
  titleLanguage: string;
}

export interface NewLetter {
  slug: string;
  status: LetterStatus;
  primaryLanguage: string;
  sponsor: string;
  goal: number | null;
  opensAt: Date | null;
  closesAt: Date | null;
  texts: LetterText[];
  recipientIds: number[];
  ownerId?: number | null;
  closeOnGoal?: boolean;
  organisations?: string[];
}

/** SQL for letters, their versions, texts and recipient lists. */
export class LetterRepository {
  constructor(private readonly db: Executor) {}

  /** The same repository bound to a transaction. */
  with(tx: Executor): LetterRepository {
    return new LetterRepository(tx);
  }

  async findBySlug(slug: string): Promise<Letter | undefined> {
    // A slug never holds a NUL, and PostgreSQL refuses one in any text it is sent: none is found.
    if (slug.includes('\u0000')) return undefined;
    const row = await this.db.selectFrom('letters').selectAll().where('slug', '=', slug).executeTakeFirst();
    return row ? toLetter(row) : undefined;
  }

  /**
   * When the letter was closed (by its date, its goal or by hand); null while it is open or a draft.
   * Retention counts its months from this (or the closing date when it is missing).
   */
  async closedAt(id: number): Promise<Date | null> {
    const row = await this.db
      .selectFrom('letters')
      .select('closed_at')
      .where('id', '=', id)
      .executeTakeFirst();
    return row?.closed_at ? new Date(row.closed_at) : null;
  }

  async findById(id: number): Promise<Letter | undefined> {
    const row = await this.db.selectFrom('letters').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toLetter(row) : undefined;
  }

  /** Letters the public may see, open ones first, then by closing date; `page` takes one slice of them. */
  async listPublic(page?: { limit: number; offset: number }): Promise<Letter[]> {
    const all = this.db.selectFrom('letters').where('status', 'in', PUBLIC_STATUSES);
    if (!page) return (await all.selectAll().orderBy(PUBLIC_ORDER).execute()).map(toLetter);
    // The page's ids are sorted from the (status, closes_at) index alone; only its rows are read whole
    // (sorting 1,000 whole rows took ~5 ms, their index entries ~1.5 ms).
    const ids = all.select('id').orderBy(PUBLIC_ORDER).limit(page.limit).offset(page.offset);
    const rows = await this.db
      .selectFrom('letters')
      .selectAll()
      .where('id', 'in', ids)
      .orderBy(PUBLIC_ORDER)
      .execute();
    return rows.map(toLetter);
  }

  /** How many letters the public may see (listPublic's length). */
  async countPublic(): Promise<number> {
    const { n } = await this.db
      .selectFrom('letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', 'in', PUBLIC_STATUSES)
      .executeTakeFirstOrThrow();
    return n;
  }

  /**
   * The headings of several versions' translations, for list pages: the body is not read (a letter's
   * body is many kilobytes, a thousand of them megabytes), only whether each text is complete.
   */
  async headingsOfVersions(versionIds: number[]): Promise<Map<number, LetterHeading[]>> {
    const result = new Map<number, LetterHeading[]>();
    if (versionIds.length === 0) return result;
    const blank = (column: string) => sql`${trimCharacters(this.db, sql.ref(column), WHITESPACE)} = ''`;
    // A number on both databases (PostgreSQL's `not (…)` would be a boolean).
    const complete = sql<number>`case when ${blank('title')} or ${blank('summary')} or ${blank('body')} then 0 else 1 end`;
    const rows = await this.db
      .selectFrom('letter_texts')
      .select(['letter_version_id', 'language', 'title', 'summary'])
      .select(complete.as('complete'))
      .where('letter_version_id', 'in', versionIds)
      .orderBy('language')
      .execute();
    for (const { letter_version_id, complete, ...heading } of rows) {
      const list = result.get(letter_version_id) ?? [];
      list.push({ ...heading, complete: complete === 1 });
      result.set(letter_version_id, list);
    }
    return result;
  }

  /** Every translation of one letter version. */
  async textsOfVersion(versionId: number): Promise<LetterText[]> {
    return this.db
      .selectFrom('letter_texts')
      .select(['language', 'title', 'summary', 'body'])
      .where('letter_version_id', '=', versionId)
      .orderBy('language')
      .execute();
  }

  /** Translations of several versions at once, for list pages (one query, not one per letter). */
  async textsOfVersions(versionIds: number[]): Promise<Map<number, LetterText[]>> {
    const result = new Map<number, LetterText[]>();
    if (versionIds.length === 0) return result;
    const rows = await this.db
      .selectFrom('letter_texts')
      .select(['letter_version_id', 'language', 'title', 'summary', 'body'])
      .where('letter_version_id', 'in', versionIds)
      .execute();
    for (const { letter_version_id, ...text } of rows) {
      const list = result.get(letter_version_id) ?? [];
      list.push(text);
      result.set(letter_version_id, list);
    }
    return result;
  }

  /** Recipients of several letters, in the letter's order. */
  async recipientsOfLetters(letterIds: number[]): Promise<Map<number, LetterRecipient[]>> {
    const result = new Map<number, LetterRecipient[]>();
    if (letterIds.length === 0) return result;
    const rows = await this.db
      .selectFrom('letter_recipients as lr')
      .innerJoin('recipients as r', 'r.id', 'lr.recipient_id')
      .select([
        'lr.letter_id',
        'r.id',
        'r.name',
        'r.title',
        'r.organisation',
        'r.language',
        'r.country',
        'lr.tier',
      ])
      .where('lr.letter_id', 'in', letterIds)
      .orderBy('lr.letter_id')
      .orderBy('lr.position')
      .execute();
    // Each recipient's salutations, by language: a letter opens with the one in its text's language.
    const directory = new RecipientRepository(this.db);
    const salutations = await directory.salutationsOf(rows.map((r) => r.id));
    // And their names in the other interface languages, for the public pages.
    const names = await directory.namesOf(rows.map((r) => r.id));
    for (const { letter_id, ...recipient } of rows) {
      const list = result.get(letter_id) ?? [];
      list.push({
        ...recipient,
        country: recipient.country ?? '',
        salutations: salutations.get(recipient.id) ?? {},
        names: names.get(recipient.id) ?? {},
      });
      result.set(letter_id, list);
    }
    return result;
  }

  /** Creates a letter with its first version, its texts and its recipient list. Call inside a transaction. */
  async create(letter: NewLetter, now: Date): Promise<number> {
    const at = now.toISOString();
    const { id } = await this.db
      .insertInto('letters')
      .values({
        slug: letter.slug,
        status: letter.status,
        primary_language: letter.primaryLanguage,
        sponsor: letter.sponsor,
        goal: letter.goal,
        opens_at: letter.opensAt?.toISOString() ?? null,
        closes_at: letter.closesAt?.toISOString() ?? null,
        owner_id: letter.ownerId ?? null,
        close_on_goal: letter.closeOnGoal ? 1 : 0,
        organisations: (letter.organisations ?? []).join('\n'),
        published_at: letter.status === 'draft' ? null : at,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    const version = await this.db
      .insertInto('letter_versions')
      .values({ letter_id: id, number: 1, created_at: at, created_by: letter.ownerId ?? null })
      .returning('id')
      .executeTakeFirstOrThrow();
    await this.db
      .insertInto('letter_texts')
      .values(letter.texts.map((t) => ({ letter_version_id: version.id, ...t })))
      .execute();
    await this.db
      .updateTable('letters')
      .set({ current_version_id: version.id })
      .where('id', '=', id)
      .execute();
    if (letter.recipientIds.length > 0) {
      await this.db
        .insertInto('letter_recipients')
        .values(
          letter.recipientIds.map((recipientId, position) => ({
            letter_id: id,
            recipient_id: recipientId,
            position,
          })),
        )
        .execute();
    }
    return id;
  }

  /**
   * Moves the confirmed-signature counter by `delta`, and the country's counter with it when the
   * signature's country is given, in the caller's transaction; never below zero. Only moveSignatures()
   * (signatures/signature-moves.ts) calls it: the counters move with a signature's status.
   */
  async addToSignatureCount(letterId: number, delta: number, country?: string): Promise<void> {
    await this.db
      .updateTable('letters')
      // CASE rather than max(): max() of two values is SQLite's, greatest() PostgreSQL's.
      .set({
        signature_count: sql`case when signature_count + ${delta} > 0 then signature_count + ${delta} else 0 end`,
      })
      .where('id', '=', letterId)
      .execute();
    if (country === undefined) return;
    await this.addToCountryCount(letterId, country, delta);
  }

  /**
   * Moves one country's counter of a letter by `delta`, never below zero; only the signature moves
   * (signatures/signature-moves.ts) call it, alone when a counted signature stops being shown.
   */
  async addToCountryCount(letterId: number, country: string, delta: number): Promise<void> {
    await this.db
      .insertInto('letter_country_counts')
      .values({ letter_id: letterId, country, count: Math.max(0, delta) })
      .onConflict((oc) =>
        oc.columns(['letter_id', 'country']).doUpdateSet({
          count: sql`case when letter_country_counts.count + ${delta} > 0 then letter_country_counts.count + ${delta} else 0 end`,
        }),
      )
      .execute();
  }

  /** Confirmed signatures on every letter, from the letters' counters (one row per letter, never a count of rows). */
  async confirmedTotal(): Promise<number> {
    const row = await this.db
      .selectFrom('letters')
      .select((eb) => eb.fn.sum<number>('signature_count').as('total'))
      .executeTakeFirst();
    return Number(row?.total ?? 0);
  }

  /** Confirmed signatures shown with their country, per country, most first (countries at zero left out). */
  async countryCounts(letterId: number): Promise<{ code: string; count: number }[]> {
    const rows = await this.db
      .selectFrom('letter_country_counts')
      .select(['country', 'count'])
      .where('letter_id', '=', letterId)
      .where('count', '>', 0)
      .orderBy('count', 'desc')
      .orderBy('country')
      .execute();
    return rows.map((r) => ({ code: r.country, count: r.count }));
  }

  /** Every letter, newest first, with its title in its primary language (for admins). */
  async listAll(language: string): Promise<LetterListItem[]> {
    return this.listWhere(null, false, language);
  }

  /** The letters an organizer owns or collaborates on, newest first. */
  async listForUser(userId: number, language: string): Promise<LetterListItem[]> {
    return this.listWhere(userId, false, language);
  }

  /** Letters with their current title in `language` when they have it, else in their primary language. */
  private async listWhere(
    userId: number | null,
    awaitingReview: boolean,
    language: string,
  ): Promise<LetterListItem[]> {
    let query = this.db
      .selectFrom('letters as l')
      .leftJoin('letter_texts as t', (join) =>
        join
          .onRef('t.letter_version_id', '=', 'l.current_version_id')
          .onRef('t.language', '=', 'l.primary_language'),
      )
      .leftJoin('letter_texts as r', (join) =>
        join.onRef('r.letter_version_id', '=', 'l.current_version_id').on('r.language', '=', language),
      )
      .selectAll('l')
      .select(['t.title', 'r.title as readerTitle']);
    if (userId !== null) {
      query = query.where((eb) =>
        eb.or([
          eb('l.owner_id', '=', userId),
          eb(
            'l.id',
            'in',
            eb.selectFrom('letter_collaborators').select('letter_id').where('user_id', '=', userId),
          ),
        ]),
      );
    }
    if (awaitingReview)
      query = query.where((eb) =>
        eb.or([
          eb.and([eb('l.status', '=', 'draft'), eb('l.review_requested_at', 'is not', null)]),
          eb('l.pending_edit', 'is not', null),
        ]),
      );
    const rows = await query.orderBy('l.created_at', 'desc').orderBy('l.id', 'desc').execute();
    return rows.map(({ title, readerTitle, ...row }) => ({
      letter: toLetter(row),
      ...titleFor(
        { slug: row.slug, primaryLanguage: row.primary_language },
        { primary: title, reader: readerTitle },
        language,
      ),
    }));
  }

  /** Letters waiting for an admin's review: drafts to publish, and published letters with changes to approve. */
  async listAwaitingReview(language: string): Promise<LetterListItem[]> {
    return this.listWhere(null, true, language);
  }

  /** A few published letters (any but drafts) other than `exceptId` whose current text has one of these titles. */
  async publicLettersTitled(
    titles: readonly string[],
    exceptId: number,
    limit = 5,
  ): Promise<{ slug: string; title: string; language: string }[]> {
    if (titles.length === 0) return [];
    return this.db
      .selectFrom('letters as l')
      .innerJoin('letter_texts as t', 't.letter_version_id', 'l.current_version_id')
      .select(['l.slug', 't.title', 't.language'])
      .distinct()
      .where('l.status', '!=', 'draft')
      .where('l.id', '!=', exceptId)
      .where('t.title', 'in', [...titles])
      .orderBy('l.slug')
      .orderBy('t.title')
      .limit(limit)
      .execute();
  }

  async slugTaken(slug: string, exceptId?: number): Promise<boolean> {
    let query = this.db.selectFrom('letters').select('id').where('slug', '=', slug);
    if (exceptId !== undefined) query = query.where('id', '!=', exceptId);
    return (await query.executeTakeFirst()) !== undefined;
  }

  /** Saves an organizer's settings of a letter. */
  async updateDetails(id: number, details: LetterDetails, now: Date): Promise<void> {
    await this.db
      .updateTable('letters')
      .set({
        slug: details.slug,
        primary_language: details.primaryLanguage,
        sponsor: details.sponsor,
        goal: details.goal,
        close_on_goal: details.closeOnGoal ? 1 : 0,
        opens_at: details.opensAt?.toISOString() ?? null,
        closes_at: details.closesAt?.toISOString() ?? null,
        organisations: details.organisations.join('\n'),
        updated_at: now.toISOString(),
      })
      .where('id', '=', id)
      .execute();
  }

  /** Saves the sites allowed to frame the letter's embed (empty: any site). */
  async setEmbedOrigins(id: number, origins: readonly string[], now: Date): Promise<void> {
    await this.db
      .updateTable('letters')
      .set({ embed_origins: origins.join('\n'), updated_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Replaces the texts of a version in place: only for a draft's version, which nobody has signed. */
  async replaceTexts(versionId: number, texts: readonly LetterText[]): Promise<void> {
    await this.db.deleteFrom('letter_texts').where('letter_version_id', '=', versionId).execute();
    if (texts.length > 0) {
      await this.db
        .insertInto('letter_texts')
        .values(
          texts.map((t) => ({
            letter_version_id: versionId,
            language: t.language,
            title: t.title,
            summary: t.summary,
            body: t.body,
          })),
        )
        .execute();
    }
  }

  /**
   * Rewrites a draft's version with these texts: saved now by `userId`, as the version history says
   * (it said the draft's creation, however often its text was saved since).
   */
  async rewriteDraftVersion(
    versionId: number,
    texts: readonly LetterText[],
    userId: number | null,
    now: Date,
  ): Promise<void> {
    await this.db
      .updateTable('letter_versions')
      .set({ created_at: now.toISOString(), created_by: userId })
      .where('id', '=', versionId)
      .execute();
    await this.replaceTexts(versionId, texts);
  }

  /** Adds a new version with these texts and makes it current; signatures keep pointing at the version they signed. */
  async addVersion(
    letterId: number,
    texts: readonly LetterText[],
    userId: number | null,
    now: Date,
  ): Promise<LetterVersion> {
    const { next } = await this.db
      .selectFrom('letter_versions')
      .select((eb) => eb.fn.coalesce(eb.fn.max('number'), eb.lit(0)).as('next'))
      .where('letter_id', '=', letterId)
      .executeTakeFirstOrThrow();
    const number = Number(next) + 1;
    const row = await this.db
      .insertInto('letter_versions')
      .values({ letter_id: letterId, number, created_at: now.toISOString(), created_by: userId })
      .returningAll()
      .executeTakeFirstOrThrow();
    await this.replaceTexts(row.id, texts);
    await this.db
      .updateTable('letters')
      .set({ current_version_id: row.id, updated_at: now.toISOString() })
      .where('id', '=', letterId)
      .execute();
    return { id: row.id, number: row.number, createdAt: new Date(row.created_at), createdBy: row.created_by };
  }

  /** Every version of a letter, newest first. */
  async versions(letterId: number): Promise<LetterVersion[]> {
    const rows = await this.db
      .selectFrom('letter_versions')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('number', 'desc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      number: r.number,
      createdAt: new Date(r.created_at),
      createdBy: r.created_by,
    }));
  }

  async findVersion(versionId: number): Promise<LetterVersion | undefined> {
    const r = await this.db
      .selectFrom('letter_versions')
      .selectAll()
      .where('id', '=', versionId)
      .executeTakeFirst();
    return r
      ? { id: r.id, number: r.number, createdAt: new Date(r.created_at), createdBy: r.created_by }
      : undefined;
  }

  /** The letter's list: each recipient with its escalation tier (whom a delivery round reaches). */
  async recipientList(letterId: number): Promise<{ recipientId: number; tier: number }[]> {
    const rows = await this.db
      .selectFrom('letter_recipients')
      .select(['recipient_id', 'tier'])
      .where('letter_id', '=', letterId)
      .execute();
    return rows.map((r) => ({ recipientId: r.recipient_id, tier: r.tier }));
  }

  /**
   * Holds the letter's row until the transaction ends, so a delivery round that checks whom it reaches
   * (deliveries/round-starter.ts, its first statement) and an edit of the recipient list take turns: the
   * round never starts on a list emptied while it did, and keeps the audience it read (round_audiences).
   * On PostgreSQL `FOR UPDATE` (READ COMMITTED would let the round read the list as last committed);
   * nothing on SQLite, whose single writer makes them take turns already. A row lock rather than a lock
   * of its own: the editors update the row before they touch the list, so every transaction meets this
   * one lock first, and none waits for another in turn.
   */
  async holdLetter(letterId: number): Promise<void> {
    if (dialectOf(this.db) === 'postgres')
      await this.db.selectFrom('letters').select('id').where('id', '=', letterId).forUpdate().execute();
  }

  /**
   * The letter's recipient list, replaced whole in the order given. A recipient that stays keeps its
   * escalation tier (set on the delivery page, not in the editor); a new one starts at the first.
   */
  async setRecipients(letterId: number, recipientIds: readonly number[]): Promise<void> {
    await this.holdLetter(letterId);
    const tiers = new Map(
      (
        await this.db
          .selectFrom('letter_recipients')
          .select(['recipient_id', 'tier'])
          .where('letter_id', '=', letterId)
          .execute()
      ).map((r) => [r.recipient_id, r.tier]),
    );
    await this.db.deleteFrom('letter_recipients').where('letter_id', '=', letterId).execute();
    if (recipientIds.length > 0) {
      await this.db
        .insertInto('letter_recipients')
        .values(
          recipientIds.map((recipientId, position) => ({
            letter_id: letterId,
            recipient_id: recipientId,
            position,
            tier: tiers.get(recipientId) ?? 1,
          })),
        )
        .execute();
    }
  }

  /** Sets the escalation tier of recipients on the letter's list (others are left as they are). */
  async setTiers(letterId: number, tiers: ReadonlyMap<number, number>): Promise<void> {
    await this.holdLetter(letterId);
    for (const [recipientId, tier] of tiers)
      await this.db
        .updateTable('letter_recipients')
        .set({ tier })
        .where('letter_id', '=', letterId)
        .where('recipient_id', '=', recipientId)
        .execute();
  }

  async collaboratorIds(letterId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('letter_collaborators')
      .select('user_id')
      .where('letter_id', '=', letterId)
      .execute();
    return rows.map((r) => r.user_id);
  }

  /** Shares the letter with an account; returns whether it was not shared with it already. */
  async addCollaborator(letterId: number, userId: number, now: Date): Promise<boolean> {
    const result = await this.db
      .insertInto('letter_collaborators')
      .values({ letter_id: letterId, user_id: userId, created_at: now.toISOString() })
      .onConflict((oc) => oc.columns(['letter_id', 'user_id']).doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
  }

  /** Stops sharing the letter with an account; returns whether it was shared with it. */
  async removeCollaborator(letterId: number, userId: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('letter_collaborators')
      .where('letter_id', '=', letterId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Deletes a letter that was never published, with everything that hangs on it (its versions, texts,
   * recipients, collaborators, settings and test rounds, by their foreign keys); returns whether it was
   * still such a draft. A letter published once is never deleted: people signed it, or may have.
   */
  async deleteDraft(id: number): Promise<boolean> {
    const result = await this.db
      .deleteFrom('letters')
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .where('published_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  /**
   * Compare-and-set on the status: moves the letter only if it is still in `from`; returns whether it
   * moved, so two organizers pressing "publish" at once publish once.
   */
  async transition(
    id: number,
    from: LetterStatus,
    to: LetterStatus,
    changes: { publishedAt?: Date; closedAt?: Date | null; opensAt?: Date | null; closesAt?: Date | null },
    now: Date,
  ): Promise<boolean> {
    if (!canMoveLetter(from, to)) throw new Error(`illegal letter transition ${from} → ${to}`);
    const result = await this.db
      .updateTable('letters')
      .set({
        status: to,
        updated_at: now.toISOString(),
        review_requested_at: null,
        ...NOT_RETURNED,
        ...(changes.publishedAt ? { published_at: changes.publishedAt.toISOString() } : {}),
        ...(changes.closedAt !== undefined ? { closed_at: changes.closedAt?.toISOString() ?? null } : {}),
        ...(changes.opensAt !== undefined ? { opens_at: changes.opensAt?.toISOString() ?? null } : {}),
        ...(changes.closesAt !== undefined ? { closes_at: changes.closesAt?.toISOString() ?? null } : {}),
      })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Compare-and-set on the status without changing it: touches the letter only if it is still in
   * `status`, and returns whether it was. Inside a transaction this holds the row, so a draft's texts
   * are never rewritten in place after the letter was published by someone else.
   */
  async claimInStatus(id: number, status: LetterStatus, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('letters')
      .set({ updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The changes waiting for review on a letter, or undefined when none wait. */
  async pendingEdit(id: number): Promise<PendingEdit | undefined> {
    const row = await this.db
      .selectFrom('letters')
      .select(['pending_edit', 'pending_edit_at', 'pending_edit_by'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (!row?.pending_edit || !row.pending_edit_at) return undefined;
    const stored = storedEdit.parse(JSON.parse(row.pending_edit));
    return {
      details: {
        ...stored.details,
        opensAt: stored.details.opensAt ? new Date(stored.details.opensAt) : null,
        closesAt: stored.details.closesAt ? new Date(stored.details.closesAt) : null,
      },
      texts: stored.texts,
      recipientIds: stored.recipientIds,
      by: row.pending_edit_by,
      at: new Date(row.pending_edit_at),
    };
  }

  /**
   * Keeps changes to wait for review (replacing any that were waiting), only while the letter is still in
   * `status` (compare-and-set); returns whether they were kept.
   */
  async holdEdit(
    id: number,
    status: LetterStatus,
    edit: Pick<PendingEdit, 'details' | 'texts' | 'recipientIds'>,
    userId: number,
    now: Date,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('letters')
      .set({
        pending_edit: storeEdit(edit),
        pending_edit_at: now.toISOString(),
        pending_edit_by: userId,
        // Submitted again: what the last review said is answered.
        ...NOT_RETURNED,
      })
      .where('id', '=', id)
      .where('status', '=', status)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Forgets the changes waiting for review. With `savedAt`, only those saved at that moment
   * (compare-and-set: an admin approves or returns what they looked at, not a newer edit); returns
   * whether any were forgotten.
   */
  async clearPendingEdit(id: number, savedAt?: Date): Promise<boolean> {
    let query = this.db
      .updateTable('letters')
      .set({ pending_edit: null, pending_edit_at: null, pending_edit_by: null })
      .where('id', '=', id)
      .where('pending_edit', 'is not', null);
    if (savedAt) query = query.where('pending_edit_at', '=', savedAt.toISOString());
    const result = await query.executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Marks a draft as waiting for review (or not); returns whether it is still a draft. */
  async setReviewRequested(id: number, at: Date | null): Promise<boolean> {
    const result = await this.db
      .updateTable('letters')
      .set({ review_requested_at: at?.toISOString() ?? null, ...(at ? NOT_RETURNED : {}) })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Compare-and-set: a draft waiting for review is a plain draft again, taken back by its organizers
   * (no note: nobody reviewed it); returns whether one was waiting.
   */
  async withdrawReviewRequest(id: number): Promise<boolean> {
    const result = await this.db
      .updateTable('letters')
      .set({ review_requested_at: null })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .where('review_requested_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Compare-and-set: a draft waiting for review goes back to its organizer, with the admin's note;
   * returns whether one was waiting.
   */
  async returnFromReview(id: number, note: string, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('letters')
      .set({ review_requested_at: null, returned_at: now.toISOString(), returned_note: note })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .where('review_requested_at', 'is not', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Records that changes waiting on a published letter were sent back, with the admin's note. */
  async recordChangesReturned(id: number, note: string, now: Date): Promise<void> {
    await this.db
      .updateTable('letters')
      .set({ returned_at: now.toISOString(), returned_note: note })
      .where('id', '=', id)
      .execute();
  }

  /** Closes every open letter whose closing date has passed; returns their ids. */
  async closeDue(now: Date): Promise<number[]> {
    const rows = await this.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: now.toISOString(), updated_at: now.toISOString() })
      .where('status', '=', 'open')
      .where('closes_at', '<=', now.toISOString())
      .returning('id')
      .execute();
    return rows.map((r) => r.id);
  }

  /** Closes every open letter set to close at its goal whose count has reached it; returns their ids. */
  async closeAtGoal(now: Date): Promise<number[]> {
    const rows = await this.closingAtGoal(now).returning('id').execute();
    return rows.map((r) => r.id);
  }

  /** Closes an open letter whose goal closes it once the count reaches it, in the caller's transaction. */
  async closeIfGoalReached(id: number, now: Date): Promise<boolean> {
    const result = await this.closingAtGoal(now).where('id', '=', id).executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The one statement that closes open letters set to close at their goal once the count has reached it. */
  private closingAtGoal(now: Date) {
    return this.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: now.toISOString(), updated_at: now.toISOString() })
      .where('status', '=', 'open')
      .where('close_on_goal', '=', 1)
      .where('goal', 'is not', null)
      .where((eb) => eb('signature_count', '>=', eb.ref('goal')));
  }

  async count(): Promise<number> {
    const { n } = await this.db
      .selectFrom('letters')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(n);
  }
}
