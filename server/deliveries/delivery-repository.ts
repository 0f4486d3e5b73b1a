import type { Executor } from '../db/database.js';
import type { DeliveryRoundsTable } from '../db/tables.js';
import type { Selectable } from 'kysely';
import type { OutboxStatus } from '../outbox/outbox.js';
import type {
  DeliveryMode,
  DeliveryRound,
  DeliverySettings,
  RoundFailure,
  RoundKind,
  RoundTrigger,
} from './delivery.js';

/** A letter's saved delivery settings and the last milestone it reached. */
export type StoredDeliverySettings = DeliverySettings & { lastMilestone: number };

function toRound(row: Selectable<DeliveryRoundsTable>): DeliveryRound {
  return {
    id: row.id,
    letterId: row.letter_id,
    letterVersionId: row.letter_version_id,
    kind: row.kind as RoundKind,
    trigger: row.trigger as RoundTrigger,
    status: row.status as DeliveryRound['status'],
    failure: row.failure ? (JSON.parse(row.failure) as RoundFailure) : null,
    signatureCount: row.signature_count,
    milestone: row.milestone,
    testAddress: row.test_address,
    requestedBy: row.requested_by,
    notifiedAt: row.notified_at ? new Date(row.notified_at) : null,
    createdAt: new Date(row.created_at),
    tierFrom: row.tier_from,
    tierTo: row.tier_to,
  };
}

/** Rows of a round's audience written by one statement. */
const AUDIENCE_ROWS_A_STATEMENT = 500;

/** A recipient a round was started for, and the tier it reached them in. */
export interface AudienceMember {
  recipientId: number;
  tier: number;
}

/** One recipient's delivery as the organizer's record shows it: the compiled letter and its sending. */
export interface DeliveryRecord {
  id: number;
  roundId: number;
  recipientId: number | null;
  recipientName: string;
  language: string;
  toAddress: string;
  status: OutboxStatus;
  attempts: number;
  lastReply: string | null;
  messageId: string;
  queuedAt: Date;
  sentAt: Date | null;
  bouncedAt: Date | null;
  updatedAt: Date;
  /** Whether the compiled letter's body is gone (dropped once sent); the digest stands for it. */
  contentRemoved: boolean;
  /** SHA-256 (hex) and size of the bytes handed to SMTP, once sent. */
  sentSha256: string | null;
  sentSize: number | null;
}

/** A correction of a delivered list (an erratum) as the public record shows it. */
export interface SentCorrection {
  roundId: number;
  /** The corrected list's size and root. */
  treeSize: number;
  root: string;
  /** When its first message was accepted by a recipient's server. */
  sentAt: Date;
}

/** A recipient the letter reached, for the public page. */
export interface SentDelivery {
  recipientName: string;
  /** The recipient in the directory, null once deleted: the page names them in its language by it. */
  recipientId: number | null;
  /** The recipient's organisation as it is now ('' when none, or when the recipient was deleted). */
  organisation: string;
  sentAt: Date;
  signatureCount: number;
  kind: RoundKind;
  /** The round that sent it and the language of the text it got: its PDF is downloaded by both. */
  roundId: number;
  language: string;
  /** The round's committed list (size and root), or null when it has none (sent before commitments). */
  commitment: { treeSize: number; root: string } | null;
  /** Corrections of the round's list (errata) that reached a recipient, oldest first. */
  corrections: SentCorrection[];
}

export interface NewRound {
  letterId: number;
  letterVersionId: number;
  kind: RoundKind;
  trigger: RoundTrigger;
  signatureCount: number;
  milestone?: number | null;
  testAddress?: string | null;
  requestedBy?: number | null;
  requestKey?: string | null;
  /** The tiers it goes to (a letter with an escalation schedule); absent: every recipient. */
  tierFrom?: number | null;
  tierTo?: number | null;
}

/** SQL for delivery settings, delivery rounds and deliveries. */
export class DeliveryRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): DeliveryRepository {
    return new DeliveryRepository(tx);
  }

  /** A letter's saved delivery settings; undefined while its organizer has not chosen any. */
  async settingsOf(letterId: number): Promise<StoredDeliverySettings | undefined> {
    const row = await this.db
      .selectFrom('delivery_settings')
      .selectAll()
      .where('letter_id', '=', letterId)
      .executeTakeFirst();
    return row
      ? {
          mode: row.mode as DeliveryMode,
          milestoneEvery: row.milestone_every,
          deliverAt: row.deliver_at ? new Date(row.deliver_at) : null,
          replyTo: row.reply_to,
          lastMilestone: row.last_milestone,
        }
      : undefined;
  }

  /** Saves when and how a letter is delivered; the last milestone reached stays as it is. */
  async saveSettings(letterId: number, settings: DeliverySettings, now: Date): Promise<void> {
    const values = {
      mode: settings.mode,
      milestone_every: settings.milestoneEvery,
      deliver_at: settings.deliverAt?.toISOString() ?? null,
      reply_to: settings.replyTo,
      updated_at: now.toISOString(),
    };
    await this.db
      .insertInto('delivery_settings')
      .values({ letter_id: letterId, ...values })
      .onConflict((oc) => oc.column('letter_id').doUpdateSet(values))
      .execute();
  }

  /** Records a milestone as reached, only forward (compare-and-set); returns whether it moved. */
  async advanceMilestone(letterId: number, milestone: number, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_settings')
      .set({ last_milestone: milestone, updated_at: now.toISOString() })
      .where('letter_id', '=', letterId)
      .where('last_milestone', '<', milestone)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * Letters that may deliver by themselves: published, not yet delivered, and not set to deliver by
   * hand (those without saved settings included: their default may be automatic).
   */
  async lettersWithAutomaticDelivery(): Promise<number[]> {
    const rows = await this.db
      .selectFrom('letters as l')
      .leftJoin('delivery_settings as s', 's.letter_id', 'l.id')
      .select('l.id')
      .where('l.status', 'in', ['open', 'closed'])
      .where((eb) => eb.or([eb('s.mode', 'is', null), eb('s.mode', '!=', 'manual')]))
      .orderBy('l.id')
      .execute();
    return rows.map((r) => r.id);
  }

  /**
   * Creates a round, or returns undefined when its twin exists: the same request key (a button pressed
   * twice), the version's one delivery, or the same milestone. The unique indexes decide, so two
   * processes cannot both create it.
   */
  async createRound(round: NewRound, now: Date): Promise<DeliveryRound | undefined> {
    const at = now.toISOString();
    const row = await this.db
      .insertInto('delivery_rounds')
      .values({
        letter_id: round.letterId,
        letter_version_id: round.letterVersionId,
        kind: round.kind,
        trigger: round.trigger,
        status: 'compiling',
        signature_count: round.signatureCount,
        milestone: round.milestone ?? null,
        test_address: round.testAddress ?? null,
        requested_by: round.requestedBy ?? null,
        request_key: round.requestKey ?? null,
        tier_from: round.tierFrom ?? null,
        tier_to: round.tierTo ?? null,
        created_at: at,
        updated_at: at,
      })
      .onConflict((oc) => oc.doNothing())
      .returningAll()
      .executeTakeFirst();
    return row ? toRound(row) : undefined;
  }

  async findRound(id: number): Promise<DeliveryRound | undefined> {
    const row = await this.db
      .selectFrom('delivery_rounds')
      .selectAll()
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? toRound(row) : undefined;
  }

  async findRoundByRequestKey(key: string): Promise<DeliveryRound | undefined> {
    const row = await this.db
      .selectFrom('delivery_rounds')
      .selectAll()
      .where('request_key', '=', key)
      .executeTakeFirst();
    return row ? toRound(row) : undefined;
  }

  /** Rounds of a letter, newest first. */
  async roundsOf(letterId: number): Promise<DeliveryRound[]> {
    const rows = await this.db
      .selectFrom('delivery_rounds')
      .selectAll()
      .where('letter_id', '=', letterId)
      .orderBy('id', 'desc')
      .execute();
    return rows.map(toRound);
  }

  /** Whether the letter has had a round of this kind (for this version, when given). */
  async hasRound(letterId: number, kind: RoundKind, versionId?: number): Promise<boolean> {
    let query = this.db
      .selectFrom('delivery_rounds')
      .select('id')
      .where('letter_id', '=', letterId)
      .where('kind', '=', kind);
    if (versionId !== undefined) query = query.where('letter_version_id', '=', versionId);
    return (await query.executeTakeFirst()) !== undefined;
  }

  async roundsCompiling(): Promise<DeliveryRound[]> {
    const rows = await this.db
      .selectFrom('delivery_rounds')
      .selectAll()
      .where('status', '=', 'compiling')
      .orderBy('id')
      .execute();
    return rows.map(toRound);
  }

  /** Rounds whose letters have all gone out but whose supporters have not been told yet. */
  async roundsToNotify(): Promise<DeliveryRound[]> {
    const rows = await this.db
      .selectFrom('delivery_rounds as r')
      .selectAll('r')
      .where('r.status', '=', 'queued')
      .where('r.notified_at', 'is', null)
      .where('r.kind', 'in', ['delivery', 'update', 'milestone'])
      // A correction (erratum) tells the letter's recipients of a count; it is no news for supporters.
      .where('r.trigger', '!=', 'correction')
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('deliveries as d')
              .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
              .select('d.id')
              .whereRef('d.delivery_round_id', '=', 'r.id')
              .where('m.status', 'in', ['queued', 'sending', 'retrying']),
          ),
        ),
      )
      .orderBy('r.id')
      .execute();
    return rows.map(toRound);
  }

  async setRoundStatus(
    id: number,
    from: DeliveryRound['status'],
    to: DeliveryRound['status'],
    now: Date,
  ): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_rounds')
      .set({ status: to, updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', from)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /**
   * A compiling round is cancelled and says why (compare-and-set: only while it compiles); true when it
   * moved. Cancelled, so nothing compiles or sends it again; the failure tells it from an admin's cancel.
   */
  async failRound(id: number, failure: RoundFailure, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_rounds')
      .set({ status: 'cancelled', failure: JSON.stringify(failure), updated_at: now.toISOString() })
      .where('id', '=', id)
      .where('status', '=', 'compiling')
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  async markNotified(id: number, now: Date): Promise<void> {
    await this.db
      .updateTable('delivery_rounds')
      .set({ notified_at: now.toISOString() })
      .where('id', '=', id)
      .execute();
  }

  /** Keeps a starting round's audience: the recipients it reaches, with their tiers. In the round's transaction. */
  async keepAudience(roundId: number, audience: readonly AudienceMember[]): Promise<void> {
    // In slices: a statement takes at most a few thousand parameters (three a row here).
    for (let at = 0; at < audience.length; at += AUDIENCE_ROWS_A_STATEMENT)
      await this.db
        .insertInto('round_audiences')
        .values(
          audience.slice(at, at + AUDIENCE_ROWS_A_STATEMENT).map((m) => ({
            round_id: roundId,
            recipient_id: m.recipientId,
            tier: m.tier,
          })),
        )
        .execute();
    await this.db
      .updateTable('delivery_rounds')
      .set({ audience_kept: 1 })
      .where('id', '=', roundId)
      .execute();
  }

  /**
   * The audience a round was started for, less recipients deleted since; undefined for a round that kept
   * none (a test, or one still compiling when audiences began to be kept).
   */
  async roundAudience(roundId: number): Promise<AudienceMember[] | undefined> {
    const round = await this.db
      .selectFrom('delivery_rounds')
      .select('audience_kept')
      .where('id', '=', roundId)
      .executeTakeFirst();
    if (!round?.audience_kept) return undefined;
    const rows = await this.db
      .selectFrom('round_audiences')
      .select(['recipient_id', 'tier'])
      .where('round_id', '=', roundId)
      .execute();
    return rows.map((r) => ({ recipientId: r.recipient_id, tier: r.tier }));
  }

  /** Recipients of a round who already have their compiled letter. */
  async compiledRecipientIds(roundId: number): Promise<Set<number>> {
    const rows = await this.db
      .selectFrom('deliveries')
      .select('recipient_id')
      .where('delivery_round_id', '=', roundId)
      .execute();
    return new Set(rows.flatMap((r) => (r.recipient_id === null ? [] : [r.recipient_id])));
  }

  /** Records a compiled letter; its id, or undefined when another process recorded this recipient's first. */
  async addDelivery(
    delivery: {
      roundId: number;
      recipientId: number;
      recipientName: string;
      language: string;
      outboxMessageId: number;
    },
    now: Date,
  ): Promise<number | undefined> {
    const row = await this.db
      .insertInto('deliveries')
      .values({
        delivery_round_id: delivery.roundId,
        recipient_id: delivery.recipientId,
        recipient_name: delivery.recipientName,
        language: delivery.language,
        outbox_message_id: delivery.outboxMessageId,
        created_at: now.toISOString(),
      })
      .onConflict((oc) => oc.doNothing())
      .returning('id')
      .executeTakeFirst();
    return row?.id;
  }

  /** Every delivery of a letter's rounds, with its sending's state. */
  async recordsOf(letterId: number): Promise<DeliveryRecord[]> {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .select([
        'd.id',
        'd.delivery_round_id',
        'd.recipient_id',
        'd.recipient_name',
        'd.language',
        'm.to_address',
        'm.status',
        'm.attempts',
        'm.last_reply',
        'm.message_id',
        'm.created_at',
        'm.sent_at',
        'm.bounced_at',
        'm.updated_at',
        'm.content_removed_at',
        'm.sent_sha256',
        'm.sent_size',
      ])
      .where('r.letter_id', '=', letterId)
      .orderBy('d.delivery_round_id', 'desc')
      .orderBy('d.id')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      roundId: r.delivery_round_id,
      recipientId: r.recipient_id,
      recipientName: r.recipient_name,
      language: r.language,
      toAddress: r.to_address,
      status: r.status as OutboxStatus,
      attempts: r.attempts,
      lastReply: r.last_reply,
      messageId: r.message_id,
      queuedAt: new Date(r.created_at),
      sentAt: r.sent_at ? new Date(r.sent_at) : null,
      bouncedAt: r.bounced_at ? new Date(r.bounced_at) : null,
      updatedAt: new Date(r.updated_at),
      contentRemoved: r.content_removed_at !== null,
      sentSha256: r.sent_sha256,
      sentSize: r.sent_size,
    }));
  }

  /**
   * The first recipient (by delivery) a round's letter went to in `language`: whose letter a download of
   * that round and language is. `sentOnly`: only a letter the recipient's server accepted counts.
   */
  async firstDeliveryIn(
    roundId: number,
    language: string,
    sentOnly: boolean,
  ): Promise<{ recipientId: number | null; recipientName: string } | undefined> {
    let query = this.db
      .selectFrom('deliveries as d')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .select(['d.recipient_id', 'd.recipient_name'])
      .where('d.delivery_round_id', '=', roundId)
      .where('d.language', '=', language);
    if (sentOnly) query = query.where('m.status', '=', 'sent');
    const row = await query.orderBy('d.id').limit(1).executeTakeFirst();
    return row ? { recipientId: row.recipient_id, recipientName: row.recipient_name } : undefined;
  }

  /** The latest sending that reached each recipient (tests excluded), for the public page. */
  async sentTo(letterId: number): Promise<SentDelivery[]> {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .leftJoin('recipients as p', 'p.id', 'd.recipient_id')
      .leftJoin('round_commitments as c', 'c.round_id', 'r.id')
      .select([
        'd.recipient_name',
        'd.recipient_id',
        'd.delivery_round_id',
        'd.language',
        'p.organisation',
        'm.sent_at',
        'r.signature_count',
        'r.kind',
        'c.tree_size',
        'c.root',
      ])
      .where('r.letter_id', '=', letterId)
      .where('r.kind', '!=', 'test')
      // A correction is shown beside the delivery it corrects, never in its place (erratum-repository.ts).
      .where('r.trigger', '!=', 'correction')
      .where('m.status', '=', 'sent')
      .orderBy('m.sent_at', 'desc')
      .execute();
    const corrections = await this.correctionsSent(letterId);
    const latest = new Map<string, SentDelivery>();
    for (const r of rows) {
      if (!latest.has(r.recipient_name)) {
        latest.set(r.recipient_name, {
          recipientName: r.recipient_name,
          recipientId: r.recipient_id,
          organisation: r.organisation ?? '',
          sentAt: new Date(r.sent_at!),
          signatureCount: r.signature_count,
          kind: r.kind as RoundKind,
          roundId: r.delivery_round_id,
          language: r.language,
          commitment:
            r.root !== null && r.tree_size !== null ? { treeSize: Number(r.tree_size), root: r.root } : null,
          corrections: corrections.get(r.delivery_round_id) ?? [],
        });
      }
    }
    return [...latest.values()];
  }

  /**
   * The corrections of a letter's delivered lists that reached a recipient (a message of theirs was
   * accepted), by the round each corrects, oldest first. Read from the letter's rounds, through indexes.
   */
  private async correctionsSent(letterId: number): Promise<Map<number, SentCorrection[]>> {
    const rows = await this.db
      .selectFrom('delivery_rounds as r')
      .innerJoin('round_commitments as c', 'c.round_id', 'r.id')
      .innerJoin('deliveries as d', 'd.delivery_round_id', 'r.id')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .select((eb) => [
        'r.id',
        'c.corrects_round_id',
        'c.tree_size',
        'c.root',
        eb.fn.min<string>('m.sent_at').as('first_sent_at'),
      ])
      .where('r.letter_id', '=', letterId)
      .where('r.trigger', '=', 'correction')
      .where('c.corrects_round_id', 'is not', null)
      .where('m.status', '=', 'sent')
      .groupBy(['r.id', 'c.corrects_round_id', 'c.tree_size', 'c.root'])
      .orderBy('r.id')
      .execute();
    const byRound = new Map<number, SentCorrection[]>();
    for (const row of rows) {
      const list = byRound.get(row.corrects_round_id!) ?? [];
      list.push({
        roundId: row.id,
        treeSize: Number(row.tree_size),
        root: row.root,
        sentAt: new Date(row.first_sent_at),
      });
      byRound.set(row.corrects_round_id!, list);
    }
    return byRound;
  }

  /**
   * The compiled letters that name any of these signatures: deliveries of rounds of their letters
   * created once they were confirmed, when they chose to be named. Read before the signatures are
   * anonymised (erasure, retention), to reach every copy of the name.
   */
  async deliveriesNaming(
    signatureIds: readonly number[],
  ): Promise<{ deliveryId: number; roundId: number; outboxMessageId: number; status: OutboxStatus }[]> {
    const found = new Map<
      number,
      { deliveryId: number; roundId: number; outboxMessageId: number; status: OutboxStatus }
    >();
    for (let i = 0; i < signatureIds.length; i += 500) {
      const rows = await this.db
        .selectFrom('signatures as s')
        .innerJoin('delivery_rounds as r', 'r.letter_id', 's.letter_id')
        .innerJoin('deliveries as d', 'd.delivery_round_id', 'r.id')
        .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
        .select(['d.id', 'd.delivery_round_id', 'd.outbox_message_id', 'm.status'])
        .where('s.id', 'in', signatureIds.slice(i, i + 500))
        // A correction names nobody: it is never compiled again (nor reopened as a round to compile).
        .where('r.trigger', '!=', 'correction')
        .where('s.display', '!=', 'hidden')
        .where('s.confirmed_at', 'is not', null)
        .whereRef('s.confirmed_at', '<=', 'r.created_at')
        .execute();
      for (const r of rows)
        found.set(r.id, {
          deliveryId: r.id,
          roundId: r.delivery_round_id,
          outboxMessageId: r.outbox_message_id,
          status: r.status as OutboxStatus,
        });
    }
    return [...found.values()];
  }

  /**
   * Forgets compiled letters that never went (their messages were cancelled) and puts their rounds
   * back to compiling, so the scheduler compiles those recipients again from today's annex. Returns
   * the rounds it reopened.
   */
  async recompile(deliveryIds: readonly number[], now: Date): Promise<number[]> {
    if (deliveryIds.length === 0) return [];
    const rounds = new Set<number>();
    for (let i = 0; i < deliveryIds.length; i += 500) {
      const rows = await this.db
        .deleteFrom('deliveries')
        .where('id', 'in', deliveryIds.slice(i, i + 500))
        .returning('delivery_round_id')
        .execute();
      for (const r of rows) rounds.add(r.delivery_round_id);
    }
    const reopened: number[] = [];
    for (const round of rounds) {
      if (await this.setRoundStatus(round, 'queued', 'compiling', now)) reopened.push(round);
    }
    return reopened;
  }

  /** The delivery (and its recipient) a queued message belongs to, for bounces. */
  async findByOutboxMessage(
    outboxMessageId: number,
  ): Promise<{ id: number; recipientId: number | null } | undefined> {
    const row = await this.db
      .selectFrom('deliveries')
      .select(['id', 'recipient_id'])
      .where('outbox_message_id', '=', outboxMessageId)
      .executeTakeFirst();
    return row ? { id: row.id, recipientId: row.recipient_id } : undefined;
  }

  /** What a reply to a delivery is stored with: its letter, recipient and round. */
  async findForReply(deliveryId: number): Promise<
    | {
        id: number;
        letterId: number;
        recipientId: number | null;
        recipientName: string;
        roundKind: RoundKind;
      }
    | undefined
  > {
    const row = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
      .select(['d.id', 'r.letter_id', 'd.recipient_id', 'd.recipient_name', 'r.kind'])
      .where('d.id', '=', deliveryId)
      .executeTakeFirst();
    return row
      ? {
          id: row.id,
          letterId: row.letter_id,
          recipientId: row.recipient_id,
          recipientName: row.recipient_name,
          roundKind: row.kind as RoundKind,
        }
      : undefined;
  }

  /**
   * Every sending of the letter that reached a recipient (test sends excluded), for the public API's
   * record: when, to which institution (the recipient's organisation, else its name as sent), with how
   * many signatures. Never an address.
   */
  async publicRecord(letterId: number): Promise<
    {
      recipientName: string;
      recipientId: number | null;
      organisation: string;
      sentAt: Date;
      signatureCount: number;
    }[]
  > {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('delivery_rounds as r', 'r.id', 'd.delivery_round_id')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .leftJoin('recipients as p', 'p.id', 'd.recipient_id')
      .select(['d.recipient_name', 'd.recipient_id', 'p.organisation', 'm.sent_at', 'r.signature_count'])
      .where('r.letter_id', '=', letterId)
      .where('r.kind', '!=', 'test')
      .where('m.status', '=', 'sent')
      .orderBy('m.sent_at', 'desc')
      .execute();
    return rows.map((r) => ({
      recipientName: r.recipient_name,
      recipientId: r.recipient_id,
      organisation: r.organisation ?? '',
      sentAt: new Date(r.sent_at!),
      signatureCount: r.signature_count,
    }));
  }
}
