import { describe, expect, it } from 'vitest';
import { LETTER_LANGUAGES } from '../../../server/lib/languages.js';
import {
  NEUTRAL_SALUTATIONS,
  neutralSalutation,
  salutationFor,
} from '../../../server/recipients/recipient-salutation.js';

describe('the salutation a letter opens with', () => {
  const salutations = { en: 'Dear Ambassador', ko: '존경하는 대사님께' };

  it("is the recipient's salutation in the language of the text", () => {
    expect(salutationFor(salutations, 'ko')).toBe('존경하는 대사님께');
    expect(salutationFor(salutations, 'en')).toBe('Dear Ambassador');
  });

  it("is that language's neutral greeting when they have none in it, never one in another language", () => {
    expect(salutationFor(salutations, 'uk')).toBe('Шановні пані та панове');
    expect(salutationFor({ ko: '존경하는 장관님께' }, 'en')).toBe('Dear Sir or Madam');
    expect(salutationFor({ en: 'Dear Minister' }, 'ko')).toBe('존경하는 관계자 여러분께');
    expect(salutationFor({ en: 'Dear Minister' }, 'de')).toBe('Sehr geehrte Damen und Herren');
    // A blank one counts as none.
    expect(salutationFor({ uk: '  ' }, 'uk')).toBe('Шановні пані та панове');
  });

  it('takes the fallback it is given instead of the neutral greeting', () => {
    expect(salutationFor({}, 'en', '')).toBe('');
  });

  it('has a neutral greeting in every language letters are sent in, without closing punctuation', () => {
    for (const language of LETTER_LANGUAGES) {
      expect(NEUTRAL_SALUTATIONS[language], language).toBeTruthy();
      expect(neutralSalutation(language), language).not.toMatch(/[,!.:]$/);
    }
  });
});
