import { recipientField } from '../audit/audit-details.js';
import type { TFunction } from '../lib/i18n.js';
import { languageName, LETTER_LANGUAGES } from '../lib/languages.js';
import type { ImportPreview, ImportPreviewRow } from './recipient-service.js';

/** The choices offered for a possible duplicate: skip it (the default), add it anyway, or update one it duplicates. */
function choicesFor(t: TFunction, row: ImportPreviewRow) {
  if (row.action !== 'duplicate') return [];
  return [
    { value: 'skip', label: t('recipients.import.choices.skip'), checked: true },
    { value: 'add', label: t('recipients.import.choices.add'), checked: false },
    ...row.duplicates
      .filter((d) => d.mayUpdate)
      .map((d) => ({
        value: `update-${d.id}`,
        label: t('recipients.import.choices.update', { name: d.name, email: d.email }),
        checked: false,
      })),
  ];
}

/**
 * A row's salutations as the preview lists them, each with its language's name in the interface language:
 * as they will be saved for a valid row, as written for one with problems.
 */
function salutationsOf(t: TFunction, row: ImportPreviewRow, ui: string) {
  const written = row.input?.salutations ?? {
    ...row.values.salutations,
    ...(row.values.salutation.trim() ? { [row.values.language.trim()]: row.values.salutation } : {}),
  };
  const language = row.input?.language ?? row.values.language.trim();
  return (
    [language, ...LETTER_LANGUAGES.filter((code) => code !== language)]
      .filter((code) => (written[code] ?? '').trim() !== '')
      // A row without a language still shows its salutation, said to be in no language (not "root").
      .map((code) => ({
        code,
        language: code ? languageName(code, ui) : t('recipients.import.noLanguage'),
        salutation: written[code]!,
      }))
  );
}

/**
 * A row's names in other languages (`name_ko`, `title_ko`, `organisation_ko` columns), each language's
 * filled fields in one line, so the preview shows what the pages in that language will say.
 */
function otherNamesOf(row: ImportPreviewRow, ui: string) {
  const typed = row.input?.names ?? row.values.names ?? {};
  return Object.entries(typed)
    .map(([code, named]) => ({
      code,
      language: languageName(code, ui),
      text: [named.name, named.title, named.organisation]
        .map((f) => f.trim())
        .filter(Boolean)
        .join(' · '),
    }))
    .filter((named) => named.text !== '');
}

/**
 * The name of a field a row's problem is about: "Salutation in Korean" for `salutation_ko`, as the
 * recipient form says it; "Name (Korean)" for `name_ko`, as the audit log does.
 */
function fieldLabel(t: TFunction, ui: string, field: string): string {
  const language = /^salutation_([a-z]{2,3})$/.exec(field)?.[1];
  if (language) return t('recipientSalutations.field', { language: languageName(language, ui) });
  return recipientField(t, ui, field);
}

/** The import preview's context: each row with what will happen to it, its problems, and the choices it needs. */
export function importPreviewView(t: TFunction, ui: string, preview: ImportPreview) {
  return {
    pageTitle: t('recipients.import.previewTitle'),
    preview: {
      ...preview,
      rows: preview.rows.map((row) => ({
        line: row.line,
        action: row.action,
        values: row.values,
        actionLabel: t(`recipients.import.actions.${row.action}`),
        salutations: salutationsOf(t, row, ui),
        otherNames: otherNamesOf(row, ui),
        // An update says what it changes, removals named as such: an empty cell's removal shows nowhere else.
        changes: row.changes.map(({ field, removed }) =>
          removed
            ? t('recipients.import.removed', { field: fieldLabel(t, ui, field) })
            : fieldLabel(t, ui, field),
        ),
        unchanged: row.action === 'update' && row.changes.length === 0,
        errors: [
          ...row.errors.map((e) => `${fieldLabel(t, ui, e.field)}: ${t(e.messageKey, e.params ?? {})}`),
          ...row.duplicates.map((d) =>
            t(d.organisation ? 'recipients.import.duplicateOfIn' : 'recipients.import.duplicateOf', {
              name: d.name,
              email: d.email,
              organisation: d.organisation,
            }),
          ),
        ],
        choices: choicesFor(t, row),
      })),
    },
    hasDuplicates: preview.counts.duplicate > 0,
    nothingToImport: preview.counts.create + preview.counts.update + preview.counts.duplicate === 0,
  };
}
