import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { authorize } from '../policy/policy.js';
import type { LetterAccess } from './letter-access.js';
import { recordLetterStep } from './letter-access.js';
import type { EditorState, EditorStates } from './letter-editor-state.js';
import type { LetterRepository } from './letter-repository.js';

export interface LetterCollaboratorServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  users: UserRepository;
  access: LetterAccess;
  states: EditorStates;
  clock: Clock;
}

/** Sharing a letter with other accounts; only its owner or an admin may. */
export class LetterCollaboratorService {
  constructor(private readonly deps: LetterCollaboratorServiceDeps) {}

  /** Shares the letter with the account at `email`; an unknown or disabled one is refused with the editor's state. */
  async add(
    user: User,
    letterId: number,
    email: string,
  ): Promise<{ kind: 'added' } | { kind: 'unknown-account'; state: EditorState }> {
    const accessed = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.manage-collaborators', accessed.resource);
    const other = await this.deps.users.findByEmail(email.trim().toLowerCase());
    if (!other || other.disabled)
      return { kind: 'unknown-account', state: await this.deps.states.read(user, accessed) };
    const { letter } = accessed;
    // The owner is not their own collaborator; sharing twice changes nothing and records nothing.
    if (other.id === letter.ownerId) return { kind: 'added' };
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (await this.deps.letters.with(tx).addCollaborator(letter.id, other.id, now))
        await recordLetterStep(
          this.deps.audit,
          tx,
          user,
          'letter-collaborator-added',
          letter,
          { userId: other.id },
          now,
        );
    });
    return { kind: 'added' };
  }

  /** Stops sharing the letter with an account. */
  async remove(user: User, letterId: number, collaboratorId: number): Promise<void> {
    const { letter, resource } = await this.deps.access.forEdit(user, letterId);
    authorize(user, 'letter.manage-collaborators', resource);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (await this.deps.letters.with(tx).removeCollaborator(letter.id, collaboratorId))
        await recordLetterStep(
          this.deps.audit,
          tx,
          user,
          'letter-collaborator-removed',
          letter,
          { userId: collaboratorId },
          now,
        );
    });
  }
}
