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
   * Stores a round's tree: its commitment, then its leaves in order, in batches. False (and nothing
   * written) when the round has one already: a resumed compile, or another process, stored it first.
   * Call it in a transaction, so a tree is never half stored.
   */
  async store(
    commitment: Omit<Commitment, 'correctsRoundId'> & { correctsRoundId?: number | null },
    leaves: readonly { signatureId: number | null; leafHash: string }[],
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
    if (!inserted) return false;
    for (let i = 0; i < leaves.length; i += INSERT_BATCH) {
      await this.db
        .insertInto('round_leaves')
        .values(
          leaves.slice(i, i + INSERT_BATCH).map((leaf, j) => ({
            round_id: commitment.roundId,
            position: i + j,
            signature_id: leaf.signatureId,
            leaf_hash: leaf.leafHash,
          })),
        )
        .execute();
    }
    return true;
  }

  /**
   * Deletes the salts of the signatures this round's leaves link whose person was erased meanwhile: an
   * erasure between reading a page and making its salts left a new salt for an erased person, which
   * would let anyone holding the database confirm a guess of their name against the leaf.
   */
  async forgetErasedIn(roundId: number): Promise<void> {
    await this.db
      .deleteFrom('signature_salts')
      .where('signature_id', 'in', (eb) =>
        eb
          .selectFrom('round_leaves as l')
          .innerJoin('signatures as s', 's.id', 'l.signature_id')
          .select('l.signature_id')
          .where('l.round_id', '=', roundId)
          .where('s.anonymised_at', 'is not', null),
      )
      .execute();
  }

  /** Unlinks the round's leaves whose signature has no salt any more (erased while the tree was built). */
  async unlinkUnsalted(roundId: number): Promise<void> {
    await this.db
      .updateTable('round_leaves')
      .set({ signature_id: null })
      .where('round_id', '=', roundId)
      .where('signature_id', 'is not', null)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('signature_salts as s')
              .select('s.signature_id')
              .whereRef('s.signature_id', '=', 'round_leaves.signature_id'),
          ),
        ),
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
