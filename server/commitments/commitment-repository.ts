import type { Executor } from '../db/database.js';
import type { Commitment, PublishedCommitment } from './commitment.js';

/** Rows per insert statement: 500 leaves × 4 values stay far under both databases' parameter limits. */
const INSERT_BATCH = 500;

function toCommitment(row: {
  round_id: number;
  tree_size: number;
  root: string;
  corrects_round_id: number | null;
  created_at: string;
}): Commitment {
  return {
    roundId: row.round_id,
    treeSize: Number(row.tree_size),
    root: row.root,
    correctsRoundId: row.corrects_round_id,
    createdAt: new Date(row.created_at),
  };
}

/** SQL for delivered lists' commitments: signatures' salts (signature_salts), rounds' trees (round_commitments, round_leaves). */
export class CommitmentRepository {
  constructor(private readonly db: Executor) {}

  with(tx: Executor): CommitmentRepository {
    return new CommitmentRepository(tx);
  }

  /** The salts these signatures have (those without one are absent from the map). */
  async saltsOf(signatureIds: readonly number[]): Promise<Map<number, string>> {
    const salts = new Map<number, string>();
    for (let i = 0; i < signatureIds.length; i += INSERT_BATCH) {
      const rows = await this.db
        .selectFrom('signature_salts')
        .select(['signature_id', 'salt'])
        .where('signature_id', 'in', signatureIds.slice(i, i + INSERT_BATCH))
        .execute();
      for (const row of rows) salts.set(row.signature_id, row.salt);
    }
    return salts;
  }

  /** Stores salts for signatures that have none; one another process stored first is kept (the primary key decides). */
  async addSalts(salts: readonly { signatureId: number; salt: string }[]): Promise<void> {
    for (let i = 0; i < salts.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('signature_salts')
        .values(salts.slice(i, i + INSERT_BATCH).map((s) => ({ signature_id: s.signatureId, salt: s.salt })))
        .onConflict((oc) => oc.column('signature_id').doNothing())
        .execute();
    }
  }

  /**
   * Forgets erased signatures in every tree: their salts are deleted (their leaves stay, and can never be
   * opened) and their leaves no longer point at them. In the erasing transaction.
   */
  async forgetSignatures(signatureIds: readonly number[]): Promise<void> {
    for (let i = 0; i < signatureIds.length; i += INSERT_BATCH) {
      const slice = signatureIds.slice(i, i + INSERT_BATCH);
      await this.db.deleteFrom('signature_salts').where('signature_id', 'in', slice).execute();
      await this.db
        .updateTable('round_leaves')
        .set({ signature_id: null })
        .where('signature_id', 'in', slice)
        .execute();
    }
  }

  async find(roundId: number): Promise<Commitment | undefined> {
    const row = await this.db
      .selectFrom('round_commitments')
      .selectAll()
      .where('round_id', '=', roundId)
      .executeTakeFirst();
    return row ? toCommitment(row) : undefined;
  }

  /**
   * Stores a round's commitment row. False (and nothing written) when the round has one already: a
   * resumed compile, or another process, stored it first. In the transaction that then adds its leaves
   * (addLeaves), so a tree is never half stored.
   */
  async storeCommitment(
    commitment: Omit<Commitment, 'correctsRoundId'> & { correctsRoundId?: number | null },
  ): Promise<boolean> {
    const inserted = await this.db
      .insertInto('round_commitments')
      .values({
        round_id: commitment.roundId,
        tree_size: commitment.treeSize,
        root: commitment.root,
        corrects_round_id: commitment.correctsRoundId ?? null,
        created_at: commitment.createdAt.toISOString(),
      })
      .onConflict((oc) => oc.column('round_id').doNothing())
      .returning('round_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /**
   * Stores a round's tree whole: its commitment, then its leaves in order, in batches; false (nothing
   * written) when the round has one already. Call it in a transaction. (The erratum's correction trees
   * are stored so; a delivery's tree goes through storeCommitment and addLeaves with turns between.)
   */
  async store(
    commitment: Omit<Commitment, 'correctsRoundId'> & { correctsRoundId?: number | null },
    leaves: readonly { signatureId: number | null; leafHash: string }[],
  ): Promise<boolean> {
    if (!(await this.storeCommitment(commitment))) return false;
    for (let i = 0; i < leaves.length; i += INSERT_BATCH)
      await this.addLeaves(commitment.roundId, i, leaves.slice(i, i + INSERT_BATCH));
    return true;
  }

  /**
   * Deletes the salts of those of these signatures whose person was erased: an erasure between reading
   * a page and making its salts left a new salt for an erased person, which would let anyone holding the
   * database confirm a guess of their name against the leaf.
   */
  async forgetErased(signatureIds: readonly number[]): Promise<void> {
    if (signatureIds.length === 0) return;
    await this.db
      .deleteFrom('signature_salts')
      .where('signature_id', 'in', (eb) =>
        eb
          .selectFrom('signatures as s')
          .select('s.id')
          .where('s.id', 'in', signatureIds)
          .where('s.anonymised_at', 'is not', null),
      )
      .execute();
  }

  /** Adds a round's leaves from position `from` on, in order (at most a few hundred per call). */
  async addLeaves(
    roundId: number,
    from: number,
    leaves: readonly { signatureId: number | null; leafHash: string }[],
  ): Promise<void> {
    if (leaves.length === 0) return;
    await this.db
      .insertInto('round_leaves')
      .values(
        leaves.map((leaf, i) => ({
          round_id: roundId,
          position: from + i,
          signature_id: leaf.signatureId,
          leaf_hash: leaf.leafHash,
        })),
      )
      .execute();
  }

  /** A round's leaf hashes in order, as hex. */
  async leafHashes(roundId: number): Promise<string[]> {
    const rows = await this.db
      .selectFrom('round_leaves')
      .select('leaf_hash')
      .where('round_id', '=', roundId)
      .orderBy('position')
      .execute();
    return rows.map((r) => r.leaf_hash);
  }

  /** Where a signature is listed in a round's tree, or undefined when it is not (or no longer linked). */
  async leafOf(
    roundId: number,
    signatureId: number,
  ): Promise<{ position: number; leafHash: string } | undefined> {
    const row = await this.db
      .selectFrom('round_leaves')
      .select(['position', 'leaf_hash'])
      .where('round_id', '=', roundId)
      .where('signature_id', '=', signatureId)
      .executeTakeFirst();
    return row ? { position: row.position, leafHash: row.leaf_hash } : undefined;
  }

  /** The rounds whose trees list a signature, oldest first. */
  async roundsListing(signatureId: number): Promise<number[]> {
    const rows = await this.db
      .selectFrom('round_leaves')
      .select('round_id')
      .where('signature_id', '=', signatureId)
      .orderBy('round_id')
      .execute();
    return rows.map((r) => r.round_id);
  }

  /**
   * The commitments of a letter's rounds that reached a recipient (a letter of the round was sent),
   * oldest first, each with its round's kind and its first sending: what the record and the API publish.
   */
  async publishedOf(letterId: number): Promise<PublishedCommitment[]> {
    const rows = await this.db
      .selectFrom('round_commitments as c')
      .innerJoin('delivery_rounds as r', 'r.id', 'c.round_id')
      .innerJoin('deliveries as d', 'd.delivery_round_id', 'c.round_id')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .select((eb) => [
        'c.round_id',
        'c.tree_size',
        'c.root',
        'c.corrects_round_id',
        'c.created_at',
        'r.kind',
        eb.fn.min('m.sent_at').as('delivered_at'),
      ])
      .where('r.letter_id', '=', letterId)
      .where('m.status', '=', 'sent')
      .groupBy(['c.round_id', 'c.tree_size', 'c.root', 'c.corrects_round_id', 'c.created_at', 'r.kind'])
      .orderBy('c.round_id')
      .execute();
    return rows.map((row) => ({
      ...toCommitment(row),
      // A correction's round is an update made by an erratum: published as what it is.
      kind: row.corrects_round_id === null ? row.kind : 'correction',
      deliveredAt: new Date(row.delivered_at!),
    }));
  }
}
