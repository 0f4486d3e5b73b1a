import type { TFunction } from '../lib/i18n.js';
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

/** The import preview's context: each row with what will happen to it, its problems, and the choices it needs. */
export function importPreviewView(t: TFunction, preview: ImportPreview) {
  return {
    pageTitle: t('recipients.import.previewTitle'),
    preview: {
      ...preview,
      rows: preview.rows.map((row) => ({
        line: row.line,
        action: row.action,
        values: row.values,
        actionLabel: t(`recipients.import.actions.${row.action}`),
        errors: [
          ...row.errors.map(
            (e) =>
              `${t(`recipients.fields.${e.field}`, { defaultValue: e.field })}: ${t(e.messageKey, e.params ?? {})}`,
          ),
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
