import { describe, expect, it } from 'vitest';
import { type CompileInput, LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { formatsFor } from '../../../server/lib/format.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';

const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);

/** An update of a letter in `language` with `count` confirmed signatures, all from Korea, none named. */
const update = (language: string, count: number): CompileInput => ({
  kind: 'update',
  text: {
    language,
    title: 'Title',
    summary: 'Summary.',
    body: 'We ask you to protect the captured soldiers.',
  },
  recipient: { name: 'Embassy of Testland', title: '', organisation: '', salutation: 'Excellency' },
  date: new Date('2026-12-05T10:00:00Z'),
  signatureCount: count,
  countries: [{ code: 'KR', count }],
  annex: { entries: [], unnamed: count },
  organisations: [],
  sponsor: 'Sponsor',
  letterUrl: 'http://localhost/letters/title',
  replyTo: '',
  pdfAttached: false,
});

describe("a delivered letter's signature figure", () => {
  it('is the same number, written as its language writes numbers, in the subject, the banner and the countries heading', () => {
    for (const language of ['en', 'ko', 'uk']) {
      const t = i18n.getFixedT(language);
      const options = { count: 12_345, formatted: formatsFor(language).number(12_345) };
      const { email } = compiler.compile(update(language, 12_345));
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
