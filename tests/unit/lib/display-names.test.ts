import { describe, expect, it } from 'vitest';
import { countryName } from '../../../server/lib/countries.js';
import { displayNamesIn } from '../../../server/lib/format.js';
import { languageName } from '../../../server/lib/languages.js';

describe('names of countries and languages', () => {
  it('names a country in English when the reader language is malformed, instead of failing', () => {
    for (const language of ['not a tag!', '', 'en_', '-ko'])
      expect(countryName('KR', language), language).toBe('South Korea');
  });

  it('names a language in English when the reader language is malformed, and gives a malformed code back as it is', () => {
    expect(languageName('ko', 'not a tag!')).toBe('Korean');
    expect(languageName('not a code!', 'en')).toBe('not a code!');
  });

  it('names countries and languages in the reader language with the same cached names as everything else', () => {
    expect(countryName('KR', 'ko')).toBe(displayNamesIn('ko', 'region').of('KR'));
    expect(countryName('UA', 'uk')).toBe(displayNamesIn('uk', 'region').of('UA'));
    expect(languageName('uk', 'ko')).toBe(displayNamesIn('ko', 'language').of('uk'));
    expect(languageName('ko', 'uk')).toBe(displayNamesIn('uk', 'language').of('ko'));
  });
});
