import type { Executor } from '../db/database.js';
import type { AuditAction, AuditActor, AuditEntry, AuditFilters } from './audit.js';

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
  ): Promise<void> {
    const actor = entry.actor;
    await this.db
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
      .execute();
  }

  /** Entries matching the filters, newest first. */
  async search(filters: AuditFilters, limit: number, offset: number): Promise<AuditEntry[]> {
    let query = this.db.selectFrom('audit_events').selectAll();
    if (filters.action) query = query.where('action', '=', filters.action);
    if (filters.actor) query = query.where('actor_email', '=', filters.actor);
    if (filters.from) query = query.where('at', '>=', filters.from.toISOString());
    if (filters.to) query = query.where('at', '<', filters.to.toISOString());
    const rows = await query
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      at: new Date(r.at),
      actorUserId: r.actor_user_id,
      actorEmail: r.actor_email,
      action: r.action as AuditAction,
      targetType: r.target_type,
      targetId: r.target_id,
      details: JSON.parse(r.details) as Record<string, unknown>,
    }));
  }
}
