import { describe, expect, it } from 'vitest';
import {
  fromAcceptLanguage,
  languageCookie,
  localPath,
  withLanguages,
} from '../../../server/http/language.js';

describe('the interface language an Accept-Language header prefers', () => {
  it('is the offered language with the highest q, its region ignored', () => {
    expect(fromAcceptLanguage('fr-FR, en;q=0.5, uk-UA;q=0.8')).toBe('uk');
    expect(fromAcceptLanguage('ko-KR,ko;q=0.9')).toBe('ko');
  });

  it('keeps the order of the header between equal q, and q=0 means not this one', () => {
    expect(fromAcceptLanguage('uk, ko')).toBe('uk');
    expect(fromAcceptLanguage('ko;q=0, en;q=0.1')).toBe('en');
  });

  it('is none for no header, or only languages not offered', () => {
    expect(fromAcceptLanguage(undefined)).toBeUndefined();
    expect(fromAcceptLanguage('de, fr;q=0.5')).toBeUndefined();
  });
});

describe('the language cookie read before cookie-parser runs', () => {
  it('is read as cookie-parser reads it: unquoted, URI-decoded, the first of two', () => {
    expect(languageCookie('us_lang=uk')).toBe('uk');
    expect(languageCookie('us_lang="uk"')).toBe('uk');
    expect(languageCookie('us_lang=%75k')).toBe('uk');
    expect(languageCookie('a=1;  us_lang = ko ; us_lang=uk')).toBe('ko');
    expect(languageCookie('us_lang=%E0%A4%A')).toBe('%E0%A4%A');
    expect(languageCookie('other=uk')).toBeUndefined();
    expect(languageCookie(undefined)).toBeUndefined();
  });
});

describe('the address the switcher goes back to', () => {
  it('is the page without its lang=, the rest of the query kept', () => {
    expect(localPath('/privacy?lang=ko&x=1')).toBe('/privacy?x=1');
    expect(localPath('/letters/protect?text=ko&lang=en')).toBe('/letters/protect?text=ko');
  });

  it("keeps a letter's text that an old link chose with lang= (switching the interface never switches the text)", () => {
    expect(localPath('/letters/protect?lang=ko')).toBe('/letters/protect?text=ko');
    expect(localPath('/letters/protect/thank-you?lang=uk')).toBe('/letters/protect/thank-you?text=uk');
    expect(localPath('/letters/protect?lang=..%2F')).toBe('/letters/protect');
  });

  it('is the home page for anything not a path of this site', () => {
    for (const next of [
      '//evil.example',
      '/\\evil.example',
      'https://evil.example/',
      '/.//evil.example',
      '',
      3,
    ])
      expect(localPath(next), String(next)).toBe('/');
  });
});

describe('a link that keeps the languages of the page it is on', () => {
  const on = (query: Record<string, unknown>, language: string) =>
    [{ query }, { locals: { language } }] as const;

  it('carries the lang= the address chose, whatever the reader would get without it', () => {
    expect(withLanguages('/letters/protect', ...on({ lang: 'ko' }, 'ko'))).toBe('/letters/protect?lang=ko');
  });

  it('carries no lang= the address did not choose, or could not', () => {
    expect(withLanguages('/letters/protect', ...on({}, 'ko'))).toBe('/letters/protect');
    expect(withLanguages('/letters/protect', ...on({ lang: 'de' }, 'en'))).toBe('/letters/protect');
  });

  it("names the letter's text only when it is not the interface language", () => {
    expect(withLanguages('/letters/protect', ...on({ lang: 'uk' }, 'uk'), 'ko')).toBe(
      '/letters/protect?lang=uk&text=ko',
    );
    expect(withLanguages('/letters/protect', ...on({ lang: 'ko' }, 'ko'), 'ko')).toBe(
      '/letters/protect?lang=ko',
    );
    expect(withLanguages('/letters/protect', ...on({}, 'en'), 'en')).toBe('/letters/protect');
  });

  it('merges with a query already on the path', () => {
    expect(withLanguages('/letters/protect?text=uk', ...on({ lang: 'en' }, 'en'))).toBe(
      '/letters/protect?text=uk&lang=en',
    );
  });
});
