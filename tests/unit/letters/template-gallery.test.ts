import { describe, expect, it } from 'vitest';
import { templateGallery } from '../../../server/letters/letter-dashboard-view.js';
import type { LetterTemplate } from '../../../server/letters/letter-drafting-service.js';

const TEMPLATE: LetterTemplate = {
  slug: 'let-them-choose',
  primaryLanguage: 'en',
  translations: {
    en: { title: 'Let them choose', summary: 'An appeal.' },
    ko: { title: '선택하게 해 주십시오', summary: '호소문입니다.' },
  },
  bodies: { en: 'Dear…', ko: '존경하는…' },
  recipients: [
    {
      name: 'Office of the President',
      title: '',
      organisation: '',
      email: 'office@example.org',
      language: 'uk',
      salutation: '',
    },
  ],
  sponsor: 'Test coalition',
  goal: 100,
};

describe('the template gallery', () => {
  it("shows each template in the organizer's interface language when it has it", () => {
    const [korean] = templateGallery('ko', [TEMPLATE]);
    expect(korean).toMatchObject({
      title: '선택하게 해 주십시오',
      summary: '호소문입니다.',
      textLanguage: null,
    });
    const [english] = templateGallery('en', [TEMPLATE]);
    expect(english).toMatchObject({ title: 'Let them choose', textLanguage: null });
  });

  it('falls back to its primary language, marked as such, when it has no text in the interface language', () => {
    const [ukrainian] = templateGallery('uk', [TEMPLATE]);
    expect(ukrainian).toMatchObject({ title: 'Let them choose', summary: 'An appeal.', textLanguage: 'en' });
  });
});
