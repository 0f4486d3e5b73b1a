import { sql, type Selectable } from 'kysely';
import type { Executor } from '../db/database.js';
import { claimClauses, LOCK_SPACES, lockUntilTransactionEnds } from '../db/dialect.js';
import type { WebhookDeliveriesTable, WebhookEndpointsTable } from '../db/tables.js';
import {
  eventsColumn,
  eventsFromColumn,
  type AttemptOutcome,
  type SigningEndpoint,
  type WebhookAttempt,
  type WebhookDelivery,
  type WebhookEndpoint,
  type WebhookEventType,
  withoutSecrets,
} from './webhook.js';

function toEndpoint(row: Selectable<WebhookEndpointsTable>): SigningEndpoint {
  return {
    id: row.id,
    letterId: row.letter_id,
    url: row.url,
    events: eventsFromColumn(row.events),
    enabled: row.enabled === 1,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    secret: row.secret,
    previousSecret: row.previous_secret,
    previousSecretUntil: row.previous_secret_until ? new Date(row.previous_secret_until) : null,
  };
}

function toDelivery(row: Selectable<WebhookDeliveriesTable>): WebhookDelivery {
  return {
    id: row.id,
    endpointId: row.endpoint_id,
    eventId: row.event_id,
    eventType: row.event_type as WebhookEventType,
    payload: row.payload,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
  };
}

/** SQL for webhook endpoints, their queue of deliveries, and the attempts' log. */
export class WebhookRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): WebhookRepository {
    return new WebhookRepository(tx);
  }

  async createEndpoint(
    endpoint: {
      letterId: number;
      url: string;
      events: readonly WebhookEventType[];
      secret: string;
      createdBy: number;
    },
    now: Date,
  ): Promise<number> {
    const at = now.toISOString();
    const row = await this.db
      .insertInto('webhook_endpoints')
      .values({
        letter_id: endpoint.letterId,
        url: endpoint.url,
        events: eventsColumn(endpoint.events),
        secret: endpoint.secret,
        previous_secret: null,
        previous_secret_until: null,
        created_by: endpoint.createdBy,
        created_at: at,
        updated_at: at,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    return row.id;
  }

  /**
   * A letter's endpoints, read inside the transaction that registers one more, after taking the letter's
   * turn: on PostgreSQL two registrations at the same instant would otherwise each read the list without
   * the other's uncommitted endpoint, and both pass the check that an address is registered once.
   */
  async endpointsOfForRegistering(letterId: number): Promise<WebhookEndpoint[]> {
    await lockUntilTransactionEnds(this.db, LOCK_SPACES.webhookUrls, String(letterId));
    return this.endpointsOf(letterId);
  }

  async endpointsOf(letterId: number): Promise<WebhookEndpoint[]> {
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('id')
      .execute();
    return rows.map((row) => withoutSecrets(toEndpoint(row)));
  }

  /** One endpoint with its secrets (the worker signs with them; pages never show them). */
  async findEndpoint(id: number): Promise<SigningEndpoint | undefined> {
    const row = await this.db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toEndpoint(row) : undefined;
  }

  async setEnabled(id: number, enabled: boolean, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({ enabled: enabled ? 1 : 0, updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('enabled', '=', enabled ? 0 : 1)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /**
   * Replaces the secret if it is still `current` (false when it changed meanwhile); the old one keeps
   * signing beside it until `previousUntil`.
   */
  async rotateSecret(
    id: number,
    current: string,
    secret: string,
    previousUntil: Date,
    now: Date,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('webhook_endpoints')
      .set({
        previous_secret: sql<string>`secret`,
        previous_secret_until: previousUntil.toISOString(),
        secret,
        updated_at: now.toISOString(),
      })
      .where('id', '=', id)
      .where('secret', '=', current)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Deletes an endpoint with its queue and log (on delete cascade). */
  async deleteEndpoint(id: number): Promise<void> {
    await this.db.deleteFrom('webhook_deliveries').where('endpoint_id', '=', id).execute();
    await this.db.deleteFrom('webhook_attempts').where('endpoint_id', '=', id).execute();
    await this.db.deleteFrom('webhook_endpoints').where('id', '=', id).execute();
  }

  /** The enabled endpoints of a letter that receive an event (one indexed read; none is the usual answer). */
  async subscribed(letterId: number, type: WebhookEventType): Promise<number[]> {
    const rows = await this.db
      .selectFrom('webhook_endpoints')
      .select(['id', 'events'])
      .where('letter_id', '=', letterId)
      .where('enabled', '=', 1)
      .execute();
    return rows.filter((row) => eventsFromColumn(row.events).includes(type)).map((row) => row.id);
  }

  /** Queues one event for each endpoint, due now. */
  async enqueue(
    endpointIds: readonly number[],
    event: { id: string; type: WebhookEventType; payload: string },
    now: Date,
  ): Promise<void> {
    if (endpointIds.length === 0) return;
    const at = now.toISOString();
    await this.db
      .insertInto('webhook_deliveries')
      .values(
        endpointIds.map((endpointId) => ({
          endpoint_id: endpointId,
          event_id: event.id,
          event_type: event.type,
          payload: event.payload,
          status: 'waiting',
          next_attempt_at: at,
          claimed_by: null,
          lease_expires_at: null,
          created_at: at,
          finished_at: null,
        })),
      )
      .execute();
  }

  /**
   * Claims up to `limit` due deliveries for this worker with a lease, counting the attempt: on
   * PostgreSQL rows another worker is claiming are skipped (claimClauses), on SQLite one writer runs.
   */
  async claimDue(workerId: string, now: Date, leaseMs: number, limit: number): Promise<WebhookDelivery[]> {
    const at = now.toISOString();
    const claim = claimClauses(this.db, 'webhook_deliveries', 'webhook_deliveries_due');
    const chosen = sql`select id from webhook_deliveries ${claim.indexHint}
      where status = 'waiting' and next_attempt_at <= ${at}
      order by next_attempt_at limit ${limit}`;
    const result = await sql<Selectable<WebhookDeliveriesTable>>`
      update webhook_deliveries ${claim.updateHint}
      set status = 'sending', claimed_by = ${workerId},
          lease_expires_at = ${new Date(now.getTime() + leaseMs).toISOString()}, attempts = attempts + 1
      where status = 'waiting' and id in (${claim.take(chosen)})
      returning *`.execute(this.db);
    return result.rows.map(toDelivery).sort((a, b) => a.id - b.id);
  }

  /** A live worker's heartbeat over every delivery it holds. */
  async renewClaims(workerId: string, now: Date, leaseMs: number): Promise<void> {
    await this.db
      .updateTable('webhook_deliveries')
      .set({ lease_expires_at: new Date(now.getTime() + leaseMs).toISOString() })
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .execute();
  }

  /** Puts claims whose worker stopped renewing them back in line; returns how many. */
  async releaseExpiredClaims(now: Date): Promise<number> {
    const at = now.toISOString();
    const result = await this.db
      .updateTable('webhook_deliveries')
      .set({ status: 'waiting', claimed_by: null, lease_expires_at: null, next_attempt_at: at })
      .where('status', '=', 'sending')
      .where('lease_expires_at', '<=', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Records an attempt and what follows it, if this worker still holds the claim (compare-and-set):
   * succeeded, failed for good, or waiting again until `nextAttemptAt`. Returns whether it was recorded.
   * A finished delivery keeps no body: it held supporters' public names, which an erasure could not
   * reach here; the log keeps the event's id and type.
   */
  async finishAttempt(
    delivery: Pick<WebhookDelivery, 'id' | 'endpointId' | 'attempts'>,
    workerId: string,
    attempt: { outcome: AttemptOutcome; statusCode: number | null; excerpt: string; durationMs: number },
    next: { status: 'succeeded' | 'failed' } | { status: 'waiting'; nextAttemptAt: Date },
    now: Date,
  ): Promise<boolean> {
    const at = now.toISOString();
    const moved = await this.db
      .updateTable('webhook_deliveries')
      .set({
        status: next.status,
        claimed_by: null,
        lease_expires_at: null,
        next_attempt_at: next.status === 'waiting' ? next.nextAttemptAt.toISOString() : at,
        finished_at: next.status === 'waiting' ? null : at,
        payload: next.status === 'waiting' ? sql<string>`payload` : '',
      })
      .where('id', '=', delivery.id)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    if (Number(moved.numUpdatedRows) === 0) return false;
    await this.db
      .insertInto('webhook_attempts')
      .values({
        delivery_id: delivery.id,
        endpoint_id: delivery.endpointId,
        attempt: delivery.attempts,
        at,
        status_code: attempt.statusCode,
        outcome: attempt.outcome,
        excerpt: attempt.excerpt,
        duration_ms: Math.max(0, Math.round(attempt.durationMs)),
      })
      .execute();
    return true;
  }

  /** The soonest a waiting delivery is due, for an idle worker's sleep. */
  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('webhook_deliveries')
      .select('next_attempt_at')
      .where('status', '=', 'waiting')
      .orderBy('next_attempt_at')
      .limit(1)
      .executeTakeFirst();
    return row ? new Date(row.next_attempt_at) : undefined;
  }

  /** A page of an endpoint's delivery log, newest first, before the attempt `beforeId` (keyset). */
  async attemptsOf(endpointId: number, limit: number, beforeId?: number): Promise<WebhookAttempt[]> {
    let query = this.db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
      .select([
        'a.id',
        'a.delivery_id',
        'd.event_id',
        'd.event_type',
        'a.attempt',
        'a.at',
        'a.status_code',
        'a.outcome',
        'a.excerpt',
        'a.duration_ms',
      ])
      .where('a.endpoint_id', '=', endpointId);
    if (beforeId !== undefined) query = query.where('a.id', '<', beforeId);
    const rows = await query.orderBy('a.id', 'desc').limit(limit).execute();
    return rows.map((r) => ({
      id: r.id,
      deliveryId: r.delivery_id,
      eventId: r.event_id,
      eventType: r.event_type,
      attempt: r.attempt,
      at: new Date(r.at),
      statusCode: r.status_code,
      outcome: r.outcome as AttemptOutcome,
      excerpt: r.excerpt,
      durationMs: r.duration_ms,
    }));
  }

  /** How many of an endpoint's deliveries are in each state. */
  async countsOf(endpointId: number): Promise<Record<string, number>> {
    const rows = await this.db
      .selectFrom('webhook_deliveries')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('endpoint_id', '=', endpointId)
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }
}
