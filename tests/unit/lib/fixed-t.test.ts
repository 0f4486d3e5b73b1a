import { describe, expect, it, vi } from 'vitest';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { createI18n, fixedT } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { updateInput } from '../../support/compile-input.js';

describe('one t per language', () => {
  it('is made once per language for all the letters and e-mails rendered, not once per text', () => {
    const i18n = createI18n();
    const made = vi.spyOn(i18n, 'getFixedT');
    const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);
    for (const language of ['uk', 'uk', 'ko', 'uk']) compiler.compile(updateInput(language, 2, 1, ''));
    expect(made.mock.calls.map(([language]) => language)).toEqual(['uk', 'ko']);
  });

  it('gives the same t for the same language, and each language its own words', () => {
    const i18n = createI18n();
    expect(fixedT(i18n, 'ko')).toBe(fixedT(i18n, 'ko'));
    expect(fixedT(i18n, 'ko')('emails.letter-delivery.defaultSponsor')).toBe(
      i18n.getFixedT('ko')('emails.letter-delivery.defaultSponsor'),
    );
    expect(fixedT(createI18n(), 'ko')).not.toBe(fixedT(i18n, 'ko'));
  });
});
