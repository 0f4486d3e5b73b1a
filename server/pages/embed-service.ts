import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Letter } from '../letters/letter.js';
import { recordLetterStep, type LetterAccess } from '../letters/letter-access.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { parseEmbedOrigins, type OriginsRefusal } from './embed-origins.js';

export interface EmbedServiceDeps {
  db: Db;
  access: LetterAccess;
  letters: LetterRepository;
  audit: AuditRepository;
  clock: Clock;
}

/** What the organizer's embed page shows: the letter and its title in its first language. */
export interface EmbedSettings {
  letter: Letter;
  /** Each text's title, by language (complete or not, as the editor shows them). */
  titles: Record<string, string>;
}

/**
 * The organizer's side of a letter's embed: the snippet to paste and the sites allowed to frame it.
 * Whoever may edit the letter may change them (policy `letter.edit`, asserted here); each change is audited.
 */
export class EmbedService {
  constructor(private readonly deps: EmbedServiceDeps) {}

  async settings(user: User, letterId: number): Promise<EmbedSettings> {
    const { letter } = await this.deps.access.forEdit(user, letterId);
    const texts = await this.deps.letters.textsOfVersion(letter.currentVersionId);
    return { letter, titles: Object.fromEntries(texts.map((text) => [text.language, text.title])) };
  }

  /** Saves the list, or says which entry is refused and why (nothing saved). */
  async saveOrigins(
    user: User,
    letterId: number,
    input: string,
  ): Promise<{ kind: 'saved' } | { kind: 'invalid'; refusal: OriginsRefusal; settings: EmbedSettings }> {
    const parsed = parseEmbedOrigins(input);
    if (!parsed.ok)
      return { kind: 'invalid', refusal: parsed.refusal, settings: await this.settings(user, letterId) };
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const { letter } = await this.deps.access.forEdit(user, letterId, letters);
      await letters.setEmbedOrigins(letter.id, parsed.origins, now);
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-embed-changed',
        letter,
        { origins: parsed.origins },
        now,
      );
    });
    return { kind: 'saved' };
  }
}
