import { describe, expect, it } from 'vitest';
import { letterPath, letterTextPath, requestedTextLanguage } from '../../../server/letters/text-language.js';

describe('the language a reader asks a letter in', () => {
  it('is ?text= first, whatever the interface language', () => {
    expect(requestedTextLanguage({ text: 'ko', lang: 'uk' }, 'en')).toBe('ko');
  });

  it("reads an old link's ?lang= as the text asked for when there is no ?text=", () => {
    expect(requestedTextLanguage({ lang: 'ko' }, 'en')).toBe('ko');
  });

  it('is the interface language when the address asks for none', () => {
    expect(requestedTextLanguage({}, 'en')).toBe('en');
  });

  it('is the plain language of an interface language with a region', () => {
    expect(requestedTextLanguage({}, 'en-US')).toBe('en');
  });

  it('ignores values that are not language codes, or repeated', () => {
    expect(requestedTextLanguage({ text: '../../etc', lang: ['ko', 'uk'] }, 'en')).toBe('en');
    expect(requestedTextLanguage({ text: 'KO' }, 'en')).toBe('en');
  });
});

describe('links to a letter in a language', () => {
  it('switch the text and keep an interface language chosen in the address', () => {
    expect(letterTextPath('protect', 'ko', { lang: 'en' }, 'en')).toBe('/letters/protect?text=ko&lang=en');
  });

  it('do not carry a ?lang= the interface could not honour', () => {
    expect(letterTextPath('protect', 'en', { lang: 'ko' }, 'en')).toBe('/letters/protect?text=en');
  });

  it('say ?text= only when the text is not in the interface language', () => {
    expect(letterPath('protect', '/check-your-inbox', 'en', 'en')).toBe('/letters/protect/check-your-inbox');
    expect(letterPath('protect', '', 'ko', 'en')).toBe('/letters/protect?text=ko');
    expect(letterPath('protect', '', 'en', 'en-GB')).toBe('/letters/protect');
  });
});
