import { describe, expect, it } from 'vitest';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { formatsFor } from '../../../server/lib/format.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { updateInput } from '../../support/compile-input.js';

const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);

describe("a delivered letter's signature figure", () => {
  it('is the same number, written as its language writes numbers, in the subject, the banner and the countries heading', () => {
    for (const language of ['en', 'ko', 'uk']) {
      const t = i18n.getFixedT(language);
      const options = { count: 12_345, formatted: formatsFor(language).number(12_345) };
      const { email } = compiler.compile(updateInput(language, 12_345, 0));
      expect(email.subject, language).toBe(
        t('emails.letter-delivery.updateSubject', { ...options, title: 'Title' }),
      );
      for (const part of [email.text, email.html]) {
        expect(part, language).toContain(t('emails.letter-delivery.updateBanner', options));
        expect(part, language).toContain(t('emails.letter-delivery.byCountry', options));
      }
    }
  });
});
