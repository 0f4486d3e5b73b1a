import { sql } from 'kysely';
import type { Executor } from '../db/database.js';
import type { SignatureStatus } from '../signatures/signature.js';
import type { LeafState, ListedLeaf } from './erratum.js';

/** Ids per statement: far under both databases' parameter limits. */
const BATCH = 500;

/** A delivered round's published list (its commitment), with the round it belongs to. */
export interface PublishedList {
  roundId: number;
  treeSize: number;
  root: string;
  /** The round this list corrects (a correction's), or null for a delivered list. */
  correctsRoundId: number | null;
  /** When the round was made. */
  createdAt: Date;
}

/** A recipient whose server accepted a round's letter: whom its correction goes to. */
export interface ReachedRecipient {
  recipientId: number;
  recipientName: string;
  /** The language of the letter they got. */
  language: string;
  /** The address the letter went to. */
  toAddress: string;
  /** The letter's Message-ID: the correction answers it, so it reaches them in the same thread. */
  messageId: string;
  /** The Reply-To the letter carried (its delivery's own reply address, or the organisation's), if any. */
  replyTo: string | null;
}

/** SQL for errata: what became of delivered lists' signatures, and whom a round reached. */
export class ErratumRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): ErratumRepository {
    return new ErratumRepository(tx);
  }

  /** Every published list of a letter's rounds (delivered ones and corrections), oldest first. */
  async listsOf(letterId: number): Promise<PublishedList[]> {
    const rows = await this.db
      .selectFrom('round_commitments as c')
      .innerJoin('delivery_rounds as r', 'r.id', 'c.round_id')
      .select(['c.round_id', 'c.tree_size', 'c.root', 'c.corrects_round_id', 'r.created_at'])
      .where('r.letter_id', '=', letterId)
      .where('r.kind', '!=', 'test')
      .orderBy('c.round_id')
      .execute();
    return rows.map((r) => ({
      roundId: r.round_id,
      treeSize: Number(r.tree_size),
      root: r.root,
      correctsRoundId: r.corrects_round_id,
      createdAt: new Date(r.created_at),
    }));
  }

  /**
   * How many leaves of each round's list are in each state now: their signature's status (null when none
   * is linked) and whether its person was erased. One row per round and state, counted by the database.
   */
  async leafStates(roundIds: readonly number[]): Promise<Map<number, (LeafState & { count: number })[]>> {
    const states = new Map<number, (LeafState & { count: number })[]>();
    if (roundIds.length === 0) return states;
    const erased = sql<number>`case when l.erased_at is null then 0 else 1 end`;
    const rows = await this.db
      .selectFrom('round_leaves as l')
      .leftJoin('signatures as s', 's.id', 'l.signature_id')
      .select((eb) => [
        'l.round_id',
        's.status',
        erased.as('erased'),
        eb.fn.countAll<number | string>().as('n'),
      ])
      .where('l.round_id', 'in', roundIds)
      .groupBy(['l.round_id', 's.status', erased])
      .execute();
    for (const row of rows) {
      const list = states.get(row.round_id) ?? [];
      list.push({
        status: (row.status as SignatureStatus | null) ?? null,
        erased: Number(row.erased) === 1,
        count: Number(row.n),
      });
      states.set(row.round_id, list);
    }
    return states;
  }

  /** A round's leaves in order, each with its signature's status now (null once erased). */
  async leavesOf(roundId: number): Promise<ListedLeaf[]> {
    const rows = await this.db
      .selectFrom('round_leaves as l')
      .leftJoin('signatures as s', 's.id', 'l.signature_id')
      .select(['l.position', 'l.leaf_hash', 'l.signature_id', 'l.erased_at', 's.status'])
      .where('l.round_id', '=', roundId)
      .orderBy('l.position')
      .execute();
    return rows.map((r) => ({
      position: r.position,
      leafHash: r.leaf_hash,
      signatureId: r.signature_id,
      status: (r.status as SignatureStatus | null) ?? null,
      erased: r.erased_at !== null,
    }));
  }

  /**
   * The recipients a round's letter reached: their server accepted it (sent) and it did not bounce, and
   * they are still in the directory. In delivery order.
   */
  async reachedBy(roundId: number): Promise<ReachedRecipient[]> {
    const rows = await this.db
      .selectFrom('deliveries as d')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .select([
        'd.recipient_id',
        'd.recipient_name',
        'd.language',
        'm.to_address',
        'm.message_id',
        'm.reply_to',
      ])
      .where('d.delivery_round_id', '=', roundId)
      .where('d.recipient_id', 'is not', null)
      .where('m.status', '=', 'sent')
      .where('m.bounced_at', 'is', null)
      .orderBy('d.id')
      .execute();
    return rows.map((r) => ({
      recipientId: r.recipient_id!,
      recipientName: r.recipient_name,
      language: r.language,
      toAddress: r.to_address,
      messageId: r.message_id,
      replyTo: r.reply_to,
    }));
  }

  /**
   * Marks the leaves listing these signatures as erased on request, in the erasing transaction and before
   * the commitments unlink them: a correction then counts them as erased (errata), whereas leaves unlinked
   * otherwise (the retention job) still count.
   */
  async markErased(signatureIds: readonly number[], now: Date): Promise<void> {
    for (let i = 0; i < signatureIds.length; i += BATCH) {
      await this.db
        .updateTable('round_leaves')
        .set({ erased_at: now.toISOString() })
        .where('signature_id', 'in', signatureIds.slice(i, i + BATCH))
        .where('erased_at', 'is', null)
        .execute();
    }
  }

  /**
   * Takes the corrected round's row for this transaction (an update that changes nothing a reader
   * uses), so two corrections of one round are decided one after the other on both databases: the
   * second reads the first's list once it has committed.
   */
  async holdRound(roundId: number, now: Date): Promise<boolean> {
    const result = await this.db
      .updateTable('delivery_rounds')
      .set({ updated_at: now.toISOString() })
      .where('id', '=', roundId)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }
}
