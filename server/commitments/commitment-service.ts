import { randomBytes } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { publicName } from '../signatures/signature.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import {
  leafFieldsOf,
  type Commitment,
  type ConsistencyAnswer,
  type PublishedCommitment,
} from './commitment.js';
import type { CommitmentRepository } from './commitment-repository.js';
import { consistencyProof, leafHash, TreeBuilder } from './merkle.js';

/**
 * Signatories read, salted and hashed per page, and leaves written per statement, with a turn of the
 * event loop after each: a few milliseconds each, so 20,000 signatures never hold the process long.
 */
const PAGE = 250;

export interface CommitmentServiceDeps {
  db: Db;
  commitments: CommitmentRepository;
  signatures: SignatureRepository;
  clock: Clock;
}

/** What building a round's tree needs of the round (deliveries/ passes its DeliveryRound). */
export interface RoundToCommit {
  id: number;
  letterId: number;
  /** The list is the letter's signatures confirmed up to then, as the compile worker reads the annex. */
  createdAt: Date;
}

/** A new salt: 32 random bytes, as 64 lowercase hex digits. */
function newSalt(): string {
  return randomBytes(32).toString('hex');
}

/** The public commitment to each delivered list: its tree built once per round and stored. */
export class CommitmentService {
  constructor(private readonly deps: CommitmentServiceDeps) {}

  /**
   * The round's commitment, built and stored the first time it is asked for: leaves in annex order over
   * every signature the annex covers (named and counted unnamed), each with the signature's salt (made
   * now for those that have none). Idempotent: a resumed compile, or a second process, gets the stored
   * tree; a round that has one already (an erratum's) is left as it is. Read a page at a time with a turn
   * between; only the writing of the tree is one transaction.
   */
  async commitRound(round: RoundToCommit): Promise<Commitment> {
    const stored = await this.deps.commitments.find(round.id);
    if (stored) return stored;
    const leaves: { signatureId: number | null; leafHash: string }[] = [];
    const tree = new TreeBuilder();
    let after: { confirmedAt: string; id: number } | undefined;
    do {
      const page = await this.deps.signatures.annexRowsPage(round.letterId, round.createdAt, after, PAGE);
      await nextTurn();
      const salts = await this.saltsFor(page.rows.filter((r) => !r.anonymised).map((r) => r.id));
      await nextTurn();
      for (const row of page.rows) {
        // An erased person's leaf gets a salt nobody keeps: it is counted, and can never be opened.
        const salt = row.anonymised ? newSalt() : salts.get(row.id)!;
        const hash = leafHash(leafFieldsOf({ ...row, name: publicName(row) }, salt));
        tree.push(hash);
        leaves.push({ signatureId: row.anonymised ? null : row.id, leafHash: hash.toString('hex') });
      }
      after = page.next;
      await nextTurn();
    } while (after);
    const root = tree.root().toString('hex');
    const now = this.deps.clock.now();
    // One transaction, so the tree is stored whole or not at all; the turns between its statements let
    // the process answer meanwhile (on SQLite, queries wait for the connection until it commits).
    await this.deps.db.transaction().execute(async (tx) => {
      const commitments = this.deps.commitments.with(tx);
      const commitment = { roundId: round.id, treeSize: leaves.length, root, createdAt: now };
      if (!(await commitments.storeCommitment(commitment))) return;
      for (let from = 0; from < leaves.length; from += PAGE) {
        const batch = leaves.slice(from, from + PAGE);
        // An erasure since the page was read deleted that signature's salt, or came before its salt was
        // made (which made one for an erased person): either way its leaf keeps no salt and no link.
        const linked = batch.flatMap((leaf) => (leaf.signatureId === null ? [] : [leaf.signatureId]));
        await commitments.forgetErased(linked);
        const salted = await commitments.saltsOf(linked);
        await commitments.addLeaves(
          round.id,
          from,
          batch.map((leaf) =>
            leaf.signatureId === null || salted.has(leaf.signatureId) ? leaf : { ...leaf, signatureId: null },
          ),
        );
        await nextTurn();
      }
    });
    return (await this.deps.commitments.find(round.id))!;
  }

  /** The published commitments of a letter (rounds that reached a recipient), oldest first. */
  published(letterId: number): Promise<PublishedCommitment[]> {
    return this.deps.commitments.publishedOf(letterId);
  }

  /**
   * The proof that the list of round `fromRound` is a prefix of the list of round `toRound` (only
   * signatures added since), both published lists of the letter. Compared leaf by leaf first: a list
   * from which a signature was withdrawn, or whose names changed, is no extension and is refused (409),
   * never answered with a proof that cannot hold.
   */
  async consistency(letterId: number, fromRound: number, toRound: number): Promise<ConsistencyAnswer> {
    const published = await this.published(letterId);
    const from = published.find((c) => c.roundId === fromRound);
    const to = published.find((c) => c.roundId === toRound);
    if (!from || !to) throw notFound('commitment_not_found', 'commitments.errors.notFound');
    const params = { from: fromRound, to: toRound };
    if (from.treeSize === 0) throw new AppError(409, 'empty_list', 'commitments.errors.emptyList', params);
    const [earlier, later] = await Promise.all([
      this.deps.commitments.leafHashes(from.roundId),
      this.deps.commitments.leafHashes(to.roundId),
    ]);
    if (earlier.length > later.length || earlier.some((hash, i) => later[i] !== hash))
      throw new AppError(409, 'not_an_extension', 'commitments.errors.notAnExtension', params);
    const proof = consistencyProof(
      later.map((hash) => Buffer.from(hash, 'hex')),
      earlier.length,
    );
    const side = (c: PublishedCommitment) => ({ round: c.roundId, treeSize: c.treeSize, root: c.root });
    return { from: side(from), to: side(to), proof: proof.map((p) => p.toString('hex')) };
  }

  /** The salts of these signatures, made and stored for those that have none (another process's kept if first). */
  private async saltsFor(signatureIds: readonly number[]): Promise<Map<number, string>> {
    const salts = await this.deps.commitments.saltsOf(signatureIds);
    const missing = signatureIds.filter((id) => !salts.has(id));
    if (missing.length === 0) return salts;
    await this.deps.commitments.addSalts(missing.map((signatureId) => ({ signatureId, salt: newSalt() })));
    for (const [id, salt] of await this.deps.commitments.saltsOf(missing)) salts.set(id, salt);
    return salts;
  }
}
