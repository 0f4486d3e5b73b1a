import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { canConfirm } from '../letters/letter.js';
import { AppError, notFound } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import { isSuspect, statusOnRestoring, type SignatureStatus } from './signature.js';
import { moveSignature, moveSignatures, type SignatureMove } from './signature-moves.js';
import type {
  BulkCriteria,
  InvalidatedCriteria,
  ModerationFilters,
  ModerationRow,
  SignatureRepository,
  StandingSignature,
} from './signature-repository.js';

export interface ModerationServiceDeps {
  db: Db;
  signatures: SignatureRepository;
  letters: LetterRepository;
  audit: AuditRepository;
  clock: Clock;
}

/** How many signatures the moderation page shows at once. */
export const MODERATION_PAGE_SIZE = 50;

/** The largest bulk invalidation done in one go; a larger match asks the admin to narrow it. */
export const BULK_LIMIT = 50_000;

/** How many of the signatures a bulk invalidation would change its preview lists; the rest are counted. */
export const BULK_PREVIEW_ROWS = 50;

/** A summary of what a bulk invalidation would change, shown before it is confirmed. */
export interface BulkPreview {
  count: number;
  confirmed: number;
  pending: number;
  /** Those of them screening holds: a bulk clearing's count. */
  suspect: number;
  letters: number;
  /** The first BULK_PREVIEW_ROWS of them, oldest first, for the admin to see what they are. */
  rows: StandingSignature[];
  /** How many more there are than the rows listed. */
  more: number;
}

/**
 * Moderation: finding signatures, invalidating and restoring them one by one or in bulk. Invalidated
 * signatures leave counts, lists and annexes, but stay on record; restoring puts them back as they were.
 * Suspect signatures (silenced by screening) are found by a filter and cleared or invalidated here.
 * Every use case asserts the policy itself, whoever called it.
 */
/** What clearing a suspect signature did: counted it, left it waiting for its supporter, or too late to count. */
export type ClearOutcome = 'confirmed' | 'waiting' | 'too-late';

export class ModerationService {
  constructor(private readonly deps: ModerationServiceDeps) {}

  async search(
    user: User,
    filters: ModerationFilters,
    page: number,
  ): Promise<{ rows: ModerationRow[]; hasMore: boolean }> {
    authorize(user, 'signature.moderate');
    const rows = await this.deps.signatures.searchForModeration(
      filters,
      MODERATION_PAGE_SIZE + 1,
      page * MODERATION_PAGE_SIZE,
    );
    return { rows: rows.slice(0, MODERATION_PAGE_SIZE), hasMore: rows.length > MODERATION_PAGE_SIZE };
  }

  /**
   * The signature an invalidation's confirmation page shows, as the moderation list shows it; 404 if
   * there is none, 409 if it is not pending or confirmed any more.
   */
  async toInvalidate(user: User, id: number): Promise<ModerationRow> {
    authorize(user, 'signature.moderate');
    const [row] = await this.deps.signatures.searchForModeration({ id }, 1, 0);
    if (!row) throw notFound('signature_not_found', 'moderation.errors.notFound');
    if (row.status !== 'pending' && row.status !== 'confirmed')
      throw new AppError(409, 'signature_not_standing', 'moderation.errors.notStanding');
    return row;
  }

  /** Invalidates one pending or confirmed signature; a confirmed one leaves the counts in the same transaction. */
  async invalidate(user: User, id: number, reason: string): Promise<void> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const signature = await signatures.findById(id);
      if (!signature) throw notFound('signature_not_found', 'moderation.errors.notFound');
      if (signature.status !== 'pending' && signature.status !== 'confirmed') {
        throw new AppError(409, 'signature_not_standing', 'moderation.errors.notStanding');
      }
      const move = { id, from: signature.status, to: 'invalidated' as const, reason };
      if (!(await moveSignature(tx, this.deps, move, now))) {
        throw new AppError(409, 'signature_changed', 'moderation.errors.changed');
      }
      await this.deps.audit.with(tx).record(
        {
          actor: user,
          action: 'signature-invalidated',
          targetType: 'signature',
          targetId: id,
          details: { letter: signature.letterId, reason },
        },
        now,
      );
    });
  }

  /** Restores an invalidated signature to what it was; a confirmed one counts again. */
  async restore(user: User, id: number): Promise<void> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const signature = await signatures.findById(id);
      if (!signature) throw notFound('signature_not_found', 'moderation.errors.notFound');
      if (signature.status !== 'invalidated')
        throw new AppError(409, 'signature_not_invalidated', 'moderation.errors.notInvalidated');
      const before = statusOnRestoring(await signatures.statusBeforeInvalidation(id));
      if (!(await moveSignature(tx, this.deps, { id, from: 'invalidated', to: before }, now)))
        throw new AppError(409, 'signature_changed', 'moderation.errors.changed');
      await this.deps.audit.with(tx).record(
        {
          actor: user,
          action: 'signature-restored',
          targetType: 'signature',
          targetId: id,
          details: { letter: signature.letterId, to: before },
        },
        now,
      );
    });
  }

  /**
   * Clears a suspect signature: it then behaves as if screening had found nothing. If its supporter had
   * already clicked the confirmation link (and the letter still takes confirmations), it is confirmed
   * and counted now, in the same transaction; otherwise it waits for that click like any pending one,
   * unless its letter was delivered meanwhile: then it can no longer count ('too-late').
   */
  async clearSuspect(user: User, id: number): Promise<{ outcome: ClearOutcome }> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const signature = await signatures.findById(id);
      if (!signature) throw notFound('signature_not_found', 'moderation.errors.notFound');
      if (!isSuspect(signature))
        throw new AppError(409, 'signature_not_suspect', 'moderation.screening.errors.notSuspect');
      const cleared = await signatures.clearSuspect(id, now);
      if (!cleared) throw new AppError(409, 'signature_changed', 'moderation.errors.changed');
      const letter = await this.deps.letters.with(tx).findById(signature.letterId);
      let confirmed = false;
      if (countsOnClearing(cleared, letter !== undefined && canConfirm(letter))) {
        const move = { id, from: 'pending' as const, to: 'confirmed' as const };
        confirmed = (await moveSignature(tx, this.deps, move, now)) !== undefined;
      }
      await this.deps.audit.with(tx).record(
        {
          actor: user,
          action: 'signature-cleared',
          targetType: 'signature',
          targetId: id,
          details: { letter: signature.letterId, reasons: signature.suspectReasons, confirmed },
        },
        now,
      );
      const outcome: ClearOutcome = confirmed
        ? 'confirmed'
        : letter && !canConfirm(letter)
          ? 'too-late'
          : 'waiting';
      return { outcome };
    });
  }

  /** How many signatures a bulk invalidation would change; nothing changes yet. */
  async previewBulk(user: User, criteria: BulkCriteria): Promise<BulkPreview> {
    authorize(user, 'signature.moderate');
    return summarise(await this.deps.signatures.standingMatching(criteria));
  }

  /**
   * Invalidates every standing signature matching the criteria, in one transaction, with the counters
   * moved per letter and country. `expected` is the count the admin saw in the preview: if it changed
   * since, nothing is done and the admin sees the new preview. `batch` names this invalidation (its audit
   * entry), to restore it by.
   */
  async invalidateBulk(
    user: User,
    criteria: BulkCriteria,
    reason: string,
    expected: number,
  ): Promise<{ kind: 'done'; count: number; batch: number } | { kind: 'changed'; preview: BulkPreview }> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const matching = await signatures.standingMatching(criteria);
      if (matching.length !== expected) {
        return { kind: 'changed' as const, preview: summarise(matching) };
      }
      if (matching.length > BULK_LIMIT)
        throw new AppError(422, 'bulk_too_large', 'moderation.errors.bulkTooLarge', { count: BULK_LIMIT });
      // The counters move once per letter and country, by what really moved.
      await moveSignatures(
        tx,
        this.deps,
        matching.map((s) => ({ id: s.id, from: s.status, to: 'invalidated' as const, reason })),
        now,
      );
      const batch = await this.deps.audit.with(tx).record(
        {
          actor: user,
          action: 'signatures-bulk-invalidated',
          details: { count: matching.length, ...criteriaDetails(criteria), reason },
        },
        now,
      );
      return { kind: 'done' as const, count: matching.length, batch };
    });
  }

  /**
   * How many invalidated signatures a bulk restore would return, and to what; nothing changes yet. 404
   * if the criteria name a bulk invalidation that is not one.
   */
  async previewRestore(user: User, criteria: RestoreCriteria): Promise<BulkPreview> {
    authorize(user, 'signature.moderate');
    const invalidated = await this.invalidatedCriteria(this.deps.audit, criteria);
    return summarise(await this.deps.signatures.invalidatedMatching(invalidated));
  }

  /**
   * Restores every invalidated signature matching the criteria to what it was, in one transaction, as
   * restoring each would, with the counters moved once per letter and country. `expected` is the count
   * the admin saw in the preview: if it changed since (another tab restored them, say), nothing is done
   * and the admin sees the new preview. One audit entry records the restore.
   */
  async restoreBulk(
    user: User,
    criteria: RestoreCriteria,
    expected: number,
  ): Promise<{ kind: 'done'; count: number } | { kind: 'changed'; preview: BulkPreview }> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const audit = this.deps.audit.with(tx);
      const invalidated = await this.invalidatedCriteria(audit, criteria);
      const matching = await this.deps.signatures.with(tx).invalidatedMatching(invalidated);
      // Nothing left to restore is a change too: restored from another tab meanwhile.
      if (matching.length !== expected || matching.length === 0)
        return { kind: 'changed' as const, preview: summarise(matching) };
      if (matching.length > BULK_LIMIT)
        throw new AppError(422, 'bulk_too_large', 'moderation.errors.bulkTooLarge', { count: BULK_LIMIT });
      // Each row is listed as restoring leaves it: its status is the one it returns to.
      const moves = matching.map((s) => ({ id: s.id, from: 'invalidated' as const, to: s.status }));
      const moved = await moveSignatures(tx, this.deps, moves, now);
      await audit.record(
        {
          actor: user,
          action: 'signatures-bulk-restored',
          details: {
            count: moved.length,
            ...criteriaDetails(criteria),
            reason: criteria.reason ?? null,
            batch: criteria.batch ?? null,
          },
        },
        now,
      );
      return { kind: 'done' as const, count: moved.length };
    });
  }

  /**
   * A restore's criteria as the repository takes them: a bulk invalidation named by its audit entry
   * becomes the moment and reason all its signatures were invalidated at and for.
   */
  private async invalidatedCriteria(
    audit: AuditRepository,
    criteria: RestoreCriteria,
  ): Promise<InvalidatedCriteria> {
    const { batch, ...rest } = criteria;
    if (batch === undefined) return rest;
    const entry = await audit.findById(batch);
    const reason = entry?.details.reason;
    if (entry?.action !== 'signatures-bulk-invalidated' || typeof reason !== 'string')
      throw notFound('bulk_invalidation_not_found', 'moderation.restoreBulk.errors.batchNotFound');
    // A reason typed as well must be that batch's: otherwise the two select nothing together.
    return { ...rest, reason: rest.reason ?? reason, invalidatedAt: entry.at };
  }

  /**
   * Clears every signature screening holds among those matching the criteria (a household or an event on
   * one connection), as clearing each would: those whose supporter confirmed count now, the others once
   * confirmed; a letter already delivered takes none. `expected` is the count the preview showed: if it
   * changed since, nothing is done and the admin sees the new preview. Each is audited as cleared.
   */
  async clearBulk(
    user: User,
    criteria: BulkCriteria,
    expected: number,
  ): Promise<BulkClearing | { kind: 'changed'; preview: BulkPreview }> {
    authorize(user, 'signature.moderate');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const signatures = this.deps.signatures.with(tx);
      const matching = await signatures.standingMatching(criteria);
      const suspect = matching.filter((s) => s.suspect);
      if (suspect.length !== expected) return { kind: 'changed' as const, preview: summarise(matching) };
      if (suspect.length > BULK_LIMIT)
        throw new AppError(422, 'bulk_too_large', 'moderation.errors.bulkTooLarge', { count: BULK_LIMIT });
      const letters = this.deps.letters.with(tx);
      const confirmable = new Map<number, boolean>();
      const moves: SignatureMove[] = [];
      for (const signature of suspect) {
        const cleared = await signatures.clearSuspect(signature.id, now);
        if (!cleared) continue;
        if (!confirmable.has(signature.letterId)) {
          const letter = await letters.findById(signature.letterId);
          confirmable.set(signature.letterId, letter !== undefined && canConfirm(letter));
        }
        const confirms = countsOnClearing(cleared, confirmable.get(signature.letterId)!);
        if (confirms) moves.push({ id: signature.id, from: 'pending', to: 'confirmed' });
        await this.deps.audit.with(tx).record(
          {
            actor: user,
            action: 'signature-cleared',
            targetType: 'signature',
            targetId: signature.id,
            details: { letter: signature.letterId, bulk: true, confirmed: confirms },
          },
          now,
        );
      }
      // The counters move once per letter and country, by what really moved.
      const moved = await moveSignatures(tx, this.deps, moves, now);
      return { kind: 'done' as const, count: suspect.length, confirmed: moved.length };
    });
  }
}

/**
 * Whether a signature just cleared of suspicion counts now: still pending, its supporter already
 * pressed the link, and its letter still takes confirmations. One clearing and a bulk one decide alike.
 */
function countsOnClearing(
  cleared: { status: SignatureStatus; confirmRequestedAt: Date | null },
  letterConfirms: boolean,
): boolean {
  return cleared.status === 'pending' && cleared.confirmRequestedAt !== null && letterConfirms;
}

/** What a bulk clearing did: how many it cleared, and how many of those now count (their supporter had confirmed). */
export interface BulkClearing {
  kind: 'done';
  count: number;
  confirmed: number;
}

/** What a bulk restore selects by: a bulk invalidation's criteria, the reason given, one bulk invalidation. */
export interface RestoreCriteria extends BulkCriteria {
  /** The reason the signatures were invalidated for, exactly as given. */
  reason?: string | undefined;
  /** One bulk invalidation, by its audit entry's id. */
  batch?: number | undefined;
}

/** A bulk action's criteria as its audit entry records them. */
function criteriaDetails(criteria: BulkCriteria) {
  return {
    letter: criteria.letter ?? 'all',
    // An IP hash is shortened in the log: enough to tell runs apart, useless to anyone else.
    ipHash: criteria.ipHash ? `${criteria.ipHash.slice(0, 8)}…` : null,
    emailDomain: criteria.emailDomain ?? null,
    from: criteria.from?.toISOString() ?? null,
    to: criteria.to?.toISOString() ?? null,
  };
}

/** What a bulk action would change, for its preview. */
function summarise(matching: readonly StandingSignature[]): BulkPreview {
  return {
    count: matching.length,
    confirmed: matching.filter((s) => s.status === 'confirmed').length,
    pending: matching.filter((s) => s.status === 'pending').length,
    suspect: matching.filter((s) => s.suspect).length,
    letters: new Set(matching.map((s) => s.letterId)).size,
    rows: matching.slice(0, BULK_PREVIEW_ROWS),
    more: Math.max(0, matching.length - BULK_PREVIEW_ROWS),
  };
}
