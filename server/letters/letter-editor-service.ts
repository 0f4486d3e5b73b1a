import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import type { AuditAction } from '../audit/audit.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db, Tx } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import type { Recipient } from '../recipients/recipient.js';
import type { NewRecipient, RecipientRepository } from '../recipients/recipient-repository.js';
import { authorize, can, letterResource } from '../policy/policy.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { changesWaitForReview } from '../settings/settings.js';
import { publicName } from '../signatures/signature.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import {
  isComplete,
  pickLanguage,
  publishProblems,
  sameTexts,
  type Letter,
  type LetterText,
  type LetterVersion,
} from './letter.js';
import { diffVersions, type TranslationDiff } from './letter-diff.js';
import { dayValue } from '../lib/dates.js';
import { parseEditorForm, type EditorErrors, type EditorValues } from './letter-input.js';
import type { LetterDetails, LetterListItem, LetterRepository, PendingEdit } from './letter-repository.js';
import {
  checkLetterSizeForSave,
  checkLetterText,
  letterSizeErrors,
  type LetterTextProblem,
} from './letter-text-check.js';
import { renderLetter, type RenderedLetter } from './letter-text.js';
import { buildMergeFields, SAMPLE_COUNTRIES, SAMPLE_SIGNATORIES, recipientFields } from './merge-fields.js';
import { lastDays, type DayCount } from './signature-chart.js';

/** A letter to start from: the seed letters, shown as a gallery. */
export interface LetterTemplate {
  slug: string;
  primaryLanguage: string;
  translations: Record<string, { title: string; summary: string }>;
  bodies: Record<string, string>;
  recipients: (Omit<NewRecipient, 'country'> & { country?: string | undefined })[];
  sponsor: string;
  goal: number;
}

export interface LetterEditorServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  signatures: SignatureRepository;
  recipients: RecipientRepository;
  users: UserRepository;
  settings: SettingsRepository;
  clock: Clock;
  templates: () => LetterTemplate[];
  countryName: (code: string, language: string) => string;
}

/** Everything the editor shows for one letter. */
export interface EditorState {
  letter: Letter;
  texts: LetterText[];
  recipientIds: number[];
  directory: Recipient[];
  collaborators: User[];
  canManageCollaborators: boolean;
  /** Whether this account approves letters and changes waiting for review. */
  canReview: boolean;
  /** Whether this account's publishing and saving skip review. */
  canPublishUnreviewed: boolean;
  versionNumber: number;
  standingSignatures: number;
  requireReview: boolean;
  /** Changes to this published letter waiting for an admin's review; null when none wait. */
  pending: PendingChanges | null;
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

export type SaveOutcome =
  | { kind: 'saved'; letter: Letter; newVersion: number | null }
  /** Review is required and the letter is published: the changes wait for an admin; the public sees no change. */
  | { kind: 'held-for-review'; letter: Letter }
  | { kind: 'invalid'; errors: EditorErrors }
  | { kind: 'confirm-new-version'; signatures: number; nextVersion: number };

export type PreviewOutcome =
  | { kind: 'rendered'; rendered: RenderedLetter; recipient: Recipient | null; language: string }
  | { kind: 'problems'; problems: LetterTextProblem[]; language: string };

export type PublishOutcome =
  { kind: 'published' } | { kind: 'review-requested' } | { kind: 'not-ready'; problems: string[] };

export interface DashboardLetter extends LetterListItem {
  today: number;
  days: DayCount[];
}

/** How many days the organizer's chart covers. */
export const CHART_DAYS = 30;

/** The organizer's use cases: drafting, editing, previewing, publishing and closing letters. */
export class LetterEditorService {
  constructor(private readonly deps: LetterEditorServiceDeps) {}

  /** The letters a user may see: all for admins, their own and shared ones for organizers. */
  async list(user: User): Promise<LetterListItem[]> {
    return can(user, 'letter.list-all')
      ? this.deps.letters.listAll()
      : this.deps.letters.listForUser(user.id);
  }

  /** The dashboard: each letter with today's confirmed signatures and the last 30 days, per day. */
  async dashboard(user: User): Promise<{ letters: DashboardLetter[]; awaitingReview: LetterListItem[] }> {
    const letters = await this.list(user);
    const now = this.deps.clock.now();
    const since = new Date(
      Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - (CHART_DAYS - 1)),
    );
    const rows = await this.deps.signatures.confirmedPerDay(
      letters.map((l) => l.letter.id),
      since,
    );
    const today = now.toISOString().slice(0, 10);
    const result = letters.map((item) => {
      const counts = rows.filter((r) => r.letterId === item.letter.id);
      return {
        ...item,
        today: counts.find((r) => r.day === today)?.count ?? 0,
        days: lastDays(counts, now, CHART_DAYS),
      };
    });
    const awaitingReview = can(user, 'letter.list-awaiting-review')
      ? await this.deps.letters.listAwaitingReview()
      : [];
    return { letters: result, awaitingReview };
  }

  /**
   * The letter if the user may review it: 404 when it does not exist, 403 "admins only" otherwise (the
   * refusal says what would help: an admin, not the letter's owner).
   */
  private async forReview(user: User, letterId: number): Promise<Letter> {
    const letter = await this.deps.letters.findById(letterId);
    if (!letter) throw notFound('letter_not_found', 'errors.letter.notFound');
    authorize(
      user,
      'letter.review',
      letterResource(letter, await this.deps.letters.collaboratorIds(letterId)),
    );
    return letter;
  }

  /** The letter if the user may work on it: 404 when it does not exist, 403 when it is someone else's. */
  async access(user: User, letterId: number): Promise<{ letter: Letter; collaboratorIds: number[] }> {
    const letter = await this.deps.letters.findById(letterId);
    if (!letter) throw notFound('letter_not_found', 'errors.letter.notFound');
    const collaboratorIds = await this.deps.letters.collaboratorIds(letterId);
    authorize(user, 'letter.edit', letterResource(letter, collaboratorIds));
    return { letter, collaboratorIds };
  }

  /** Everything the editor page needs. */
  async editor(user: User, letterId: number): Promise<EditorState> {
    const { letter, collaboratorIds } = await this.access(user, letterId);
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
    const resource = letterResource(letter, collaboratorIds);
    const recipientIds = (recipients.get(letter.id) ?? []).map((r) => r.id);
    // Primary language first, then the others in a stable order.
    texts.sort(
      (a, b) =>
        Number(b.language === letter.primaryLanguage) - Number(a.language === letter.primaryLanguage) ||
        a.language.localeCompare(b.language),
    );
    return {
      letter,
      texts,
      recipientIds,
      directory,
      collaborators,
      canManageCollaborators: can(user, 'letter.manage-collaborators', resource),
      canReview: can(user, 'letter.review', resource),
      canPublishUnreviewed: can(user, 'letter.publish-unreviewed', resource),
      versionNumber: version?.number ?? 1,
      standingSignatures: [...standing.values()].reduce((a, b) => a + b, 0),
      requireReview: settings.requireReview,
      pending: pendingEdit
        ? await this.describePending(letter, texts, recipientIds, directory, pendingEdit)
        : null,
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

  /**
   * The form values of a stored letter, for the editor. When changes wait for review, the form shows
   * them: the organizer goes on from what they saved, and the admin sees what they approve.
   */
  valuesOf(
    state: Pick<EditorState, 'letter' | 'texts' | 'recipientIds'> & { pending?: PendingChanges | null },
  ): EditorValues {
    const edit = state.pending?.edit;
    const letter = edit ? { ...state.letter, ...edit.details } : state.letter;
    const texts = edit
      ? [...edit.texts].sort(
          (a, b) =>
            Number(b.language === letter.primaryLanguage) - Number(a.language === letter.primaryLanguage) ||
            a.language.localeCompare(b.language),
        )
      : state.texts;
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

  /** The directory, for the new-letter form. */
  async directory(): Promise<Recipient[]> {
    return this.deps.recipients.listAll();
  }

  /** Creates a draft from the new-letter form, owned by the user. */
  async create(
    user: User,
    values: EditorValues,
  ): Promise<{ kind: 'created'; letterId: number } | { kind: 'invalid'; errors: EditorErrors }> {
    const now = this.deps.clock.now();
    const parsed = parseEditorForm(values, { now });
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    const { details, texts, recipientIds } = parsed.input;
    // What the texts expand to at the goal (letter-size.ts): refused now rather than at delivery.
    const tooLarge = letterSizeErrors(texts, details.goal ?? 0, this.deps.countryName);
    if (tooLarge) return { kind: 'invalid', errors: tooLarge };
    return this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const errors = await this.checkReferences(
        letters,
        this.deps.recipients.with(tx),
        details.slug,
        undefined,
        recipientIds,
      );
      if (errors) return { kind: 'invalid', errors };
      const letterId = await letters.create(
        { ...details, status: 'draft', texts, recipientIds, ownerId: user.id },
        now,
      );
      return { kind: 'created', letterId };
    });
  }

  /** A new draft copied from a template, owned by the user, with a free slug and the template's recipients. */
  async createFromTemplate(user: User, templateSlug: string): Promise<number> {
    const template = this.deps.templates().find((t) => t.slug === templateSlug);
    if (!template) throw notFound('template_not_found', 'errors.page.notFound');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const recipients = this.deps.recipients.with(tx);
      let slug = `${template.slug}-draft`;
      for (let n = 2; await letters.slugTaken(slug); n += 1) slug = `${template.slug}-draft-${n}`;
      const recipientIds: number[] = [];
      for (const r of template.recipients)
        recipientIds.push(await recipients.findOrCreate({ ...r, country: r.country ?? null }, now));
      return letters.create(
        {
          slug,
          status: 'draft',
          primaryLanguage: template.primaryLanguage,
          sponsor: template.sponsor,
          goal: template.goal,
          opensAt: null,
          closesAt: null,
          texts: Object.entries(template.translations).map(([language, t]) => ({
            language,
            title: t.title,
            summary: t.summary,
            body: template.bodies[language] ?? '',
          })),
          recipientIds,
          ownerId: user.id,
        },
        now,
      );
    });
  }

  /** The gallery of templates. */
  templates(): LetterTemplate[] {
    return this.deps.templates();
  }

  /**
   * Saves the editor. A draft's text is changed in place; an open or closed letter's changed text
   * becomes a new version, and when people have already signed, only after the organizer confirms.
   * Slugs are fixed once a letter is published: links to it have been shared. When the platform
   * requires review and the account may not publish unreviewed, changes to a published letter wait for
   * an admin (`held-for-review`): the public page, signing and deliveries keep the approved version.
   */
  async save(
    user: User,
    letterId: number,
    values: EditorValues,
    confirmNewVersion: boolean,
  ): Promise<SaveOutcome> {
    const { letter, collaboratorIds } = await this.access(user, letterId);
    if (letter.status === 'delivered') throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
    const now = this.deps.clock.now();
    const parsed = parseEditorForm(values, {
      now,
      stored: { opensAt: letter.opensAt, closesAt: letter.closesAt },
    });
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    const { details, texts, recipientIds } = parsed.input;
    // What the texts expand to at the goal or today's count (letter-size.ts): refused now, not at delivery.
    const tooLarge = letterSizeErrors(
      texts,
      Math.max(letter.signatureCount, details.goal ?? 0),
      this.deps.countryName,
    );
    if (tooLarge) return { kind: 'invalid', errors: tooLarge };
    const mayPublishUnreviewed = can(
      user,
      'letter.publish-unreviewed',
      letterResource(letter, collaboratorIds),
    );
    return this.deps.db.transaction().execute(async (tx): Promise<SaveOutcome> => {
      const letters = this.deps.letters.with(tx);
      // Decided on the letter as it is inside the transaction, not as it was when the form was read:
      // it may have been published, delivered or approved since.
      const current = await letters.findById(letter.id);
      if (!current) throw notFound('letter_not_found', 'errors.letter.notFound');
      if (current.status === 'delivered')
        throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
      if (current.status !== 'draft' && details.slug !== current.slug) {
        return { kind: 'invalid', errors: { slug: [{ key: 'editor.errors.slugLocked' }] } };
      }
      if (
        current.status !== 'draft' &&
        !texts.some((t) => t.language === current.primaryLanguage && isComplete(t))
      ) {
        return {
          kind: 'invalid',
          errors: { primary_language: [{ key: 'editor.errors.primaryMustBeComplete' }] },
        };
      }
      const errors = await this.checkReferences(
        letters,
        this.deps.recipients.with(tx),
        details.slug,
        current.id,
        recipientIds,
      );
      if (errors) return { kind: 'invalid', errors };
      const approved = await letters.textsOfVersion(current.currentVersionId);
      const textsChanged = !sameTexts(approved, texts);
      if (textsChanged && current.status !== 'draft') {
        const standing = [
          ...(await this.deps.signatures.with(tx).countStandingByVersion(current.id)).values(),
        ].reduce((a, b) => a + b, 0);
        const versions = await letters.versions(current.id);
        const nextVersion = (versions[0]?.number ?? 1) + 1;
        if (standing > 0 && !confirmNewVersion)
          return { kind: 'confirm-new-version', signatures: standing, nextVersion };
      }
      const settings = await this.deps.settings.with(tx).read();
      if (changesWaitForReview(current.status !== 'draft', settings.requireReview, mayPublishUnreviewed)) {
        const listed = ((await letters.recipientsOfLetters([current.id])).get(current.id) ?? []).map(
          (r) => r.id,
        );
        const recipientsChanged = listed.join(',') !== recipientIds.join(',');
        const detailsChanged = changedDetails(current, details);
        if (!textsChanged && !recipientsChanged && detailsChanged.length === 0) {
          // Saved back to what was approved: nothing is left to review.
          await letters.clearPendingEdit(current.id);
          return { kind: 'saved', letter: current, newVersion: null };
        }
        if (
          !(await letters.holdEdit(
            current.id,
            current.status,
            { details, texts, recipientIds },
            user.id,
            now,
          ))
        )
          throw new AppError(409, 'letter_changed', 'errors.letterNotDraft');
        await this.recordLetterStep(
          tx,
          user,
          'letter-changes-submitted',
          current.id,
          {
            slug: current.slug,
            texts: textsChanged,
            recipients: recipientsChanged,
            settings: detailsChanged,
          },
          now,
        );
        return { kind: 'held-for-review', letter: current };
      }
      let newVersion: number | null = null;
      if (textsChanged) {
        if (current.status === 'draft') {
          // Compare-and-set: a draft's version is rewritten only while the letter is still a draft (no
          // one can have signed it); published meanwhile, the save is refused rather than rewrite a
          // signed text.
          if (!(await letters.claimInStatus(current.id, 'draft', now)))
            throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
          await letters.replaceTexts(current.currentVersionId, texts);
        } else {
          newVersion = (await letters.addVersion(current.id, texts, user.id, now)).number;
        }
      }
      await letters.updateDetails(current.id, details, now);
      await letters.setRecipients(current.id, recipientIds);
      // An account that may publish unreviewed saved over changes that were waiting (the form showed
      // them): its save is the review.
      if (current.pendingEditAt && (await letters.clearPendingEdit(current.id))) {
        await this.recordLetterStep(
          tx,
          user,
          'letter-changes-approved',
          current.id,
          { slug: current.slug, version: newVersion, bySaving: true },
          now,
        );
      }
      const saved = await letters.findById(current.id);
      return { kind: 'saved', letter: saved!, newVersion };
    });
  }

  /**
   * An admin approves the changes waiting on a published letter: they become what the public reads and
   * signs and what recipients receive. `seenAt` is when the changes the admin looked at were saved: a
   * newer edit is not approved unseen.
   */
  async approveChanges(user: User, letterId: number, seenAt: Date): Promise<{ newVersion: number | null }> {
    await this.forReview(user, letterId);
    if (Number.isNaN(seenAt.getTime())) throw new AppError(400, 'bad_request', 'errors.badRequest');
    const now = this.deps.clock.now();
    return this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const current = await letters.findById(letterId);
      const pending = await letters.pendingEdit(letterId);
      if (!current || !pending) throw new AppError(409, 'no_changes_waiting', 'policy.review.nothingWaiting');
      if (pending.at.getTime() !== seenAt.getTime())
        throw new AppError(409, 'changes_changed', 'policy.review.changedSince');
      if (current.status === 'delivered')
        throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
      if (!(await letters.clearPendingEdit(letterId, pending.at)))
        throw new AppError(409, 'changes_changed', 'policy.review.changedSince');
      let newVersion: number | null = null;
      if (!sameTexts(await letters.textsOfVersion(current.currentVersionId), pending.texts))
        newVersion = (await letters.addVersion(letterId, pending.texts, pending.by, now)).number;
      await letters.updateDetails(letterId, { ...pending.details, slug: current.slug }, now);
      // A recipient removed from the directory since the changes were saved is left out.
      const still = await this.deps.recipients.with(tx).findByIds(pending.recipientIds);
      await letters.setRecipients(
        letterId,
        still.map((r) => r.id),
      );
      await this.recordLetterStep(
        tx,
        user,
        'letter-changes-approved',
        letterId,
        { slug: current.slug, version: newVersion },
        now,
      );
      return { newVersion };
    });
  }

  /** An admin sends changes waiting for review back: the letter stays as approved. */
  async returnChanges(user: User, letterId: number): Promise<void> {
    const letter = await this.forReview(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.letters.with(tx).clearPendingEdit(letterId)))
        throw new AppError(409, 'no_changes_waiting', 'policy.review.nothingWaiting');
      await this.recordLetterStep(tx, user, 'letter-changes-returned', letterId, { slug: letter.slug }, now);
    });
  }

  /** Slug free and recipients known, or the errors to show (checked inside the saving transaction). */
  private async checkReferences(
    letters: LetterRepository,
    recipients: RecipientRepository,
    slug: string,
    letterId: number | undefined,
    recipientIds: number[],
  ): Promise<EditorErrors | undefined> {
    const errors: EditorErrors = {};
    if (await letters.slugTaken(slug, letterId)) errors.slug = [{ key: 'editor.errors.slugTaken' }];
    const found = await recipients.findByIds(recipientIds);
    if (found.length !== recipientIds.length) errors.recipients = [{ key: 'editor.errors.unknownRecipient' }];
    return Object.keys(errors).length > 0 ? errors : undefined;
  }

  /**
   * Renders the text being edited (saved or not) for one recipient in one language, with sample
   * signatories or the letter's real public ones. Nothing is saved.
   */
  async preview(
    user: User,
    letterId: number | undefined,
    values: EditorValues,
    options: {
      recipientId: number | undefined;
      language: string | undefined;
      signatories: 'sample' | 'real';
    },
  ): Promise<PreviewOutcome> {
    const letter = letterId === undefined ? undefined : (await this.access(user, letterId)).letter;
    const chosen =
      options.recipientId !== undefined && values.recipientIds.includes(options.recipientId)
        ? options.recipientId
        : values.recipientIds[0];
    const recipient = chosen === undefined ? null : ((await this.deps.recipients.findById(chosen)) ?? null);
    const language = pickLanguage(
      values.languages,
      options.language ?? recipient?.language,
      values.primaryLanguage,
    );
    const text = values.texts[language] ?? { title: '', summary: '', body: '' };
    const checked = checkLetterText(text.body);
    if (!checked.ok) return { kind: 'problems', problems: checked.problems, language };
    const tooLarge = checkLetterSizeForSave(
      text.body,
      language,
      Math.max(letter?.signatureCount ?? 0, letter?.goal ?? 0, Number(values.goal) || 0),
      this.deps.countryName,
    );
    if (tooLarge) return { kind: 'problems', problems: [tooLarge], language };

    let signatories: readonly { name: string; country: string }[] = SAMPLE_SIGNATORIES;
    let countries: readonly { code: string; count: number }[] = SAMPLE_COUNTRIES;
    let count = SAMPLE_COUNTRIES.reduce((sum, c) => sum + c.count, 0);
    if (options.signatories === 'real' && letter) {
      const recent = await this.deps.signatures.recentPublic(letter.id, 50);
      signatories = recent
        .map((s) => ({ name: publicName(s) ?? '', country: s.country }))
        .filter((s) => s.name !== '');
      countries = await this.deps.letters.countryCounts(letter.id);
      count = letter.signatureCount;
    }
    const organisations = values.organisations
      .split(/\r?\n/)
      .map((o) => o.trim())
      .filter((o) => o !== '');
    const rendered = renderLetter(
      text.body,
      buildMergeFields(
        {
          recipient: recipientFields(recipient),
          letterTitle: text.title,
          language,
          date: this.deps.clock.now(),
          signatureCount: count,
          countries,
          signatories,
          organisations,
        },
        this.deps.countryName,
      ),
    );
    return { kind: 'rendered', rendered, recipient, language };
  }

  /**
   * Publishes a draft. When the platform requires review, an organizer's publish asks an admin
   * instead; an admin's publish is the review.
   */
  async publish(user: User, letterId: number): Promise<PublishOutcome> {
    const { letter, collaboratorIds } = await this.access(user, letterId);
    if (letter.status !== 'draft') throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
    const now = this.deps.clock.now();
    const texts = await this.deps.letters.textsOfVersion(letter.currentVersionId);
    const recipients = (await this.deps.letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    const problems = publishProblems(letter, texts, recipients.length, now);
    if (problems.length > 0) return { kind: 'not-ready', problems };
    const settings = await this.deps.settings.read();
    if (
      settings.requireReview &&
      !can(user, 'letter.publish-unreviewed', letterResource(letter, collaboratorIds))
    ) {
      await this.deps.letters.setReviewRequested(letter.id, now);
      return { kind: 'review-requested' };
    }
    const opensAt = letter.opensAt && letter.opensAt > now ? letter.opensAt : now;
    await this.deps.db.transaction().execute(async (tx) => {
      // Compare-and-set: a second click, or an admin publishing at the same moment, publishes once.
      if (
        !(await this.deps.letters
          .with(tx)
          .transition(letter.id, 'draft', 'open', { publishedAt: now, opensAt }, now))
      ) {
        throw new AppError(409, 'letter_not_draft', 'errors.letterNotDraft');
      }
      await this.recordLetterStep(tx, user, 'letter-published', letter.id, { slug: letter.slug }, now);
    });
    return { kind: 'published' };
  }

  /** An admin sends a letter waiting for review back to its organizer. */
  async returnToDraft(user: User, letterId: number): Promise<void> {
    await this.forReview(user, letterId);
    await this.deps.letters.setReviewRequested(letterId, null);
  }

  /** Closes an open letter by hand: nobody can sign it any more. */
  async close(user: User, letterId: number): Promise<void> {
    const { letter } = await this.access(user, letterId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (
        letter.status !== 'open' ||
        !(await this.deps.letters.with(tx).transition(letter.id, 'open', 'closed', { closedAt: now }, now))
      ) {
        throw new AppError(409, 'letter_not_open', 'errors.letterNotOpen');
      }
      await this.recordLetterStep(tx, user, 'letter-closed', letter.id, { slug: letter.slug }, now);
    });
  }

  /** Reopens a closed letter whose closing date (if any) is still ahead. */
  async reopen(user: User, letterId: number): Promise<void> {
    const { letter } = await this.access(user, letterId);
    const now = this.deps.clock.now();
    if (letter.closesAt && letter.closesAt <= now)
      throw new AppError(409, 'letter_closing_date_passed', 'errors.letterClosingDatePassed');
    if (
      letter.status !== 'closed' ||
      !(await this.deps.letters.transition(letter.id, 'closed', 'open', { closedAt: null }, now))
    ) {
      throw new AppError(409, 'letter_not_closed', 'errors.letterNotClosed');
    }
  }

  /** Closes open letters past their closing date; the scheduler calls it every minute. */
  async closeDue(): Promise<number[]> {
    const now = this.deps.clock.now();
    // Also letters whose goal was lowered below their count: no confirmation comes to close them.
    return [...(await this.deps.letters.closeDue(now)), ...(await this.deps.letters.closeAtGoal(now))];
  }

  /** The version history, newest first, with who saved each, how many signed it, and its changes from the one before. */
  async history(
    user: User,
    letterId: number,
  ): Promise<{
    letter: Letter;
    versions: (LetterVersion & { author: string | null; signatures: number; diff: TranslationDiff[] })[];
  }> {
    const { letter } = await this.access(user, letterId);
    const versions = await this.deps.letters.versions(letter.id);
    const counts = await this.deps.signatures.countStandingByVersion(letter.id);
    const authors = new Map(
      (
        await this.deps.users.findByIds([
          ...new Set(versions.flatMap((v) => (v.createdBy ? [v.createdBy] : []))),
        ])
      ).map((u) => [u.id, u.email]),
    );
    const textsByVersion = await this.deps.letters.textsOfVersions(versions.map((v) => v.id));
    return {
      letter,
      versions: versions.map((version, index) => {
        const previous = versions[index + 1];
        const after = textsByVersion.get(version.id) ?? [];
        const before = previous ? (textsByVersion.get(previous.id) ?? []) : [];
        return {
          ...version,
          author: version.createdBy ? (authors.get(version.createdBy) ?? null) : null,
          signatures: counts.get(version.id) ?? 0,
          diff: previous ? diffVersions(before, after) : [],
        };
      }),
    };
  }

  /** Shares a letter with another account; only its owner or an admin may. */
  async addCollaborator(
    user: User,
    letterId: number,
    email: string,
  ): Promise<{ kind: 'added' } | { kind: 'unknown-account' }> {
    const { letter, collaboratorIds } = await this.access(user, letterId);
    authorize(user, 'letter.manage-collaborators', letterResource(letter, collaboratorIds));
    const other = await this.deps.users.findByEmail(email.trim().toLowerCase());
    if (!other || other.disabled) return { kind: 'unknown-account' };
    if (other.id !== letter.ownerId)
      await this.deps.letters.addCollaborator(letter.id, other.id, this.deps.clock.now());
    return { kind: 'added' };
  }

  async removeCollaborator(user: User, letterId: number, collaboratorId: number): Promise<void> {
    const { letter, collaboratorIds } = await this.access(user, letterId);
    authorize(user, 'letter.manage-collaborators', letterResource(letter, collaboratorIds));
    await this.deps.letters.removeCollaborator(letter.id, collaboratorId);
  }

  /** The audit entry of an organizer's or admin's step on one letter, in the step's own transaction. */
  private recordLetterStep(
    tx: Tx,
    user: Pick<User, 'id' | 'email'>,
    action: AuditAction,
    letterId: number,
    details: Record<string, unknown>,
    now: Date,
  ): Promise<void> {
    return this.deps.audit.with(tx).record(
      {
        actor: { id: user.id, email: user.email },
        action,
        targetType: 'letter',
        targetId: letterId,
        details,
      },
      now,
    );
  }
}

/** The settings (everything but texts and recipients) that an edit changes from the letter as it is. */
function changedDetails(letter: Letter, details: LetterDetails): (keyof LetterDetails)[] {
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
