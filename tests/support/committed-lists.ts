import { treeRoot } from '../../server/commitments/merkle.js';
import type { Db } from '../../server/db/database.js';

/**
 * Stores a published list for a round straight in the tables (round_commitments, round_leaves), as the
 * commitments' builder leaves it: these leaf hashes in order, each with the signature it lists (null:
 * unlinked). Returns the root, 64 hex digits.
 */
export async function commitList(
  db: Db,
  roundId: number,
  leaves: readonly { signatureId: number | null; leafHash: string }[],
  at: Date,
): Promise<string> {
  const root = treeRoot(leaves.map((l) => Buffer.from(l.leafHash, 'hex'))).toString('hex');
  await db
    .insertInto('round_commitments')
    .values({
      round_id: roundId,
      tree_size: leaves.length,
      root,
      corrects_round_id: null,
      created_at: at.toISOString(),
    })
    .execute();
  for (const [position, leaf] of leaves.entries())
    await db
      .insertInto('round_leaves')
      .values({ round_id: roundId, position, signature_id: leaf.signatureId, leaf_hash: leaf.leafHash })
      .execute();
  return root;
}
