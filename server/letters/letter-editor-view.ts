import type { Request } from 'express';
import { noticeFrom } from '../http/notice.js';
import type { TFunction } from '../lib/i18n.js';
import { langMark, languageName, LETTER_LANGUAGES, titleFor } from '../lib/languages.js';
import type { Recipient } from '../recipients/recipient.js';
import { recipientNamedIn } from '../recipients/recipient-names.js';
import { isComplete } from './letter.js';
import type { EditorContext } from './letter-editor-state.js';
import {
  LIMITS,
  textLanguageFor,
  type EditorErrors,
  type EditorValues,
  type PreviewChoice,
} from './letter-input.js';
import type { EmailPreview, PreviewOutcome } from './letter-preview-service.js';
import { EMAIL_PREVIEW_SANDBOX } from '../http/security.js';
import { formatsFor } from '../lib/format.js';
import { describeProblem } from './letter-text-check.js';
import { MERGE_FIELD_DOCS } from './merge-fields.js';

/** Notices shown after a redirect, by a fixed name in the query string (never text from the URL). */
export const EDITOR_NOTICES = [
  'saved',
  'created',
  'published',
  'reviewRequested',
  'reviewWithdrawn',
  'returned',
  'closed',
  'reopened',
  'newVersion',
  'shared',
  'alreadyShared',
  'unshared',
  'notShared',
  'changesWaiting',
  'changesApproved',
  'changesReturned',
] as const;

/** The editor's notice after a redirect, or null. */
export function editorNotice(req: Request, t: TFunction): string | null {
  return noticeFrom(req, t, 'editor.notices', EDITOR_NOTICES) ?? null;
}

/** Field errors translated, and the summary list that links to each field. */
export function translateErrors(t: TFunction, errors: EditorErrors, ui: string) {
  const messages: Record<string, string[]> = {};
  for (const [field, list] of Object.entries(errors)) {
    messages[field] = list.map((e) =>
      e.problem ? describeProblem(e.problem, t, ui) : t(e.key, e.params ?? {}),
    );
  }
  // Beside its field a message needs no more; at the top, one about a text says which of them: three
  // fields are called "Text of the letter" once there are translations.
  const summary = Object.entries(messages).flatMap(([field, list]) => {
    const text = /^(title|summary|body)_([a-z]{2})$/.exec(field);
    return list.map((message) => ({
      field,
      message: text
        ? t('editor.errors.inText', {
            language: languageName(text[2]!, ui),
            field: t(`editor.fields.${text[1]}`),
            message,
          })
        : message,
    }));
  });
  return { messages, summary };
}

/** What the editor page is shown with, besides the values being edited. */
export interface EditorPage {
  values: EditorValues;
  context: EditorContext;
  notice?: string | null;
  errors?: EditorErrors;
  preview?: PreviewOutcome;
  previewChoice?: PreviewChoice;
  confirm?: { signatures: number; nextVersion: number; waitsForReview: boolean };
  /** The address typed in the sharing form, shown again beside its error. */
  collaboratorEmail?: string;
}

/**
 * Recipients who read a language the letter has no complete translation in, and the language they get
 * instead: the one language fallback of letter.ts (`textIn`), applied to the texts being edited.
 */
export function languageFallbacks(values: EditorValues, recipients: readonly Recipient[], ui: string) {
  return recipients.flatMap((r) => {
    const gets = textLanguageFor(values, r.language);
    return gets === r.language
      ? []
      : [{ name: r.name, wants: languageName(r.language, ui), gets: languageName(gets, ui) }];
  });
}

/**
 * What the preview says about the e-mail beside it: whose signatures its figures are, what a round
 * alone makes (the list's root, names past the first ones read), and the PDF it would attach.
 */
export function emailPreviewNotes(t: TFunction, ui: string, email: EmailPreview): string[] {
  const number = formatsFor(ui).number;
  return [
    t(email.signatories === 'real' ? 'editor.preview.email.real' : 'editor.preview.email.sample'),
    // Invented figures have no names past the sample's: only a real list is read in part.
    ...(email.signatories === 'real' && email.named > email.listed
      ? [
          t('editor.preview.email.firstNames', {
            count: email.listed,
            formatted: number(email.listed),
            more: number(email.named - email.listed),
          }),
        ]
      : []),
    t('editor.preview.email.root'),
    ...(email.pdfAttached ? [t('editor.preview.email.pdf')] : []),
  ];
}

/** The e-mail part of the preview, for the page and for the live preview's JSON alike. */
export function emailPreviewView(t: TFunction, ui: string, email: EmailPreview) {
  return {
    subject: email.subject,
    fromName: email.fromName,
    html: email.html,
    text: email.text,
    notes: emailPreviewNotes(t, ui, email),
  };
}

/** Stands for the title in a translated heading, which is then cut around it (no translation contains it). */
const TITLE_MARK = '\u0000';

/** A translated sentence around its title: the words before and after it, each plain text. */
function aroundTitle(sentence: string): { before: string; after: string } {
  const at = sentence.indexOf(TITLE_MARK);
  return at < 0
    ? { before: sentence, after: '' }
    : { before: sentence.slice(0, at), after: sentence.slice(at + TITLE_MARK.length) };
}

/** The view context of `admin/letter-edit`: everything the editor template shows from the values being edited. */
export function editorView(t: TFunction, ui: string, page: EditorPage) {
  const { values } = page;
  const { directory, state } = page.context;
  const errors = translateErrors(t, page.errors ?? {}, ui);
  const chosen = new Set(values.recipientIds);
  const chosenRecipients = directory.filter((r) => chosen.has(r.id));
  const translations = values.languages.map((language) => {
    const text = values.texts[language] ?? { title: '', summary: '', body: '' };
    const missing = (['title', 'summary', 'body'] as const)
      .filter((f) => text[f].trim() === '')
      .map((f) => t(`editor.fields.${f}`));
    return {
      language,
      name: languageName(language, ui),
      primary: language === values.primaryLanguage,
      complete: isComplete({ language, ...text }),
      missing: missing.join(', '),
      text,
      errors: {
        title: errors.messages[`title_${language}`] ?? null,
        summary: errors.messages[`summary_${language}`] ?? null,
        body: errors.messages[`body_${language}`] ?? null,
      },
    };
  });
  const letterId = state?.letter.id;
  const preview = page.preview;
  const previewRecipient =
    chosenRecipients.find((r) => r.id === page.previewChoice?.recipientId) ?? chosenRecipients[0];
  // The first preview is in the text its recipient will get (textLanguageFor: the delivery's rule), as
  // choosing that recipient in the preview's list then gives; it said "in English" to a Ukrainian ministry.
  const previewLanguage =
    preview?.language ?? page.previewChoice?.language ?? textLanguageFor(values, previewRecipient?.language);
  // The letter as the organizer's lists name it to this reader (titleFor), from the texts being edited.
  const heading = state
    ? titleFor(
        { slug: values.slug, primaryLanguage: values.primaryLanguage },
        {
          primary: values.texts[values.primaryLanguage]?.title,
          reader: values.languages.includes(ui) ? values.texts[ui]?.title : undefined,
        },
        ui,
      )
    : undefined;
  return {
    pageTitle: heading ? t('editor.editTitle', { title: heading.title }) : t('editor.newTitle'),
    // The heading marks the title with its language when it is not the page's, as the lists do.
    heading: heading
      ? {
          ...aroundTitle(t('editor.editTitle', { title: TITLE_MARK })),
          title: heading.title,
          lang: langMark(heading.titleLanguage, ui),
        }
      : null,
    mode: state ? 'edit' : 'new',
    action: letterId ? `/admin/letters/${letterId}` : '/admin/letters',
    previewUrl: letterId ? `/admin/letters/${letterId}/preview.json` : '/admin/letters/preview.json',
    letter: state?.letter ?? null,
    state,
    locked: state ? state.letter.status !== 'draft' : false,
    notice: page.notice ?? null,
    values,
    collaboratorEmail: page.collaboratorEmail ?? '',
    errors: errors.messages,
    errorList: errors.summary,
    languageOptions: LETTER_LANGUAGES.map((code) => ({
      code,
      name: languageName(code, ui),
      selected: code === values.primaryLanguage,
    })),
    addableLanguages: LETTER_LANGUAGES.filter((code) => !values.languages.includes(code)).map((code) => ({
      code,
      name: languageName(code, ui),
    })),
    // Named in the organizer's language where the directory has it (the letter itself uses their own).
    directory: directory.map((r) => ({
      ...r,
      ...recipientNamedIn(r, ui),
      checked: chosen.has(r.id),
      languageLabel: languageName(r.language, ui),
    })),
    translations,
    fallbacks: languageFallbacks(values, chosenRecipients, ui),
    limits: LIMITS,
    mergeFields: MERGE_FIELD_DOCS.map((f) => ({ snippet: f.snippet, description: t(f.descriptionKey) })),
    previewRecipients: chosenRecipients.map((r) => ({
      id: r.id,
      name: recipientNamedIn(r, ui).name,
      selected: r.id === previewRecipient?.id,
    })),
    previewLanguages: values.languages.map((code) => ({
      code,
      name: languageName(code, ui),
      selected: code === previewLanguage,
    })),
    previewReal: page.previewChoice?.signatories === 'real',
    previewSandbox: EMAIL_PREVIEW_SANDBOX,
    preview: preview
      ? preview.kind === 'rendered'
        ? {
            ...emailPreviewView(t, ui, preview.email),
            recipient: preview.recipient?.name ?? '',
            language: languageName(preview.language, ui),
            problems: null,
          }
        : {
            html: null,
            text: null,
            subject: '',
            fromName: '',
            notes: [],
            recipient: null,
            problems: preview.problems.map((p) => describeProblem(p, t, ui)),
            language: languageName(preview.language, ui),
          }
      : null,
    confirm: page.confirm ?? null,
    // Said after a save that took away what the chosen delivery mode waits for (a closing date).
    deliveryWarnings: (state?.deliveryWarnings ?? []).map((key) => t(key)),
    statusLabel: state ? t(`editor.status.${state.letter.status}`) : t('editor.status.draft'),
    // Publishing asks an admin first when review is required and this account may not skip it.
    asksForReview: state ? state.requireReview && !state.canPublishUnreviewed : false,
    // Saving a published letter keeps the changes for review instead of publishing them.
    heldForReview: state
      ? state.requireReview && !state.canPublishUnreviewed && state.letter.status !== 'draft'
      : false,
    // What the last review said when it sent the letter or its changes back, until they are submitted again.
    returned:
      state?.letter.returned && !state.letter.reviewRequestedAt && !state.pending
        ? state.letter.returned
        : null,
    pending: state?.pending
      ? {
          at: state.pending.edit.at,
          author: state.pending.author,
          texts: state.pending.diff.map((d) => ({
            name: languageName(d.language, ui),
            language: d.language,
            change: t(`versions.change.${d.change}`),
            fields: d.fields
              .filter((f) => f.changed)
              .map((f) => ({ parts: f.parts, label: t(`editor.fields.${f.field}`) })),
          })),
          recipientsAdded: state.pending.recipientsAdded.map((r) => r.name),
          recipientsRemoved: state.pending.recipientsRemoved.map((r) => r.name),
          settings: state.pending.detailsChanged.map((field) => t(`policy.review.settings.${field}`)),
        }
      : null,
  };
}
