import { diffWordsWithSpace } from 'diff';
import type { LetterText } from './letter.js';

/** A run of text that both versions share, or that one of them added or removed. */
export interface DiffPart {
  kind: 'same' | 'added' | 'removed';
  text: string;
}

export interface FieldDiff {
  field: 'title' | 'summary' | 'body';
  changed: boolean;
  parts: DiffPart[];
}

/** How one translation changed from one version to the next. */
export interface TranslationDiff {
  language: string;
  change: 'added' | 'removed' | 'changed' | 'unchanged';
  fields: FieldDiff[];
}

/** A word-level diff, keeping whitespace so paragraph breaks show where they moved. */
export function diffText(before: string, after: string): DiffPart[] {
  return diffWordsWithSpace(before, after).map((part) => ({
    kind: part.added ? 'added' : part.removed ? 'removed' : 'same',
    text: part.value,
  }));
}

const FIELDS = ['title', 'summary', 'body'] as const;

/** Compares every translation of two versions, primary language first as given in `after`. */
export function diffVersions(before: readonly LetterText[], after: readonly LetterText[]): TranslationDiff[] {
  const old = new Map(before.map((t) => [t.language, t]));
  const languages = [
    ...after.map((t) => t.language),
    ...before.map((t) => t.language).filter((l) => !after.some((t) => t.language === l)),
  ];
  const empty = (language: string): LetterText => ({ language, title: '', summary: '', body: '' });
  return languages.map((language) => {
    const a = old.get(language);
    const b = after.find((t) => t.language === language);
    const fields = FIELDS.map((field) => {
      const was = (a ?? empty(language))[field];
      const is = (b ?? empty(language))[field];
      return { field, changed: was !== is, parts: diffText(was, is) };
    });
    const change = !a ? 'added' : !b ? 'removed' : fields.some((f) => f.changed) ? 'changed' : 'unchanged';
    return { language, change, fields };
  });
}
