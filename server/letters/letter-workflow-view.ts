import type { TFunction } from '../lib/i18n.js';
import { langMark, languageName, titleFor } from '../lib/languages.js';
import type { PublishCheck } from './letter-workflow-service.js';

/** The view context of `admin/letter-publish`: what publishing will do, or why it cannot yet. */
export function publishView(t: TFunction, ui: string, check: PublishCheck) {
  const { letter } = check;
  // The letters' one rule: the reader's language when the letter has it, else its primary one.
  const { title, titleLanguage } = titleFor(
    letter,
    { primary: check.titles[letter.primaryLanguage], reader: check.titles[ui] },
    ui,
  );
  return {
    pageTitle: t(check.asksForReview ? 'editor.publishConfirm.reviewTitle' : 'editor.publishConfirm.title'),
    letter,
    title,
    titleLang: langMark(titleLanguage, ui),
    ready: check.problems.length === 0,
    problems: check.problems.map((key) => t(key)),
    warnings: check.warnings.map((w) => t(w.key, w.params)),
    asksForReview: check.asksForReview,
    // An admin publishing a letter that waits for review approves it.
    approvesReview: !check.asksForReview && letter.reviewRequestedAt !== null,
    opensLater: check.opensLater,
    opensAt: check.opensAt,
    publicUrl: `/letters/${letter.slug}`,
    recipients: check.recipients.map((r) => ({
      name: r.name,
      title: r.title,
      organisation: r.organisation,
      language: languageName(r.language, ui),
    })),
  };
}
