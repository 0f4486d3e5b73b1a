import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import { dayValue } from '../lib/dates.js';
import { can } from '../policy/policy.js';
import type { Recipient } from '../recipients/recipient.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { isDeletable, type Letter, type LetterText } from './letter.js';
import type { AccessedLetter } from './letter-access.js';
import { diffVersions, type TranslationDiff } from './letter-diff.js';
import type { EditorValues } from './letter-input.js';
import type { LetterDetails, LetterRepository, PendingEdit } from './letter-repository.js';
import type { SignatureFigures } from './signature-figures.js';

/** Everything the editor shows for one letter. */
export interface EditorState {
  letter: Letter;
  texts: LetterText[];
  recipientIds: number[];
  directory: Recipient[];
  collaborators: User[];
  canManageCollaborators: boolean;
  /** Whether the letter is shared with this account, which may stop working on it. */
  canLeave: boolean;
  /** Whether this account may delete the letter: a draft never published, its owner or an admin. */
  canDelete: boolean;
  /** Whether this account approves letters and changes waiting for review. */
  canReview: boolean;
  /** Whether this account may take back the review request the draft waits on (none waiting: false). */
  canWithdrawReview: boolean;
  /** Whether this account's publishing and saving skip review. */
  canPublishUnreviewed: boolean;
  versionNumber: number;
  standingSignatures: number;
  requireReview: boolean;
  /** Changes to this published letter waiting for an admin's review; null when none wait. */
  pending: PendingChanges | null;
  /** Message keys of what the letter's delivery settings need from it (e.g. a closing date); [] when nothing. */
  deliveryWarnings: string[];
}

/**
 * What the letter's delivery settings need from the letter itself (deliveries implement it): a mode
 * that waits for a closing date the letter no longer has. Message keys; [] when nothing is missing.
 */
export interface DeliveryNeeds {
  warningsFor(letter: Letter): Promise<string[]>;
}

/** Changes waiting for review, with how they differ from the approved letter. */
export interface PendingChanges {
  edit: PendingEdit;
  author: string | null;
  diff: TranslationDiff[];
  recipientsAdded: Recipient[];
  recipientsRemoved: Recipient[];
  /** Names of the settings that change (sponsor, goal, dates, organisations). */
  detailsChanged: (keyof LetterDetails)[];
}

/** What the editor form is shown with: the directory, and the letter's state when it exists already. */
export interface EditorContext {
  directory: Recipient[];
  state: EditorState | null;
}

export interface EditorStatesDeps {
  letters: LetterRepository;
  recipients: RecipientRepository;
  users: UserRepository;
  settings: SettingsRepository;
  signatures: SignatureFigures;
  deliveryNeeds?: DeliveryNeeds;
}

/** Reads the editor's state of a letter the account was already allowed to reach (see LetterAccess). */
export class EditorStates {
  constructor(private readonly deps: EditorStatesDeps) {}

  /** Everything the editor page needs. */
  async read(user: User, { letter, collaboratorIds, resource }: AccessedLetter): Promise<EditorState> {
    const [texts, recipients, directory, collaborators, version, standing, settings, pendingEdit] =
      await Promise.all([
        this.deps.letters.textsOfVersion(letter.currentVersionId),
        this.deps.letters.recipientsOfLetters([letter.id]),
        this.deps.recipients.listAll(),
        this.deps.users.findByIds(collaboratorIds),
        this.deps.letters.findVersion(letter.currentVersionId),
        this.deps.signatures.countStandingByVersion(letter.id),
        this.deps.settings.read(),
        this.deps.letters.pendingEdit(letter.id),
      ]);
    const recipientIds = (recipients.get(letter.id) ?? []).map((r) => r.id);
    const deliveryWarnings = (await this.deps.deliveryNeeds?.warningsFor(letter)) ?? [];
    return {
      letter,
      texts: primaryFirst(texts, letter.primaryLanguage),
      recipientIds,
      directory,
      collaborators,
      canManageCollaborators: can(user, 'letter.manage-collaborators', resource),
      canLeave: can(user, 'letter.leave', resource),
      canDelete: isDeletable(letter) && can(user, 'letter.delete-draft', resource),
      canReview: can(user, 'letter.review', resource),
      canWithdrawReview:
        letter.status === 'draft' &&
        letter.reviewRequestedAt !== null &&
        can(user, 'letter.withdraw-review', resource),
      canPublishUnreviewed: can(user, 'letter.publish-unreviewed', resource),
      versionNumber: version?.number ?? 1,
      standingSignatures: [...standing.values()].reduce((a, b) => a + b, 0),
      requireReview: settings.requireReview,
      pending: pendingEdit
        ? await this.describePending(letter, texts, recipientIds, directory, pendingEdit)
        : null,
      deliveryWarnings,
    };
  }

  /** How waiting changes differ from the approved letter, for the organizer and the reviewing admin. */
  private async describePending(
    letter: Letter,
    texts: LetterText[],
    recipientIds: number[],
    directory: Recipient[],
    edit: PendingEdit,
  ): Promise<PendingChanges> {
    const author = edit.by === null ? [] : await this.deps.users.findByIds([edit.by]);
    const byId = new Map(directory.map((r) => [r.id, r]));
    const listed = (ids: number[]) => ids.flatMap((id) => byId.get(id) ?? []);
    return {
      edit,
      author: author[0]?.email ?? null,
      diff: diffVersions(texts, edit.texts).filter((d) => d.change !== 'unchanged'),
      recipientsAdded: listed(edit.recipientIds.filter((id) => !recipientIds.includes(id))),
      recipientsRemoved: listed(recipientIds.filter((id) => !edit.recipientIds.includes(id))),
      detailsChanged: changedDetails(letter, edit.details),
    };
  }
}

/** Primary language first, then the others in a stable order. */
function primaryFirst<T extends { language: string }>(texts: readonly T[], primary: string): T[] {
  return [...texts].sort(
    (a, b) =>
      Number(b.language === primary) - Number(a.language === primary) || a.language.localeCompare(b.language),
  );
}

/**
 * The form values of a stored letter, for the editor. When changes wait for review, the form shows
 * them: the organizer goes on from what they saved, and the admin sees what they approve.
 */
export function valuesOf(
  state: Pick<EditorState, 'letter' | 'texts' | 'recipientIds'> & { pending?: PendingChanges | null },
): EditorValues {
  const edit = state.pending?.edit;
  const letter = edit ? { ...state.letter, ...edit.details } : state.letter;
  const texts = edit ? primaryFirst(edit.texts, letter.primaryLanguage) : state.texts;
  return {
    slug: letter.slug,
    primaryLanguage: letter.primaryLanguage,
    sponsor: letter.sponsor,
    goal: letter.goal === null ? '' : String(letter.goal),
    closeOnGoal: letter.closeOnGoal,
    opensAt: dayValue(letter.opensAt),
    closesAt: dayValue(letter.closesAt),
    organisations: letter.organisations.join('\n'),
    recipientIds: edit ? edit.recipientIds : state.recipientIds,
    languages: texts.map((t) => t.language),
    texts: Object.fromEntries(
      texts.map((t) => [t.language, { title: t.title, summary: t.summary, body: t.body }]),
    ),
  };
}

/** The settings (everything but texts and recipients) that an edit changes from the letter as it is. */
export function changedDetails(letter: Letter, details: LetterDetails): (keyof LetterDetails)[] {
  const time = (d: Date | null) => d?.getTime() ?? null;
  const same: { [K in keyof LetterDetails]: boolean } = {
    slug: letter.slug === details.slug,
    primaryLanguage: letter.primaryLanguage === details.primaryLanguage,
    sponsor: letter.sponsor === details.sponsor,
    goal: letter.goal === details.goal,
    closeOnGoal: letter.closeOnGoal === details.closeOnGoal,
    opensAt: time(letter.opensAt) === time(details.opensAt),
    closesAt: time(letter.closesAt) === time(details.closesAt),
    organisations: letter.organisations.join('\n') === details.organisations.join('\n'),
  };
  return (Object.keys(same) as (keyof LetterDetails)[]).filter((key) => !same[key]);
}
