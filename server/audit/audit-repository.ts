import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import type { AuditEventsTable } from '../db/tables.js';
import { position } from '../db/dialect.js';
import { titleFor } from '../lib/languages.js';
import type { AuditAction, AuditActor, AuditEntry, AuditFilters, AuditNames } from './audit.js';

/** SQL for the audit log: it only ever inserts and reads (database triggers refuse changes). */
export class AuditRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): AuditRepository {
    return new AuditRepository(tx);
  }

  async record(
    entry: {
      actor: AuditActor;
      action: AuditAction;
      targetType?: string;
      targetId?: string | number;
      details?: Record<string, unknown>;
    },
    now: Date,
  ): Promise<number> {
    const actor = entry.actor;
    const { id } = await this.db
      .insertInto('audit_events')
      .values({
        at: now.toISOString(),
        actor_user_id: typeof actor === 'object' ? actor.id : null,
        actor_email: typeof actor === 'object' ? actor.email : actor,
        action: entry.action,
        target_type: entry.targetType ?? '',
        target_id: entry.targetId === undefined ? '' : String(entry.targetId),
        details: JSON.stringify(entry.details ?? {}),
      })
      // Its id names the entry elsewhere: a bulk invalidation's batch, to restore it by.
      .returning('id')
      .executeTakeFirstOrThrow();
    return id;
  }

  /** One entry by its id, or undefined. */
  async findById(id: number): Promise<AuditEntry | undefined> {
    const row = await this.db.selectFrom('audit_events').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toEntry(row) : undefined;
  }

  /**
   * What the entries' ids name today, for the audit page: a letter's current title as the letter lists
   * show it to a reader of `language` (titleFor), an account's e-mail address, a recipient's name.
   * Ids that name nothing any more are absent. Never a supporter: signatures are not looked up.
   */
  async names(
    ids: {
      letterIds: readonly number[];
      letterSlugs: readonly string[];
      userIds: readonly number[];
      recipientIds: readonly number[];
    },
    language: string,
  ): Promise<AuditNames> {
    const letters =
      ids.letterIds.length + ids.letterSlugs.length === 0
        ? []
        : await this.db
            .selectFrom('letters as l')
            .leftJoin('letter_texts as lt', (join) =>
              join
                .onRef('lt.letter_version_id', '=', 'l.current_version_id')
                .onRef('lt.language', '=', 'l.primary_language'),
            )
            .leftJoin('letter_texts as r', (join) =>
              join.onRef('r.letter_version_id', '=', 'l.current_version_id').on('r.language', '=', language),
            )
            .select(['l.id', 'l.slug', 'l.primary_language', 'lt.title', 'r.title as readerTitle'])
            .where((eb) =>
              eb.or([
                ...(ids.letterIds.length > 0 ? [eb('l.id', 'in', ids.letterIds)] : []),
                ...(ids.letterSlugs.length > 0 ? [eb('l.slug', 'in', ids.letterSlugs)] : []),
              ]),
            )
            .execute();
    const users =
      ids.userIds.length === 0
        ? []
        : await this.db.selectFrom('users').select(['id', 'email']).where('id', 'in', ids.userIds).execute();
    const recipients =
      ids.recipientIds.length === 0
        ? []
        : await this.db
            .selectFrom('recipients')
            .select(['id', 'name'])
            .where('id', 'in', ids.recipientIds)
            .execute();
    const named = letters.map((l) => ({
      id: l.id,
      slug: l.slug,
      ...titleFor(
        { slug: l.slug, primaryLanguage: l.primary_language },
        { primary: l.title, reader: l.readerTitle },
        language,
      ),
    }));
    return {
      letters: new Map(named.map((l) => [l.id, l])),
      letterSlugs: new Map(named.map((l) => [l.slug, l])),
      users: new Map(users.map((u) => [u.id, u.email])),
      recipients: new Map(recipients.map((r) => [r.id, r.name])),
    };
  }

  /**
   * The details of one account's refusals on one target (type and id; '' for none) since `since`: the
   * few entries the window lets through, found by the (action, at) index, to see whether this refusal
   * is already on record.
   */
  async refusalsSince(
    actorUserId: number,
    target: { type: string; id: string },
    since: Date,
  ): Promise<Record<string, unknown>[]> {
    const rows = await this.db
      .selectFrom('audit_events')
      .select('details')
      .where('action', '=', 'access-refused' satisfies AuditAction)
      .where('at', '>=', since.toISOString())
      .where('actor_user_id', '=', actorUserId)
      .where('target_type', '=', target.type)
      .where('target_id', '=', target.id)
      .execute();
    return rows.map((r) => JSON.parse(r.details) as Record<string, unknown>);
  }

  /** Entries matching the filters, newest first. */
  async search(filters: AuditFilters, limit: number, offset: number): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filters.action) query = query.where('action', '=', filters.action);
    // Part of the address, in any case, as the moderation search finds supporters ("admin" finds
    // admin@example.org); it found only the whole address, typed exactly as stored.
    if (filters.actor)
      query = query.where(
        position(this.db, sql.val(filters.actor.toLowerCase()), sql`lower(${sql.ref('actor_email')})`),
        '>',
        0,
      );
    if (filters.from) query = query.where('at', '>=', filters.from.toISOString());
    if (filters.to) query = query.where('at', '<', filters.to.toISOString());
    const rows = await query
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map(toEntry);
  }
}

/** An entry as stored, as the service reads it. */
function toEntry(r: Selectable<AuditEventsTable>): AuditEntry {
  return {
    id: r.id,
    at: new Date(r.at),
    actorUserId: r.actor_user_id,
    actorEmail: r.actor_email,
    action: r.action as AuditAction,
    targetType: r.target_type,
    targetId: r.target_id,
    details: JSON.parse(r.details) as Record<string, unknown>,
  };
}
