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

  it('ignores values that are not language codes, or repeated', () => {
    expect(requestedTextLanguage({ text: '../../etc', lang: ['ko', 'uk'] }, 'en')).toBe('en');
    expect(requestedTextLanguage({ text: 'KO' }, 'en')).toBe('en');
  });

  it('ignores a code no letter is written in, so the reader keeps their own language', () => {
    // /letters/x?lang=zz for a Korean reader showed the English text.
    expect(requestedTextLanguage({ lang: 'zz' }, 'ko')).toBe('ko');
    expect(requestedTextLanguage({ text: 'zz', lang: 'uk' }, 'ko')).toBe('uk');
  });
});

describe('links to a letter in a language', () => {
  it('name the text of a translation, always', () => {
    expect(letterTextPath('protect', 'ko')).toBe('/letters/protect?text=ko');
  });

  it("are the letter's pages with the slug escaped", () => {
    expect(letterPath('protect', '/check-your-inbox')).toBe('/letters/protect/check-your-inbox');
    expect(letterPath('a b')).toBe('/letters/a%20b');
  });
});
