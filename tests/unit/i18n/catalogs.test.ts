import { describe, expect, it } from 'vitest';
import { DEFAULT_LANGUAGE, INTERFACE_LANGUAGES, readLanguage } from '../../../server/lib/i18n.js';

type Messages = { [key: string]: string | Messages };

const PLURAL_SUFFIX = /_(zero|one|two|few|many|other)$/;

/** Every text of a catalog by its dotted key ("letter.signatures_one"). */
function flatten(messages: Messages, prefix = ''): Map<string, string> {
  const flat = new Map<string, string>();
  for (const [key, value] of Object.entries(messages)) {
    if (typeof value === 'string') flat.set(`${prefix}${key}`, value);
    else for (const [k, v] of flatten(value, `${prefix}${key}.`)) flat.set(k, v);
  }
  return flat;
}

/** A catalog as its base keys (plural forms folded into one), each with its plural forms and its placeholders. */
function catalog(language: string) {
  const keys = new Map<string, { forms: Set<string>; placeholders: Set<string> }>();
  for (const [key, text] of flatten(readLanguage(language))) {
    const suffix = PLURAL_SUFFIX.exec(key);
    const base = suffix ? key.slice(0, suffix.index) : key;
    const entry = keys.get(base) ?? { forms: new Set<string>(), placeholders: new Set<string>() };
    if (suffix) entry.forms.add(suffix[1]!);
    // {{name}} and {{name, number}}: the name is what the code passes; the format part is the text's own.
    for (const match of text.matchAll(/\{\{\s*([^,}\s]+)\s*(?:,[^}]*)?\}\}/g))
      entry.placeholders.add(match[1]!);
    keys.set(base, entry);
  }
  return keys;
}

const english = catalog(DEFAULT_LANGUAGE);
const others = INTERFACE_LANGUAGES.filter((language) => language !== DEFAULT_LANGUAGE);

describe('the interface catalogs', () => {
  it.each(others)('%s has exactly the keys English has (plural forms counted as one key)', (language) => {
    const keys = catalog(language);
    const missing = [...english.keys()].filter((key) => !keys.has(key));
    const extra = [...keys.keys()].filter((key) => !english.has(key));
    expect({ missing, extra }).toEqual({ missing: [], extra: [] });
  });

  it.each(others)('%s uses the same {{placeholders}} as English in every text', (language) => {
    const differing = [...catalog(language)]
      .filter(([key]) => english.has(key))
      .map(([key, entry]) => ({
        key,
        english: [...english.get(key)!.placeholders].sort(),
        translated: [...entry.placeholders].sort(),
      }))
      .filter((d) => d.english.join() !== d.translated.join());
    expect(differing).toEqual([]);
  });

  it('addresses the reader in Ukrainian with the polite capital Ви, Ваш everywhere', () => {
    // One voice across the interface: a page mixing "ви" and "Ви" reads as two different writers.
    const lowercase =
      /(?<!\p{L})(ви|вас|вам|вами|ваш|ваша|ваше|ваші|вашого|вашої|вашому|вашій|вашим|ваших|вашими|вашу)(?!\p{L})/u;
    const found = [...flatten(readLanguage('uk'))]
      .filter(([, text]) => lowercase.test(text))
      .map(([key]) => key);
    expect(found).toEqual([]);
  });

  it.each([...INTERFACE_LANGUAGES])(
    '%s gives every counted text exactly the plural forms of its language (Intl.PluralRules)',
    (language) => {
      const categories = [...new Intl.PluralRules(language).resolvedOptions().pluralCategories].sort();
      const keys = catalog(language);
      const wrong = [...keys]
        // A text that is plural in English counts something: it must be plural in every language.
        .filter(([key, entry]) => entry.forms.size > 0 || (english.get(key)?.forms.size ?? 0) > 0)
        .map(([key, entry]) => ({ key, forms: [...entry.forms].sort() }))
        .filter((k) => k.forms.join() !== categories.join());
      expect(wrong).toEqual([]);
    },
  );

  it('knows the plural categories it checks against: uk one/few/many/other, ko other, en one/other', () => {
    const sorted = (language: string) =>
      [...new Intl.PluralRules(language).resolvedOptions().pluralCategories].sort();
    expect(sorted('uk')).toEqual(['few', 'many', 'one', 'other']);
    expect(sorted('ko')).toEqual(['other']);
    expect(sorted('en')).toEqual(['one', 'other']);
  });
});
