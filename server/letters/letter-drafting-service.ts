import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db, Tx } from '../db/database.js';
import { isUniqueViolation } from '../db/dialect.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import type { Recipient } from '../recipients/recipient.js';
import type { NewRecipient, RecipientRepository } from '../recipients/recipient-repository.js';
import { can } from '../policy/policy.js';
import type { SettingsRepository } from '../settings/settings-repository.js';
import { changesWaitForReview } from '../settings/settings.js';
import { isComplete, sameTexts, type Letter, type LetterVersion } from './letter.js';
import type { LetterAccess } from './letter-access.js';
import { recordLetterStep } from './letter-access.js';
import { diffVersions, type TranslationDiff } from './letter-diff.js';
import type { EditorStates } from './letter-editor-state.js';
import { changedDetails, valuesOf, type EditorContext, type EditorState } from './letter-editor-state.js';
import { parseEditorForm, type EditorErrors, type EditorValues } from './letter-input.js';
import type { LetterRepository } from './letter-repository.js';
import { letterSizeErrors } from './letter-text-check.js';
import { reviewedLetter, type ReviewNotices } from './review-notices.js';
import type { SignatureFigures } from './signature-figures.js';

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

export interface LetterDraftingServiceDeps {
  db: Db;
  audit: AuditRepository;
  letters: LetterRepository;
  signatures: SignatureFigures;
  recipients: RecipientRepository;
  users: UserRepository;
  settings: SettingsRepository;
  access: LetterAccess;
  states: EditorStates;
  reviewNotices: ReviewNotices;
  clock: Clock;
  templates: () => LetterTemplate[];
  countryName: (code: string, language: string) => string;
}

export type SaveOutcome =
  | { kind: 'saved'; letter: Letter; newVersion: number | null }
  /** Review is required and the letter is published: the changes wait for an admin; the public sees no change. */
  | { kind: 'held-for-review'; letter: Letter }
  /** Refused: the messages, and the editor's state to show the form again with them. */
  | { kind: 'invalid'; errors: EditorErrors; state: EditorState }
  | {
      kind: 'confirm-new-version';
      signatures: number;
      nextVersion: number;
      waitsForReview: boolean;
      state: EditorState;
    };

/** What a save decides inside its transaction; the editor's state is added for the outcomes that show the form. */
type SaveDecision =
  | Exclude<SaveOutcome, { kind: 'invalid' } | { kind: 'confirm-new-version' }>
  | { kind: 'invalid'; errors: EditorErrors }
  | { kind: 'confirm-new-version'; signatures: number; nextVersion: number; waitsForReview: boolean };

export type VersionHistory = {
  letter: Letter;
  versions: (LetterVersion & { author: string | null; signatures: number; diff: TranslationDiff[] })[];
};

/** The organizer's drafting: new letters (blank or from the gallery), the editor, saving and versions. */
export class LetterDraftingService {
  constructor(private readonly deps: LetterDraftingServiceDeps) {}

  /** The gallery of templates: ready letters an organizer starts from. */
  templates(): LetterTemplate[] {
    return this.deps.templates();
  }

  /** What the editor form needs: the directory, and the letter's state when `letterId` is given. */
  async context(user: User, letterId: number | undefined): Promise<EditorContext> {
    if (letterId === undefined) return { directory: await this.deps.recipients.listAll(), state: null };
    const state = await this.editor(user, letterId);
    return { directory: state.directory, state };
  }

  /** Everything the editor page needs. */
  async editor(user: User, letterId: number): Promise<EditorState> {
    return this.deps.states.read(user, await this.deps.access.forEdit(user, letterId));
  }

  /** The form values of a stored letter (or of the changes waiting on it), for the editor. */
  valuesOf(state: EditorState): EditorValues {
    return valuesOf(state);
  }

  /** Creates a draft from the new-letter form, owned by the user. */
  async create(
    user: User,
    values: EditorValues,
  ): Promise<
    { kind: 'created'; letterId: number } | { kind: 'invalid'; errors: EditorErrors; directory: Recipient[] }
  > {
    const now = this.deps.clock.now();
    const refused = async (errors: EditorErrors) => ({
      kind: 'invalid' as const,
      errors,
      directory: await this.deps.recipients.listAll(),
    });
    const parsed = parseEditorForm(values, { now });
    if (!parsed.ok) return refused(parsed.errors);
    const { details, texts, recipientIds } = parsed.input;
    // What the texts expand to at the goal (letter-size.ts): refused now rather than at delivery.
    const tooLarge = letterSizeErrors(texts, details.goal ?? 0, this.deps.countryName);
    if (tooLarge) return refused(tooLarge);
    const creating = this.deps.db.transaction().execute(async (tx) => {
      const letters = this.deps.letters.with(tx);
      const errors = await checkReferences(
        letters,
        this.deps.recipients.with(tx),
        details.slug,
        undefined,
        recipientIds,
      );
      if (errors) return { kind: 'invalid' as const, errors };
      const letterId = await letters.create(
        { ...details, status: 'draft', texts, recipientIds, ownerId: user.id },
        now,
      );
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-created',
        { id: letterId, slug: details.slug },
        {},
        now,
      );
      return { kind: 'created' as const, letterId };
    });
    const outcome = await this.lostSlugRace(creating, details.slug);
    return outcome.kind === 'invalid' ? refused(outcome.errors) : outcome;
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
      const letterId = await letters.create(
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
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-created',
        { id: letterId, slug },
        { template: template.slug },
        now,
      );
      return letterId;
    });
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
    // Who may edit is checked first (404/403 before anything is read from the form); everything the
    // save decides is read again inside its transaction, where the letter may have been published,
    // delivered or approved since the form was read.
    await this.deps.access.forEdit(user, letterId);
    const decision = await this.lostSlugRace(
      this.deps.db
        .transaction()
        .execute((tx) => this.decideSave(tx, user, letterId, values, confirmNewVersion)),
      values.slug.trim(),
      letterId,
    );
    if (decision.kind === 'invalid' || decision.kind === 'confirm-new-version')
      // The form is shown again over the letter as it is now.
      return { ...decision, state: await this.editor(user, letterId) };
    return decision;
  }

  private async decideSave(
    tx: Tx,
    user: User,
    letterId: number,
    values: EditorValues,
    confirmNewVersion: boolean,
  ): Promise<SaveDecision> {
    const now = this.deps.clock.now();
    const letters = this.deps.letters.with(tx);
    const { letter: current, resource } = await this.deps.access.forEdit(user, letterId, letters);
    if (current.status === 'delivered') throw new AppError(409, 'letter_delivered', 'errors.letterDelivered');
    const parsed = parseEditorForm(values, {
      now,
      stored: { opensAt: current.opensAt, closesAt: current.closesAt },
    });
    if (!parsed.ok) return { kind: 'invalid', errors: parsed.errors };
    const { details, texts, recipientIds } = parsed.input;
    // What the texts expand to at the goal or today's count (letter-size.ts): refused now, not at delivery.
    const tooLarge = letterSizeErrors(
      texts,
      Math.max(current.signatureCount, details.goal ?? 0),
      this.deps.countryName,
    );
    if (tooLarge) return { kind: 'invalid', errors: tooLarge };
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
    const errors = await checkReferences(
      letters,
      this.deps.recipients.with(tx),
      details.slug,
      current.id,
      recipientIds,
    );
    if (errors) return { kind: 'invalid', errors };
    const approved = await letters.textsOfVersion(current.currentVersionId);
    const textsChanged = !sameTexts(approved, texts);
    const settings = await this.deps.settings.with(tx).read();
    const mayPublishUnreviewed = can(user, 'letter.publish-unreviewed', resource);
    const waitsForReview = changesWaitForReview(
      current.status !== 'draft',
      settings.requireReview,
      mayPublishUnreviewed,
    );
    if (textsChanged && current.status !== 'draft') {
      const standing = [
        ...(await this.deps.signatures.with(tx).countStandingByVersion(current.id)).values(),
      ].reduce((a, b) => a + b, 0);
      const versions = await letters.versions(current.id);
      const nextVersion = (versions[0]?.number ?? 1) + 1;
      // Asked whether the change waits for review or not: the question says which (it said the public
      // page would change at once, while the change went to an admin first).
      if (standing > 0 && !confirmNewVersion)
        return { kind: 'confirm-new-version', signatures: standing, nextVersion, waitsForReview };
    }
    if (waitsForReview) {
      const listed = ((await letters.recipientsOfLetters([current.id])).get(current.id) ?? []).map(
        (r) => r.id,
      );
      const recipientsChanged = listed.join(',') !== recipientIds.join(',');
      const detailsChanged = changedDetails(current, details);
      if (!textsChanged && !recipientsChanged && detailsChanged.length === 0) {
        // Saved back to what was approved: nothing is left to review.
        const withdrawn = await letters.clearPendingEdit(current.id);
        await recordLetterStep(
          this.deps.audit,
          tx,
          user,
          'letter-saved',
          current,
          { version: null, changesWithdrawn: withdrawn },
          now,
        );
        return { kind: 'saved', letter: current, newVersion: null };
      }
      if (
        !(await letters.holdEdit(current.id, current.status, { details, texts, recipientIds }, user.id, now))
      )
        throw new AppError(409, 'letter_changed', 'errors.letterNotDraft');
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-changes-submitted',
        current,
        { texts: textsChanged, recipients: recipientsChanged, settings: detailsChanged },
        now,
      );
      // Admins hear of the first save that makes changes wait; saving them again adds nothing to review.
      if (!current.pendingEditAt)
        await this.deps.reviewNotices.awaitingReview(tx, reviewedLetter(current, approved), 'changes');
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
        await letters.rewriteDraftVersion(current.currentVersionId, texts, user.id, now);
      } else {
        newVersion = (await letters.addVersion(current.id, texts, user.id, now)).number;
      }
    }
    await letters.updateDetails(current.id, details, now);
    await letters.setRecipients(current.id, recipientIds);
    // An account that may publish unreviewed saved over changes that were waiting (the form showed
    // them): its save is the review.
    if (current.pendingEditAt && (await letters.clearPendingEdit(current.id))) {
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-changes-approved',
        current,
        { version: newVersion, bySaving: true },
        now,
      );
      await this.deps.reviewNotices.reviewed(tx, reviewedLetter(current, texts), 'approved', 'changes');
    } else {
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'letter-saved',
        current,
        { version: newVersion },
        now,
      );
    }
    const saved = await letters.findById(current.id);
    return { kind: 'saved', letter: saved!, newVersion };
  }

  /** The version history, newest first, with who saved each, how many signed it, and its changes from the one before. */
  async history(user: User, letterId: number): Promise<VersionHistory> {
    const { letter } = await this.deps.access.forEdit(user, letterId);
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

  /**
   * A save's transaction, or the slug error when it lost a race for its slug: checked free inside, then
   * taken by another transaction that committed first (the unique index keeps one; under PostgreSQL's
   * READ COMMITTED both checks can pass). Asked again after the transaction, which the failure aborted.
   */
  private async lostSlugRace<T>(
    saving: Promise<T>,
    slug: string,
    letterId?: number,
  ): Promise<T | { kind: 'invalid'; errors: EditorErrors }> {
    try {
      return await saving;
    } catch (error) {
      if (isUniqueViolation(error) && (await this.deps.letters.slugTaken(slug, letterId)))
        return { kind: 'invalid', errors: { slug: [{ key: 'editor.errors.slugTaken' }] } };
      throw error;
    }
  }
}

/** Slug free and recipients known, or the errors to show (checked inside the saving transaction). */
async function checkReferences(
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
