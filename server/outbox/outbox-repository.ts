import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import { claimClauses, LOCK_SPACES, oneAtATime } from '../db/dialect.js';
import { ReusableQuery } from '../db/reusable-query.js';
import type { Selectable } from 'kysely';
import type { NewOutboxMessageRow, OutboxContentsTable, OutboxMessageRow } from '../db/tables.js';
import {
  domainOfAddress,
  isCancellable,
  OUTBOX_STATUSES,
  OUTBOX_TRANSITIONS,
  type NewOutboxMessage,
  type OutboxAttachment,
  type OutboxMessage,
  type OutboxStatus,
} from './outbox.js';
import { leaseEnd } from './lease.js';

type ContentRow = Selectable<OutboxContentsTable>;

function toMessage(row: OutboxMessageRow, content: ContentRow | undefined): OutboxMessage {
  return {
    id: row.id,
    kind: row.kind,
    signatureId: row.signature_id,
    toAddress: row.to_address,
    subject: content?.subject ?? '',
    textBody: content?.text_body ?? '',
    htmlBody: content?.html_body ?? '',
    headers: JSON.parse(content?.headers ?? '{}') as Record<string, string>,
    fromName: content?.from_name ?? null,
    messageId: row.message_id,
    status: row.status as OutboxStatus,
    attempts: row.attempts,
    createdAt: new Date(row.created_at),
    domain: row.domain,
    replyTo: row.reply_to,
    giveUpAt: row.give_up_at ? new Date(row.give_up_at) : null,
    attachmentCount: row.attachment_count,
    renderLanguage: row.render_language,
    contentRemovedAt: row.content_removed_at ? new Date(row.content_removed_at) : null,
    sentSha256: row.sent_sha256,
    sentSize: row.sent_size,
  };
}

export interface OutboxCounts {
  byStatus: Partial<Record<OutboxStatus, number>>;
}

/** A failed (or waiting) message as the admin's queue page lists it. */
export interface OutboxListItem {
  id: number;
  kind: string;
  domain: string;
  status: OutboxStatus;
  attempts: number;
  lastReply: string | null;
  createdAt: Date;
  updatedAt: Date;
  /** Whether the body is gone (sent, cancelled, erased); the digest then stands for it. */
  contentRemoved?: boolean;
  sentSha256?: string | null;
  sentSize?: number | null;
  /** When a server that had accepted it returned it: it was sent, so dismissing it sends nothing. */
  bouncedAt?: Date | null;
}

/** What the worker records for a send the server accepted. */
export interface SentResult {
  id: number;
  reply: string;
  /** SHA-256 (hex) and size of the exact bytes handed to SMTP, when the sender knows them. */
  sha256?: string | undefined;
  size?: number | undefined;
}

export interface ClaimOptions {
  /** The domain's connections: at most this many of its messages being sent at once, by all workers together. */
  perDomain: number;
  /** Domains this worker is already sending to as much as it may. */
  excludeDomains: readonly string[];
  /** How many waiting messages, in priority order, the claim looks at to find a fair batch. */
  window?: number;
}

/**
 * The fewest waiting messages a claim reads to choose its batch from (three times the batch when larger).
 * Domains that have no connection left are skipped before this window, so it only has to hold enough
 * messages for a batch when each domain may take a few places; every message read costs the claim its
 * ordering and placing (the window of 200 it had was ~10 % of the worker's CPU a message, issue 12).
 */
const CLAIM_WINDOW_MIN = 60;

/** A claim given back (its worker died or is stopping): due now for any worker, its attempt already counted. */
function backInLine(at: string) {
  return {
    status: 'retrying' as const,
    claimed_by: null,
    lease_expires_at: null,
    next_attempt_at: at,
    updated_at: at,
  };
}

// Every signing queues its confirmation: the insert is compiled once (db/reusable-query.ts).
const INSERT_MESSAGE = new ReusableQuery((db, row: NewOutboxMessageRow) =>
  db.insertInto('outbox_messages').values(row).returning('id'),
);
const INSERT_MESSAGE_ONCE = new ReusableQuery((db, row: NewOutboxMessageRow) =>
  db
    .insertInto('outbox_messages')
    .values(row)
    .onConflict((oc) => oc.doNothing())
    .returning('id'),
);

/** SQL for the mail queue. */
export class OutboxRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): OutboxRepository {
    return new OutboxRepository(tx);
  }

  /** Adds a message to the queue; call in the same transaction as the change that causes it. */
  async enqueue(message: NewOutboxMessage, messageId: string, now: Date): Promise<number> {
    const id = await this.insert(message, messageId, now, false);
    return id!;
  }

  /**
   * Adds a message unless the queue already holds its twin (the same supporter's notice for the same
   * round); returns undefined then. Lets a job that was cut off run again without sending twice.
   */
  async enqueueOnce(message: NewOutboxMessage, messageId: string, now: Date): Promise<number | undefined> {
    return this.insert(message, messageId, now, true);
  }

  private async insert(
    message: NewOutboxMessage,
    messageId: string,
    now: Date,
    once: boolean,
  ): Promise<number | undefined> {
    const at = now.toISOString();
    const values: NewOutboxMessageRow = {
      kind: message.kind,
      priority: message.priority,
      signature_id: message.signatureId,
      to_address: message.toAddress,
      domain: domainOfAddress(message.toAddress),
      reply_to: message.replyTo ?? null,
      delivery_round_id: message.deliveryRoundId ?? null,
      attachment_count: 'renderLanguage' in message ? 0 : (message.attachments?.length ?? 0),
      render_language: 'renderLanguage' in message ? message.renderLanguage : null,
      message_id: messageId,
      status: 'queued',
      next_attempt_at: at,
      created_at: at,
      updated_at: at,
    };
    const { rows } = await (once ? INSERT_MESSAGE_ONCE : INSERT_MESSAGE).execute(this.db, values);
    const row = rows[0];
    if (!row) return undefined;
    // Rendered by the worker just before sending: nothing to store now.
    if ('renderLanguage' in message) return row.id;
    await this.db
      .insertInto('outbox_contents')
      .values({
        outbox_message_id: row.id,
        subject: message.subject,
        text_body: message.textBody,
        html_body: message.htmlBody,
        headers: JSON.stringify(message.headers ?? {}),
        from_name: message.fromName ?? null,
      })
      .execute();
    for (const attachment of message.attachments ?? []) {
      await this.db
        .insertInto('outbox_attachments')
        .values({
          outbox_message_id: row.id,
          file_name: attachment.fileName,
          content_type: attachment.contentType,
          content: attachment.content,
        })
        .execute();
    }
    return row.id;
  }

  /**
   * Sets the Reply-To of a message still waiting in the queue (a delivery's own reply address, known
   * once its delivery is recorded in the same transaction); true when it changed.
   */
  async setReplyTo(id: number, replyTo: string): Promise<boolean> {
    const result = await this.db
      .updateTable('outbox_messages')
      .set({ reply_to: replyTo })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** The rendered e-mails of several messages, by message id. */
  private async contentsOf(ids: readonly number[]): Promise<Map<number, ContentRow>> {
    if (ids.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('outbox_contents')
      .selectAll()
      .where('outbox_message_id', 'in', ids)
      .execute();
    return new Map(rows.map((r) => [r.outbox_message_id, r]));
  }

  async attachmentsOf(id: number): Promise<OutboxAttachment[]> {
    const rows = await this.db
      .selectFrom('outbox_attachments')
      .select(['file_name', 'content_type', 'content'])
      .where('outbox_message_id', '=', id)
      .orderBy('id')
      .execute();
    return rows.map((r) => ({
      fileName: r.file_name,
      contentType: r.content_type,
      content: Buffer.from(r.content),
    }));
  }

  /**
   * Puts messages whose claim has expired (their worker died mid-send) back in line, due now. Their
   * attempt was counted when they were claimed; the next claim counts another.
   */
  async releaseExpiredClaims(now: Date): Promise<number> {
    const at = now.toISOString();
    const result = await this.db
      .updateTable('outbox_messages')
      .set(backInLine(at))
      .where('status', '=', 'sending')
      .where('lease_expires_at', '<=', at)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * A live worker's heartbeat: extends the lease of every message it holds, in one statement, so its
   * claims never expire however long a send takes; returns how many it holds. A claim already taken
   * over (the worker stalled past its lease) is no longer its own and is left alone.
   */
  async renewClaims(workerId: string, now: Date, leaseMs: number): Promise<number> {
    const result = await this.db
      .updateTable('outbox_messages')
      .set({ lease_expires_at: leaseEnd(now, leaseMs).toISOString() })
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Gives back claims of this worker whose sends it will not finish (it is stopping): due now for any
   * worker, the attempt counted. Only its own claims, and only while still "sending".
   */
  async releaseClaims(workerId: string, ids: readonly number[], now: Date): Promise<number> {
    if (ids.length === 0) return 0;
    const at = now.toISOString();
    const result = await this.db
      .updateTable('outbox_messages')
      .set(backInLine(at))
      .where('id', 'in', ids)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /**
   * Claims up to `limit` due messages in priority order, in one statement, so two workers never hold the
   * same message. Each claim counts as an attempt. With `options`, none to the excluded domains, and to
   * each domain only as many as leave its messages being sent, by every worker of the deployment,
   * within `perDomain`: claims take turns (oneAtATime) so that two workers cannot both see a domain's
   * last free connection.
   *
   * Where the databases differ (SQLite's index hint, PostgreSQL's row locks) is `claimClauses`: SQLite
   * without the hint sorts every waiting message on each claim (85 ms at 100,000 waiting, against 6 ms).
   */
  async claimDue(
    workerId: string,
    now: Date,
    leaseMs: number,
    limit: number,
    options?: ClaimOptions,
  ): Promise<OutboxMessage[]> {
    const at = now.toISOString();
    const leaseExpiresAt = leaseEnd(now, leaseMs).toISOString();
    const window = Math.max(limit, options?.window ?? Math.max(CLAIM_WINDOW_MIN, limit * 3));
    const excluded =
      options && options.excludeDomains.length > 0
        ? sql`and domain not in (${sql.join(options.excludeDomains.map((d) => sql`${d}`))})`
        : sql``;
    // A domain's connections are the deployment's: those its messages being sent already hold count.
    // Few messages are being sent at once (a batch per worker), read through outbox_messages_due.
    // Domains with none left are skipped before the window, so that other domains' mail behind a long
    // run of theirs is still found.
    const full = options
      ? sql`and domain not in (
          select domain from outbox_messages where status = 'sending'
          group by domain having count(*) >= ${options.perDomain})`
      : sql``;
    const sending = options
      ? sql`left join (
            select domain, count(*) as busy from outbox_messages where status = 'sending' group by domain
          ) as sending on sending.domain = placed.domain`
      : sql``;
    const busy = options ? sql`coalesce(sending.busy, 0)` : sql`0`;
    const claim = claimClauses(this.db, 'outbox_messages', 'outbox_messages_claim');
    const chosen = sql`
        select placed.id from (
          select id, domain, priority, next_attempt_at,
                 row_number() over (partition by domain order by priority, next_attempt_at, id) as place
          from (
            select id, domain, priority, next_attempt_at from outbox_messages ${claim.indexHint}
            where status in ('queued', 'retrying') and next_attempt_at <= ${at} ${excluded} ${full}
            order by priority, next_attempt_at
            limit ${window}
          ) as waiting
        ) as placed ${sending}
        where placed.place + ${busy} <= ${options?.perDomain ?? limit}
        order by placed.priority, placed.next_attempt_at
        limit ${limit}`;
    const claimDomains = (db: Executor) =>
      sql<OutboxMessageRow>`
        update outbox_messages ${claim.updateHint}
        set status = 'sending', claimed_by = ${workerId}, lease_expires_at = ${leaseExpiresAt},
            attempts = attempts + 1, updated_at = ${at}
        where status in ('queued', 'retrying') and id in (${claim.take(chosen)})
        returning *`.execute(db);
    const result = options
      ? await oneAtATime(this.db, LOCK_SPACES.outboxClaim, 'claim', claimDomains)
      : await claimDomains(this.db);
    const contents = await this.contentsOf(result.rows.map((r) => r.id));
    return result.rows.map((row) => toMessage(row, contents.get(row.id))).sort((a, b) => a.id - b.id);
  }

  /**
   * Records several sends as sent in one statement, each only if this worker still holds its claim
   * (compare-and-set); returns the ids it recorded. One statement for a handful of messages instead of
   * one each is most of what keeps the queue close to nodemailer's own speed.
   */
  async finishSent(workerId: string, results: readonly SentResult[], at: Date): Promise<Set<number>> {
    if (results.length === 0) return new Set();
    // The record and the removal of the bodies commit together: apart, a process that died between them
    // left a message recorded sent (content_removed_at set) with its body still kept.
    if (!this.db.isTransaction)
      return this.db.transaction().execute((tx) => this.with(tx).finishSent(workerId, results, at));
    const when = at.toISOString();
    const byId = <T>(value: (r: SentResult) => T) =>
      sql.join(
        results.map((r) => sql`when ${r.id} then ${value(r)}`),
        sql` `,
      );
    const rows = await this.db
      .updateTable('outbox_messages')
      .set({
        status: 'sent',
        last_reply: sql<string>`case id ${byId((r) => r.reply.slice(0, 1000))} end`,
        sent_sha256: sql<string | null>`case id ${byId((r) => r.sha256 ?? null)} end`,
        // Cast: PostgreSQL reads a parameter it cannot place as text, and sent_size is an integer.
        sent_size: sql<number | null>`case id ${byId((r) => sql`cast(${r.size ?? null} as integer)`)} end`,
        content_removed_at: when,
        lease_expires_at: null,
        claimed_by: null,
        sent_at: when,
        next_attempt_at: when,
        updated_at: when,
      })
      .where(
        'id',
        'in',
        results.map((r) => r.id),
      )
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .returning('id')
      .execute();
    // Sent mail keeps no body: the digest above stands for what went out.
    await this.deleteContents(rows.map((r) => r.id));
    return new Set(rows.map((r) => r.id));
  }

  /** Deletes the rendered e-mails and attachments of these messages (their rows stay). */
  private async deleteContents(ids: readonly number[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      await this.db.deleteFrom('outbox_contents').where('outbox_message_id', 'in', slice).execute();
      await this.db.deleteFrom('outbox_attachments').where('outbox_message_id', 'in', slice).execute();
    }
  }

  /**
   * Drops the content of messages that failed before `before` and were not retried: past that, no
   * admin retries them, and their bodies (compiled letters with names) need not be kept.
   */
  async dropContentOfFailedBefore(before: Date, now: Date): Promise<number> {
    const rows = await this.db
      .updateTable('outbox_messages')
      .set({ content_removed_at: now.toISOString() })
      .where('status', '=', 'failed')
      .where('content_removed_at', 'is', null)
      .where('updated_at', '<=', before.toISOString())
      .returning('id')
      .execute();
    await this.deleteContents(rows.map((r) => r.id));
    return rows.length;
  }

  /**
   * Cancels messages that have not gone (queued, waiting to retry, or failed) and deletes their
   * content; returns the ids it cancelled. A message being sent right now is left to its send.
   */
  async cancelUnsent(ids: readonly number[], now: Date): Promise<number[]> {
    const cancelled: number[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .updateTable('outbox_messages')
        .set({ status: 'cancelled', content_removed_at: now.toISOString(), updated_at: now.toISOString() })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('status', 'in', ['queued', 'retrying', 'failed'])
        .returning('id')
        .execute();
      cancelled.push(...rows.map((r) => r.id));
    }
    await this.deleteContents(cancelled);
    return cancelled;
  }

  /** Deletes the content of these messages, whatever their status; their rows and digests stay. */
  async dropContentOf(ids: readonly number[], now: Date): Promise<void> {
    for (let i = 0; i < ids.length; i += 500) {
      await this.db
        .updateTable('outbox_messages')
        .set({ content_removed_at: now.toISOString() })
        .where('id', 'in', ids.slice(i, i + 500))
        .where('content_removed_at', 'is', null)
        .execute();
    }
    await this.deleteContents(ids);
  }

  /** The Message-IDs of the messages sent about these signatures (to find their captured copies). */
  async messageIdsOfSignatures(signatureIds: readonly number[]): Promise<string[]> {
    const found: string[] = [];
    for (let i = 0; i < signatureIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('outbox_messages')
        .select('message_id')
        .where('signature_id', 'in', signatureIds.slice(i, i + 500))
        .execute();
      found.push(...rows.map((r) => r.message_id));
    }
    return found;
  }

  /** The Message-IDs of these messages (to find their captured copies). */
  async messageIdsOf(ids: readonly number[]): Promise<string[]> {
    const found: string[] = [];
    for (let i = 0; i < ids.length; i += 500) {
      const rows = await this.db
        .selectFrom('outbox_messages')
        .select('message_id')
        .where('id', 'in', ids.slice(i, i + 500))
        .execute();
      found.push(...rows.map((r) => r.message_id));
    }
    return found;
  }

  /** Records the outcome of a send, but only if this worker still holds the claim (compare-and-set). */
  async finish(
    id: number,
    workerId: string,
    outcome: {
      status: 'sent' | 'retrying' | 'failed';
      reply: string;
      at: Date;
      nextAttemptAt?: Date;
      sha256?: string;
      size?: number;
    },
  ): Promise<boolean> {
    const sent = outcome.status === 'sent';
    const result = await this.db
      .updateTable('outbox_messages')
      .set({
        status: outcome.status,
        last_reply: outcome.reply.slice(0, 1000),
        ...(sent
          ? {
              sent_sha256: outcome.sha256 ?? null,
              sent_size: outcome.size ?? null,
              content_removed_at: outcome.at.toISOString(),
            }
          : {}),
        lease_expires_at: null,
        claimed_by: null,
        sent_at: outcome.status === 'sent' ? outcome.at.toISOString() : null,
        next_attempt_at: (outcome.nextAttemptAt ?? outcome.at).toISOString(),
        updated_at: outcome.at.toISOString(),
      })
      .where('id', '=', id)
      .where('status', '=', 'sending')
      .where('claimed_by', '=', workerId)
      .executeTakeFirst();
    const moved = result.numUpdatedRows === 1n;
    if (moved && sent) await this.deleteContents([id]);
    return moved;
  }

  /** Compare-and-set between two statuses, checked against OUTBOX_TRANSITIONS; returns whether it moved. */
  private async move(
    id: number,
    from: OutboxStatus,
    to: OutboxStatus,
    changes: Record<string, unknown>,
    now: Date,
  ): Promise<boolean> {
    if (!OUTBOX_TRANSITIONS[from].includes(to)) throw new Error(`illegal outbox transition ${from} → ${to}`);
    const result = await this.db
      .updateTable('outbox_messages')
      .set({ ...changes, status: to, updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return result.numUpdatedRows === 1n;
  }

  /** An admin retries a failed message: it is due now and gets a fresh give-up time. */
  async retryFailed(id: number, now: Date, giveUpAt: Date): Promise<boolean> {
    // Without its content (sent and bounced, erased, or failed long ago) there is nothing to send
    // again, unless the worker renders it.
    const row = await this.db
      .selectFrom('outbox_messages')
      .select('id')
      .where('id', '=', id)
      .where((eb) => eb.or([eb('content_removed_at', 'is', null), eb('render_language', 'is not', null)]))
      .executeTakeFirst();
    if (!row) return false;
    return this.move(
      id,
      'failed',
      'queued',
      { next_attempt_at: now.toISOString(), give_up_at: giveUpAt.toISOString() },
      now,
    );
  }

  /** An admin cancels a message that has not gone (failed, queued or waiting to retry). */
  async cancel(id: number, now: Date): Promise<boolean> {
    for (const from of OUTBOX_STATUSES.filter(isCancellable)) {
      if (await this.move(id, from, 'cancelled', { content_removed_at: now.toISOString() }, now)) {
        // A cancelled message never goes: its content is not needed.
        await this.deleteContents([id]);
        return true;
      }
    }
    return false;
  }

  /** A delivery status notification said a sent message did not arrive after all. */
  async markBounced(id: number, reply: string, now: Date): Promise<boolean> {
    return this.move(
      id,
      'sent',
      'failed',
      { bounced_at: now.toISOString(), last_reply: reply.slice(0, 1000) },
      now,
    );
  }

  /** Cancels a signature's messages that have not gone yet (e.g. its confirmation, once it is withdrawn). */
  async cancelUnsentForSignature(signatureId: number, now: Date): Promise<number> {
    const rows = await this.db
      .updateTable('outbox_messages')
      .set({ status: 'cancelled', content_removed_at: now.toISOString(), updated_at: now.toISOString() })
      .where('signature_id', '=', signatureId)
      .where('status', 'in', ['queued', 'retrying'])
      .returning('id')
      .execute();
    await this.deleteContents(rows.map((r) => r.id));
    return rows.length;
  }

  /**
   * Removes a person from the queue: their messages lose address, subject and bodies, and those not
   * sent yet are cancelled. The rows stay (status, times, Message-ID), so the record still adds up.
   */
  async scrub(where: { signatureIds?: readonly number[]; address?: string }, now: Date): Promise<number> {
    let scrubbed = 0;
    const run = async (
      filter: (
        query: ReturnType<OutboxRepository['scrubQuery']>,
      ) => ReturnType<OutboxRepository['scrubQuery']>,
    ) => {
      const rows = await filter(this.scrubQuery(now)).returning('id').execute();
      scrubbed += rows.length;
      // The content goes too, with the attachments: the data sent in answer to an access request holds the address.
      await this.deleteContents(rows.map((r) => r.id));
    };
    const ids = where.signatureIds ?? [];
    for (let i = 0; i < ids.length; i += 500) {
      const slice = ids.slice(i, i + 500);
      await run((q) => q.where('signature_id', 'in', slice));
    }
    if (where.address) {
      const address = where.address.trim().toLowerCase();
      await run((q) => q.where(sql<string>`lower(to_address)`, '=', address));
    }
    return scrubbed;
  }

  private scrubQuery(now: Date) {
    return this.db.updateTable('outbox_messages').set({
      to_address: '',
      reply_to: null,
      attachment_count: 0,
      content_removed_at: sql<string>`coalesce(content_removed_at, ${now.toISOString()})`,
      status: sql<string>`case when status in ('queued', 'retrying') then 'cancelled' else status end`,
      updated_at: now.toISOString(),
    });
  }

  async findById(
    id: number,
  ): Promise<
    (OutboxMessage & { lastReply: string | null; sentAt: Date | null; bouncedAt: Date | null }) | undefined
  > {
    const row = await this.db
      .selectFrom('outbox_messages')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    const content = row ? (await this.contentsOf([row.id])).get(row.id) : undefined;
    return row
      ? {
          ...toMessage(row, content),
          lastReply: row.last_reply,
          sentAt: row.sent_at ? new Date(row.sent_at) : null,
          bouncedAt: row.bounced_at ? new Date(row.bounced_at) : null,
        }
      : undefined;
  }

  /** When the next message becomes due, so an idle worker can sleep until then. */
  async nextDueAt(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .select(
        sql<string>`min(case when status = 'sending' then lease_expires_at else next_attempt_at end)`.as(
          'due',
        ),
      )
      .where('status', 'in', ['queued', 'retrying', 'sending'])
      .executeTakeFirst();
    return row?.due ? new Date(row.due) : undefined;
  }

  async countsByStatus(): Promise<OutboxCounts> {
    const rows = await this.db
      .selectFrom('outbox_messages')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return { byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) };
  }

  /** When the oldest message still waiting to go was queued. */
  async oldestWaitingSince(): Promise<Date | undefined> {
    const row = await this.db
      .selectFrom('outbox_messages')
      .select((eb) => eb.fn.min('created_at').as('oldest'))
      .where('status', 'in', ['queued', 'retrying', 'sending'])
      .executeTakeFirst();
    return row?.oldest ? new Date(row.oldest as string) : undefined;
  }

  /**
   * Messages waiting to go (queued, retrying, sending) and failed, by status: read on every /metrics
   * scrape, so it walks only those statuses in the (status, next_attempt_at) index, never the sent ones.
   */
  async countsNotSent(): Promise<OutboxCounts> {
    const rows = await this.db
      .selectFrom('outbox_messages')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['queued', 'retrying', 'sending', 'failed'])
      .groupBy('status')
      .execute();
    return { byStatus: Object.fromEntries(rows.map((r) => [r.status, Number(r.n)])) };
  }

  /** Messages in one status, most recently changed first, for the admin's queue page. */
  async listByStatus(status: OutboxStatus, limit: number): Promise<OutboxListItem[]> {
    const rows = await this.db
      .selectFrom('outbox_messages')
      .select([
        'id',
        'kind',
        'domain',
        'status',
        'attempts',
        'last_reply',
        'created_at',
        'updated_at',
        'content_removed_at',
        'sent_sha256',
        'sent_size',
        'bounced_at',
      ])
      .where('status', '=', status)
      .orderBy('updated_at', 'desc')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      domain: r.domain,
      status: r.status as OutboxStatus,
      attempts: r.attempts,
      lastReply: r.last_reply,
      createdAt: new Date(r.created_at),
      updatedAt: new Date(r.updated_at),
      contentRemoved: r.content_removed_at !== null,
      sentSha256: r.sent_sha256,
      sentSize: r.sent_size,
      bouncedAt: r.bounced_at ? new Date(r.bounced_at) : null,
    }));
  }
}
