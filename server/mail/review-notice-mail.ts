import type { User } from '../accounts/account.js';
import type { Tx } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { PRIORITY } from '../outbox/outbox.js';
import { can } from '../policy/policy.js';
import type { PlatformMail } from './platform-mail.js';

/** The letter a notice is about (structurally the letters slice's ReviewedLetter). */
interface NoticeLetter {
  id: number;
  slug: string;
  /** Its title for an account reading `language`. */
  titleIn(language: string): string;
}

type ReviewKind = 'letter' | 'changes';

/** The accounts that can log in, read in the caller's transaction (the users repository). */
export interface ActiveAccounts {
  with(tx: Tx): { listActive(): Promise<User[]> };
}

/**
 * Who works on a letter, read in the caller's transaction. A port: the letters repository satisfies it
 * without the mail kernel importing the letters slice.
 */
export interface LetterTeam {
  with(tx: Tx): {
    findById(id: number): Promise<{ ownerId: number | null } | undefined>;
    collaboratorIds(letterId: number): Promise<number[]>;
  };
}

export interface ReviewNoticeMailDeps {
  mail: PlatformMail;
  accounts: ActiveAccounts;
  letters: LetterTeam;
  clock: Clock;
}

/**
 * The e-mails of a letter's review and sharing (letters' ReviewNotices and SharingNotices ports, wired
 * in wiring.ts): admins hear that a letter or a change waits for them; the letter's owner and
 * collaborators hear what the review decided; an account a letter is shared with hears it. Sent to account addresses that can log in (never disabled or still-invited accounts), one
 * each, queued in the review step's own transaction, so a step that fails sends nothing.
 */
export class ReviewNoticeMail {
  constructor(private readonly deps: ReviewNoticeMailDeps) {}

  /** Tells every admin who reviews letters that this letter (or a change to it) waits for them. */
  async awaitingReview(tx: Tx, letter: NoticeLetter, kind: ReviewKind): Promise<void> {
    await this.queue(
      tx,
      await this.reviewers(tx),
      (language) => ({
        letterTitle: letter.titleIn(language),
        changes: kind === 'changes',
        editorUrl: this.deps.mail.links.editorUrl(letter.id, language),
      }),
      'letter-review-requested',
      `subject.${kind}`,
    );
  }

  /** Tells the admins who were asked to review a draft that its organizers withdrew the request. */
  async withdrawn(tx: Tx, letter: NoticeLetter): Promise<void> {
    await this.queue(
      tx,
      await this.reviewers(tx),
      (language) => ({
        letterTitle: letter.titleIn(language),
        editorUrl: this.deps.mail.links.editorUrl(letter.id, language),
      }),
      'letter-review-withdrawn',
      'subject',
    );
  }

  /** Tells the letter's owner and collaborators that the review approved or returned it. */
  async reviewed(
    tx: Tx,
    letter: NoticeLetter,
    outcome: 'approved' | 'returned',
    kind: ReviewKind,
    /** What the admin wrote when sending it back ('' for nothing). */
    note = '',
  ): Promise<void> {
    const letters = this.deps.letters.with(tx);
    const found = await letters.findById(letter.id);
    const team = new Set([
      ...(await letters.collaboratorIds(letter.id)),
      ...(found?.ownerId ? [found.ownerId] : []),
    ]);
    const organizers = (await this.deps.accounts.with(tx).listActive()).filter((user) => team.has(user.id));
    const links = this.deps.mail.links;
    await this.queue(
      tx,
      organizers,
      (language) => ({
        letterTitle: letter.titleIn(language),
        approved: outcome === 'approved',
        note,
        headingKey: `emails.letter-review-outcome.heading.${kind}.${outcome}`,
        bodyKey: `emails.letter-review-outcome.body.${kind}.${outcome}`,
        letterUrl: links.letterUrl(letter.slug, { interface: language }),
        editorUrl: links.editorUrl(letter.id, language),
      }),
      'letter-review-outcome',
      `subject.${kind}.${outcome}`,
    );
  }

  /** Tells the account a letter was just shared with that it can work on it now, and who shared it. */
  async sharedWith(tx: Tx, letter: NoticeLetter, userId: number, sharedBy: string): Promise<void> {
    const to = (await this.deps.accounts.with(tx).listActive()).filter((user) => user.id === userId);
    await this.queue(
      tx,
      to,
      (language) => ({
        letterTitle: letter.titleIn(language),
        sharedBy,
        editorUrl: this.deps.mail.links.editorUrl(letter.id, language),
      }),
      'letter-shared',
      'subject',
    );
  }

  /** The accounts that review letters: those told when one waits, or no longer does. */
  private async reviewers(tx: Tx): Promise<User[]> {
    return (await this.deps.accounts.with(tx).listActive()).filter((user) =>
      can(user, 'letter.list-awaiting-review'),
    );
  }

  private async queue(
    tx: Tx,
    to: readonly User[],
    /** What the template reads, for an account's language (its links open pages in it). */
    context: (language: string) => Record<string, unknown>,
    template:
      'letter-review-requested' | 'letter-review-withdrawn' | 'letter-review-outcome' | 'letter-shared',
    subjectKey: string,
  ): Promise<void> {
    const now = this.deps.clock.now();
    let last: number | undefined;
    // One each, even when an account is both the owner and a collaborator (the set above) or listed
    // twice; each in its account's language.
    const accounts = new Map(to.map((user) => [user.email, user]));
    for (const [address, user] of accounts) {
      last = await this.deps.mail.toAccount(
        tx,
        {
          template,
          to: address,
          language: user.language,
          context: context(user.language),
          priority: PRIORITY.notification,
          subjectKey,
        },
        now,
      );
    }
    // The caller ends the transaction: the worker is woken once these can be seen (or polls for them).
    if (last !== undefined) this.deps.mail.wakeOnceCommitted(last);
  }
}
