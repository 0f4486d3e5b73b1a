import type { TFunction } from '../lib/i18n.js';
import { languageName } from '../lib/languages.js';
import type { VersionHistory } from './letter-drafting-service.js';

/** The view context of `admin/letter-versions`: each version, marked current, with its changes labelled. */
export function versionsView(t: TFunction, ui: string, history: VersionHistory) {
  return {
    pageTitle: t('versions.title'),
    letter: history.letter,
    versions: history.versions.map((v) => ({
      ...v,
      current: v.id === history.letter.currentVersionId,
      diff: v.diff.map((d) => ({
        ...d,
        name: languageName(d.language, ui),
        changeLabel: t(`versions.change.${d.change}`),
        fields: d.fields
          .filter((f) => f.changed)
          .map((f) => ({ ...f, label: t(`editor.fields.${f.field}`) })),
      })),
    })),
  };
}
