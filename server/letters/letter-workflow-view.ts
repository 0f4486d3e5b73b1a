import type { TFunction } from '../lib/i18n.js';
import { languageName } from '../lib/languages.js';
import type { PublishCheck } from './letter-workflow-service.js';

/** The view context of `admin/letter-publish`: what publishing will do, or why it cannot yet. */
export function publishView(t: TFunction, ui: string, check: PublishCheck) {
  const { letter } = check;
  return {
    pageTitle: t(check.asksForReview ? 'editor.publishConfirm.reviewTitle' : 'editor.publishConfirm.title'),
    letter,
    title: check.title,
    ready: check.problems.length === 0,
    problems: check.problems.map((key) => t(key)),
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
