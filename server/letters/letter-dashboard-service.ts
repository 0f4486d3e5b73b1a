import type { User } from '../accounts/account.js';
import type { Clock } from '../lib/clock.js';
import { can } from '../policy/policy.js';
import type { LetterListItem, LetterRepository } from './letter-repository.js';
import type { SignatureFigures } from './signature-figures.js';
import { lastDays, type DayCount } from './signature-chart.js';

export interface LetterDashboardServiceDeps {
  letters: LetterRepository;
  signatures: SignatureFigures;
  clock: Clock;
}

export interface DashboardLetter extends LetterListItem {
  today: number;
  days: DayCount[];
  /** Signatures held by screening: not counted until an admin clears them. */
  held: number;
}

/** How many days the organizer's chart covers. */
export const CHART_DAYS = 30;

/** The organizer's overview: the letters an account may see, and how their signatures come in. */
export class LetterDashboardService {
  constructor(private readonly deps: LetterDashboardServiceDeps) {}

  /**
   * The letters a user may see: all for admins, their own and shared ones for organizers; each titled in
   * the reader's language where the letter has a text in it.
   */
  async list(user: User, language: string): Promise<LetterListItem[]> {
    return can(user, 'letter.list-all')
      ? this.deps.letters.listAll(language)
      : this.deps.letters.listForUser(user.id, language);
  }

  /** The dashboard: each letter with today's confirmed signatures and the last 30 days, per day. */
  async dashboard(
    user: User,
    language: string,
  ): Promise<{
    letters: DashboardLetter[];
    awaitingReview: LetterListItem[];
    seesAllLetters: boolean;
    heldForModeration: number;
  }> {
    const letters = await this.list(user, language);
    const now = this.deps.clock.now();
    const since = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (CHART_DAYS - 1)),
    );
    const rows = await this.deps.signatures.confirmedPerDay(
      letters.map((l) => l.letter.id),
      since,
    );
    const held = await this.deps.signatures.heldPerLetter(letters.map((l) => l.letter.id));
    const today = now.toISOString().slice(0, 10);
    const result = letters.map((item) => {
      const counts = rows.filter((r) => r.letterId === item.letter.id);
      return {
        ...item,
        today: counts.find((r) => r.day === today)?.count ?? 0,
        days: lastDays(counts, now, CHART_DAYS),
        held: held.get(item.letter.id) ?? 0,
      };
    });
    const awaitingReview = can(user, 'letter.list-awaiting-review')
      ? await this.deps.letters.listAwaitingReview(language)
      : [];
    return {
      letters: result,
      awaitingReview,
      seesAllLetters: can(user, 'letter.list-all'),
      // Every held signature, for the admins who clear them: they see every letter.
      heldForModeration: can(user, 'signature.moderate') ? result.reduce((sum, l) => sum + l.held, 0) : 0,
    };
  }
}
