import type { Executor } from '../db/database.js';

/** SQL for proof-of-work solutions already accepted: each challenge is accepted once. */
export class ProofOfWorkRepository {
  constructor(private readonly db: Executor) {}

  /**
   * Records a challenge as used; false when it already was. One statement, so two requests sending the
   * same solution at once cannot both pass (the primary key decides).
   */
  async markUsed(challengeId: string, expiresAtMs: number): Promise<boolean> {
    const inserted = await this.db
      .insertInto('proof_of_work_solutions')
      .values({ challenge_id: challengeId, expires_at_ms: expiresAtMs })
      .onConflict((oc) => oc.column('challenge_id').doNothing())
      .returning('challenge_id')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  /** Forgets solutions whose challenges have expired: they are refused as expired anyway. */
  async pruneExpired(nowMs: number): Promise<number> {
    const result = await this.db
      .deleteFrom('proof_of_work_solutions')
      .where('expires_at_ms', '<', nowMs)
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }
}
