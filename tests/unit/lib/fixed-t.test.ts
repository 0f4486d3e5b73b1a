import { describe, expect, it, vi } from 'vitest';
import { type CompileInput, LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { createI18n, fixedT } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';

/** A delivered letter's update in `language`, with one named signatory. */
const update = (language: string): CompileInput => ({
  kind: 'update',
  text: {
    language,
    title: 'Title',
    summary: 'Summary.',
    body: 'We ask you to protect the captured soldiers.',
  },
  recipient: { name: 'Embassy of Testland', title: '', organisation: '', salutation: 'Excellency' },
  date: new Date('2026-12-05T10:00:00Z'),
  signatureCount: 2,
  countries: [{ code: 'KR', count: 2 }],
  annex: { entries: [{ name: 'Signatory', country: 'KR', affiliation: '' }], unnamed: 1 },
  organisations: [],
  sponsor: '',
  letterUrl: 'http://localhost/letters/title',
  replyTo: '',
  pdfAttached: false,
});

describe('one t per language', () => {
  it('is made once per language for all the letters and e-mails rendered, not once per text', () => {
    const i18n = createI18n();
    const made = vi.spyOn(i18n, 'getFixedT');
    const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);
    for (const language of ['uk', 'uk', 'ko', 'uk']) compiler.compile(update(language));
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
