import { z } from 'zod';
import { checkLetterText, type LetterTextProblem } from './letter-text-check.js';
import { isLetterLanguage } from '../lib/languages.js';
import { isSlug, textIn, type LetterText } from './letter.js';
import type { LetterDetails } from './letter-repository.js';
import { dayValue, parseUtcDay } from '../lib/dates.js';
import { MAX_ID } from '../http/input.js';
import { UNSAFE_IN_A_LINE, UNSAFE_IN_TEXT, visibleTrim } from '../lib/unsafe-text.js';

/** The editor form as typed, kept whole so a refused save shows everything again. */
export interface EditorValues {
  slug: string;
  primaryLanguage: string;
  sponsor: string;
  goal: string;
  closeOnGoal: boolean;
  opensAt: string;
  closesAt: string;
  organisations: string;
  recipientIds: number[];
  /** The letter's languages, primary first. */
  languages: string[];
  texts: Record<string, { title: string; summary: string; body: string }>;
}

/**
 * The language of the text a recipient reading `language` gets of the letter being edited: textIn, the
 * one language fallback a delivery uses, over the texts on the form. The preview starts in it too.
 */
export function textLanguageFor(values: EditorValues, language: string | undefined): string {
  const texts = values.languages.map((code) => ({
    language: code,
    ...(values.texts[code] ?? { title: '', summary: '', body: '' }),
  }));
  return textIn(texts, language, values.primaryLanguage)?.language ?? values.primaryLanguage;
}

/** A message for one field: an i18n key and its parameters (letter text problems carry their position). */
export interface FieldError {
  key: string;
  params?: Record<string, string | number>;
  problem?: LetterTextProblem;
}

export type EditorErrors = Record<string, FieldError[]>;

export interface EditorInput {
  details: LetterDetails;
  texts: LetterText[];
  recipientIds: number[];
}

export const LIMITS = {
  slug: 80,
  title: 200,
  summary: 400,
  body: 50_000,
  sponsor: 200,
  organisations: 50,
  organisation: 200,
  goal: 10_000_000,
  languages: 10,
  recipients: 500,
} as const;

function text(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

function list(body: Record<string, unknown>, name: string): string[] {
  const value = body[name];
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

/** Reads the raw editor form; unknown fields are ignored, repeated ones are read as lists only where lists are expected. */
/** The translations the posted form had sections for (its `languages` fields), before any change. */
export function languagesOnForm(body: Record<string, unknown>): string[] {
  return list(body, 'languages')
    .map((l) => l.trim())
    .filter(isLetterLanguage);
}

export function editorValues(body: Record<string, unknown>): EditorValues {
  const languages = [
    ...new Set(
      list(body, 'languages')
        .map((l) => l.trim())
        .filter(isLetterLanguage),
    ),
  ];
  const primaryLanguage = text(body, 'primary_language').trim();
  if (isLetterLanguage(primaryLanguage) && !languages.includes(primaryLanguage))
    languages.unshift(primaryLanguage);
  const ordered = [primaryLanguage, ...languages.filter((l) => l !== primaryLanguage)].filter(
    isLetterLanguage,
  );
  return {
    slug: text(body, 'slug'),
    primaryLanguage,
    sponsor: text(body, 'sponsor'),
    goal: text(body, 'goal'),
    closeOnGoal: text(body, 'close_on_goal') === 'yes',
    opensAt: text(body, 'opens_at'),
    closesAt: text(body, 'closes_at'),
    organisations: text(body, 'organisations'),
    recipientIds: [
      ...new Set(
        list(body, 'recipients')
          // Ids are 32-bit integers in the database: a larger one names no recipient (and on PostgreSQL
          // would fail the query rather than find nothing).
          .filter((id) => /^[1-9]\d{0,9}$/.test(id) && Number(id) <= MAX_ID)
          .map(Number),
      ),
    ],
    languages: ordered,
    texts: Object.fromEntries(
      ordered.map((language) => [
        language,
        {
          title: text(body, `title_${language}`),
          summary: text(body, `summary_${language}`),
          body: text(body, `body_${language}`),
        },
      ]),
    ),
  };
}

const END_OF_DAY_MS = 86_400_000 - 1;

// Digits only: Number() would also read "0x10", "0b11" or "1e3", and save a goal nobody typed.
const goalSchema = z
  .string()
  .regex(/^\d{1,12}$/)
  .transform(Number)
  .pipe(z.number().int().min(1).max(LIMITS.goal));

/**
 * Checks the editor form. Dates are whole days in UTC: a letter opens at the start of its opening day
 * and closes at the end of its closing day. A date already stored may stay as it is even once it has
 * passed (a letter that opened last week), but a new date in the past is refused with a reason.
 */
export function parseEditorForm(
  values: EditorValues,
  context: { now: Date; stored?: { opensAt: Date | null; closesAt: Date | null } },
): { ok: true; input: EditorInput } | { ok: false; errors: EditorErrors } {
  const errors: EditorErrors = {};
  const add = (field: string, error: FieldError) => (errors[field] ??= []).push(error);

  const slug = values.slug.trim();
  if (slug === '') add('slug', { key: 'editor.errors.slugRequired' });
  else if (slug.length > LIMITS.slug)
    add('slug', { key: 'editor.errors.tooLong', params: { max: LIMITS.slug } });
  else if (!isSlug(slug)) add('slug', { key: 'editor.errors.slugFormat' });

  if (!isLetterLanguage(values.primaryLanguage))
    add('primary_language', { key: 'editor.errors.languageRequired' });
  if (values.languages.length > LIMITS.languages)
    add('languages', { key: 'editor.errors.tooManyLanguages', params: { max: LIMITS.languages } });

  const sponsor = visibleTrim(values.sponsor);
  if (sponsor.length > LIMITS.sponsor)
    add('sponsor', { key: 'editor.errors.tooLong', params: { max: LIMITS.sponsor } });
  else if (UNSAFE_IN_A_LINE.test(sponsor)) add('sponsor', { key: 'editor.errors.controlCharacters' });

  let goal: number | null = null;
  if (values.goal.trim() !== '') {
    const parsed = goalSchema.safeParse(values.goal.trim().replace(/[,\s_]/g, ''));
    if (parsed.success) goal = parsed.data;
    else add('goal', { key: 'editor.errors.goal', params: { max: LIMITS.goal.toLocaleString('en') } });
  }
  if (values.closeOnGoal && goal === null && !errors.goal)
    add('goal', { key: 'editor.errors.goalNeededToClose' });

  const organisations = values.organisations
    .split(/\r?\n/)
    .map(visibleTrim)
    .filter((line) => line !== '');
  if (organisations.length > LIMITS.organisations)
    add('organisations', {
      key: 'editor.errors.tooManyOrganisations',
      params: { max: LIMITS.organisations },
    });
  else if (organisations.some((o) => o.length > LIMITS.organisation))
    add('organisations', { key: 'editor.errors.organisationTooLong', params: { max: LIMITS.organisation } });
  else if (organisations.some((o) => UNSAFE_IN_A_LINE.test(o)))
    add('organisations', { key: 'editor.errors.controlCharacters' });

  const { now, stored } = context;
  const today = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  let opensAt: Date | null = null;
  if (values.opensAt.trim() !== '') {
    const day = parseUtcDay(values.opensAt);
    if (!day) add('opens_at', { key: 'editor.errors.date' });
    else if (day < today && dayValue(stored?.opensAt ?? null) !== dayValue(day))
      add('opens_at', { key: 'editor.errors.opensInPast' });
    else opensAt = dayValue(stored?.opensAt ?? null) === dayValue(day) ? stored!.opensAt : day;
  }
  let closesAt: Date | null = null;
  if (values.closesAt.trim() !== '') {
    const day = parseUtcDay(values.closesAt);
    if (!day) add('closes_at', { key: 'editor.errors.date' });
    else {
      const unchanged = dayValue(stored?.closesAt ?? null) === dayValue(day);
      closesAt = unchanged ? stored!.closesAt : new Date(day.getTime() + END_OF_DAY_MS);
      if (!unchanged && closesAt! <= now) add('closes_at', { key: 'editor.errors.closesInPast' });
      else if (opensAt && closesAt! <= opensAt) add('closes_at', { key: 'editor.errors.closesBeforeOpens' });
    }
  }

  const texts: LetterText[] = [];
  for (const language of values.languages) {
    const t = values.texts[language] ?? { title: '', summary: '', body: '' };
    const entry = {
      language,
      // A title or summary of invisible characters is missing; the body has lines, and markup to check.
      title: visibleTrim(t.title),
      summary: visibleTrim(t.summary),
      // Zero-width spaces, word joiners and byte-order marks come in with text pasted from elsewhere and
      // have no use in a letter: dropped, not refused (the body is long, and they cannot be seen to be
      // found). A body with nothing visible is missing.
      body: visibleTrim(t.body.replace(/\r\n?/g, '\n').replace(/[\u200b\u2060\ufeff]/g, '')),
    };
    const primary = language === values.primaryLanguage;
    if (primary && entry.title === '') add(`title_${language}`, { key: 'editor.errors.titleRequired' });
    if (entry.title.length > LIMITS.title)
      add(`title_${language}`, { key: 'editor.errors.tooLong', params: { max: LIMITS.title } });
    if (UNSAFE_IN_A_LINE.test(entry.title))
      add(`title_${language}`, { key: 'editor.errors.controlCharacters' });
    if (primary && entry.summary === '') add(`summary_${language}`, { key: 'editor.errors.summaryRequired' });
    if (entry.summary.length > LIMITS.summary)
      add(`summary_${language}`, { key: 'editor.errors.tooLong', params: { max: LIMITS.summary } });
    if (UNSAFE_IN_TEXT.test(entry.summary))
      add(`summary_${language}`, { key: 'editor.errors.controlCharacters' });
    if (primary && entry.body === '') add(`body_${language}`, { key: 'editor.errors.bodyRequired' });
    if (UNSAFE_IN_TEXT.test(entry.body)) add(`body_${language}`, { key: 'editor.errors.controlCharacters' });
    if (entry.body !== '') {
      const checked = checkLetterText(entry.body);
      if (!checked.ok)
        for (const problem of checked.problems)
          add(`body_${language}`, { key: 'letterText.problemAt', problem });
    }
    texts.push(entry);
  }

  if (values.recipientIds.length > LIMITS.recipients)
    add('recipients', { key: 'editor.errors.tooManyRecipients', params: { max: LIMITS.recipients } });

  if (Object.keys(errors).length > 0) return { ok: false, errors };
  return {
    ok: true,
    input: {
      details: {
        slug,
        primaryLanguage: values.primaryLanguage,
        sponsor,
        goal,
        closeOnGoal: values.closeOnGoal,
        opensAt,
        closesAt,
        organisations,
      },
      texts,
      recipientIds: values.recipientIds,
    },
  };
}

/** Which recipient, language and signatories the preview shows. */
export interface PreviewChoice {
  recipientId: number | undefined;
  language: string | undefined;
  signatories: 'sample' | 'real';
}

const previewChoiceSchema = z.object({
  preview_recipient: z
    .string()
    .regex(/^[1-9]\d{0,9}$/)
    .transform(Number)
    .refine((id) => id <= MAX_ID)
    .optional()
    .catch(undefined),
  preview_language: z.string().refine(isLetterLanguage).optional().catch(undefined),
  preview_signatories: z.enum(['sample', 'real']).catch('sample').default('sample'),
});

/** Reads the preview's choices from the editor form; anything unexpected falls back to the defaults. */
export function previewChoice(body: Record<string, unknown>): PreviewChoice {
  const parsed = previewChoiceSchema.parse({
    preview_recipient: text(body, 'preview_recipient') || undefined,
    preview_language: text(body, 'preview_language') || undefined,
    preview_signatories: text(body, 'preview_signatories') || undefined,
  });
  return {
    recipientId: parsed.preview_recipient,
    language: parsed.preview_language,
    signatories: parsed.preview_signatories,
  };
}

/** The editor's form-only buttons: adding or removing a translation changes the form, nothing is saved. */
export type LanguageChange = { add: string } | { remove: string };

/** The language change a button asks for (`add-language`, `remove-language:<code>`), if it is one. */
export function languageChange(action: string, body: Record<string, unknown>): LanguageChange | undefined {
  if (action === 'add-language') return { add: text(body, 'new_language') };
  if (action.startsWith('remove-language:')) return { remove: action.slice('remove-language:'.length) };
  return undefined;
}

/** Adds or removes a translation in the values being edited, without saving. */
export function changeLanguages(values: EditorValues, change: LanguageChange): EditorValues {
  if ('add' in change) {
    const language = change.add;
    if (
      !isLetterLanguage(language) ||
      values.languages.includes(language) ||
      values.languages.length >= LIMITS.languages
    )
      return values;
    return {
      ...values,
      languages: [...values.languages, language],
      texts: { ...values.texts, [language]: { title: '', summary: '', body: '' } },
    };
  }
  const language = change.remove;
  if (language === values.primaryLanguage) return values;
  const texts = { ...values.texts };
  delete texts[language];
  return { ...values, languages: values.languages.filter((l) => l !== language), texts };
}

/** The longest note an admin may send with a letter sent back from review. */
export const RETURN_NOTE_MAX_LENGTH = 2000;

/** The note as typed (line breaks as stored), and the note or what is wrong with it. */
export type ReturnNoteInput = { value: string } & (
  { ok: true; note: string } | { ok: false; errorKey: string }
);

/**
 * Reads the note an admin sends with a letter (or changes) sent back from review: optional, at most
 * RETURN_NOTE_MAX_LENGTH characters, line breaks kept, no other control characters (it goes into an
 * e-mail). Read whole (up to twice the limit) so a note that is too long is refused, not cut short.
 */
export function parseReturnNote(body: Record<string, unknown>): ReturnNoteInput {
  const raw = body.note;
  const value = (typeof raw === 'string' ? raw : '')
    .slice(0, RETURN_NOTE_MAX_LENGTH * 2)
    .replace(/\r\n?/g, '\n');
  const note = value.trim();
  if (note.length > RETURN_NOTE_MAX_LENGTH)
    return { ok: false, value, errorKey: 'editor.return.noteTooLong' };
  if (UNSAFE_IN_TEXT.test(note)) return { ok: false, value, errorKey: 'editor.errors.controlCharacters' };
  return { ok: true, value, note };
}
