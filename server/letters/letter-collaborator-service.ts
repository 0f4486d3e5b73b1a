import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db, Tx } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import { AppError } from '../lib/errors.js';
import { authorize, can } from '../policy/policy.js';
import type { LetterAccess, NamedLetter } from './letter-access.js';
import { recordLetterStep } from './letter-access.js';
import type { Letter } from './letter.js';
import type { EditorState, EditorStates } from './letter-editor-state.js';
import type { LetterRepository } from './letter-repository.js';
import type { ReviewedLetter } from './review-notices.js';

/** The e-mail a sharing sends, queued in its transaction (the mail kernel's ReviewNoticeMail implements it). */
export interface SharingNotices {
  /** Tells the account `userId` that `sharedBy` (an address) shared the letter with it. */
  sharedWith(tx: Tx, letter: ReviewedLetter, userId: number, sharedBy: string): Promise<void>;
}

/**
 * Why sharing refused an address: none typed, no such active account, the letter's own owner, or an
 * admin (who sees and edits every letter already: the e-mail would tell them nothing true).
 */
export type CollaboratorRefusal = 'missing' | 'not-an-address' | 'unknown-account' | 'owner' | 'admin';

export interface LetterCollaboratorServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  users: UserRepository;
  access: LetterAccess;
  states: EditorStates;
  notices: SharingNotices;
  clock: Clock;
}

/** Sharing a letter with other accounts; only its owner or an admin may. */
export class LetterCollaboratorService {
  constructor(private readonly deps: LetterCollaboratorServiceDeps) {}

  /**
   * Shares the letter with the account at `email`. No address, an unknown or disabled account, or the
   * letter's owner is refused with the editor's state, for the form to say which beside the field.
   */
  async add(
    user: User,
    letterId: number,
    email: string,
  ): Promise<
    { kind: 'added' | 'already' } | { kind: 'refused'; refusal: CollaboratorRefusal; state: EditorState }
  > {
    const accessed = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.manage-collaborators', accessed.resource);
    const refuse = async (refusal: CollaboratorRefusal) => ({
      kind: 'refused' as const,
      refusal,
      state: await this.deps.states.read(user, accessed),
    });
    const address = email.trim().toLowerCase();
    if (address === '') return refuse('missing');
    // "No account has this address" of something that is not an address sends one looking for an account.
    if (!looksLikeEmailAddress(address)) return refuse('not-an-address');
    const other = await this.deps.users.findByEmail(address);
    if (!other || other.disabled) return refuse('unknown-account');
    const { letter } = accessed;
    // The owner is not their own collaborator (they have the letter already); sharing twice changes
    // nothing and records nothing.
    if (other.id === letter.ownerId) return refuse('owner');
    if (can(other, 'letter.list-all')) return refuse('admin');
    // The e-mail names the letter by its heading, read before the transaction (not its texts' bodies).
    const named = await this.deps.access.forNotices(letter);
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.letters.with(tx).addCollaborator(letter.id, other.id, now)))
        return { kind: 'already' as const };
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-collaborator-added',
        letter,
        { userId: other.id },
        now,
      );
      // Told once, when it is shared: they would otherwise find it in their list by chance.
      await this.deps.notices.sharedWith(tx, named, other.id, user.email);
      return { kind: 'added' as const };
    });
  }

  /**
   * What the page asking "stop sharing?" shows: the letter and the account it is shared with; 404 when
   * it is not (any more), so nobody is asked to confirm a step that would change nothing.
   */
  async removal(
    user: User,
    letterId: number,
    collaboratorId: number,
    language: string,
  ): Promise<NamedLetter & { collaborator: User }> {
    const accessed = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.manage-collaborators', accessed.resource);
    const collaborator = accessed.collaboratorIds.includes(collaboratorId)
      ? (await this.deps.users.findByIds([collaboratorId]))[0]
      : undefined;
    if (!collaborator) throw new AppError(404, 'not_collaborator', 'editor.collaborators.notShared');
    return { ...(await this.deps.access.named(accessed.letter, language)), collaborator };
  }

  /**
   * Stops sharing the letter with an account: true, or false when it was not shared with it (a second
   * press, or another organizer was quicker), which changes and records nothing.
   */
  async remove(user: User, letterId: number, collaboratorId: number): Promise<boolean> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.manage-collaborators', resource);
    return this.unshare(user, letter, collaboratorId);
  }

  /** What the page asking a collaborator "leave this letter?" shows; 403 for anyone it is not shared with. */
  async leaving(user: User, letterId: number, language: string): Promise<NamedLetter> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.leave', resource);
    return this.deps.access.named(letter, language);
  }

  /**
   * A collaborator stops working on a letter shared with them: it leaves their lists, and only its
   * owner (or an admin) can share it with them again. Recorded as their own step, not a removal.
   */
  async leave(user: User, letterId: number): Promise<void> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.leave', resource);
    await this.unshare(user, letter, user.id, 'letter-collaborator-left');
  }

  private async unshare(
    user: User,
    letter: Letter,
    collaboratorId: number,
    action: 'letter-collaborator-removed' | 'letter-collaborator-left' = 'letter-collaborator-removed',
  ): Promise<boolean> {
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.letters.with(tx).removeCollaborator(letter.id, collaboratorId))) return false;
      await recordLetterStep(this.deps.audit, tx, user, action, letter, { userId: collaboratorId }, now);
      return true;
    });
  }
}
