import { formatsFor } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { langMark, languageName, titleFor } from '../lib/languages.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';
import type { Letter } from './letter.js';
import { RETURN_NOTE_MAX_LENGTH } from './letter-input.js';
import type { PublishCheck } from './letter-workflow-service.js';
import type { ReviewKind } from './review-notices.js';

/** The view context of `admin/letter-publish`: what publishing will do, or why it cannot yet. */
export function publishView(t: TFunction, ui: string, check: PublishCheck) {
  const { letter } = check;
  // The letters' one rule: the reader's language when the letter has it, else its primary one.
  const { title, titleLanguage } = titleFor(
    letter,
    { primary: check.titles[letter.primaryLanguage], reader: check.titles[ui] },
    ui,
  );
  // Asked again while it waits (the page opened from the history or a bookmark): nothing to confirm.
  const alreadyAsked = check.asksForReview && letter.reviewRequestedAt !== null;
  return {
    pageTitle: t(
      alreadyAsked
        ? 'editor.publishConfirm.alreadyAskedTitle'
        : check.asksForReview
          ? 'editor.publishConfirm.reviewTitle'
          : 'editor.publishConfirm.title',
    ),
    alreadyAsked,
    letter,
    title,
    titleLang: langMark(titleLanguage, ui),
    ready: check.problems.length === 0,
    problems: check.problems.map((key) => t(key)),
    warnings: check.warnings.map((w) => t(w.key, w.params)),
    asksForReview: check.asksForReview,
    controllerNamed: check.controllerNamed,
    mayNameController: check.mayNameController,
    // An admin publishing a letter that waits for review approves it.
    approvesReview: !check.asksForReview && letter.reviewRequestedAt !== null,
    // The request this page approves, sent back with the form: withdrawn meanwhile, nothing is published.
    reviewSeen:
      !check.asksForReview && letter.reviewRequestedAt ? letter.reviewRequestedAt.toISOString() : '',
    opensLater: check.opensLater,
    opensAt: check.opensAt,
    publicUrl: `/letters/${letter.slug}`,
    // Named as the organizer's interface language names them, as the public pages will.
    recipients: check.recipients.map((r) => ({
      ...recipientNamedIn(r, ui),
      language: languageName(r.language, ui),
    })),
  };
}

/** The page that sends a letter (or its changes) back from review, asking for a note to its organizers. */
export function returnView(
  t: TFunction,
  ui: string,
  letter: Letter,
  kind: ReviewKind,
  note: { value: string; errorKey?: string },
) {
  const max = formatsFor(ui).number(RETURN_NOTE_MAX_LENGTH);
  const error = note.errorKey ? t(note.errorKey, { max }) : '';
  return {
    pageTitle: `${error ? `${t('form.errorTitlePrefix')} ` : ''}${t(`editor.return.title.${kind}`)}`,
    letter,
    kind,
    action:
      kind === 'letter' ? `/admin/letters/${letter.id}/return` : `/admin/letters/${letter.id}/changes/return`,
    note: { value: note.value, error, maxLength: RETURN_NOTE_MAX_LENGTH },
    errorList: error ? [{ field: 'note', message: error }] : [],
  };
}
