import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../server/lib/i18n.js';

describe('the public and supporter texts count in each language’s plural forms', () => {
  const i18n = createI18n();
  const t = (language: string) => i18n.getFixedT(language);

  it('says "1 day left", "1 month", "1 minute" and "1 value" in English, and the plural from 2', () => {
    const en = t('en');
    expect(en('letter.daysLeft', { count: 1 })).toBe('1 day left');
    expect(en('letter.daysLeft', { count: 2 })).toBe('2 days left');
    expect(en('privacy.howLong', { count: 1 })).toContain('for at most 1 month after it closes');
    expect(en('privacy.howLong', { count: 6 })).toContain('for at most 6 months after it closes');
    expect(en('limitsSigning.wait.minutes', { count: 1 })).toBe('1 minute');
    expect(en('recipients.import.errors.fieldCount', { count: 1, expected: '8' })).toMatch(
      /^This row has 1 value, but the first row names 8 columns\./,
    );
    expect(en('recipients.import.errors.tooManyRows', { count: 1 })).toMatch(/more than 1 recipient\./);
    expect(en('sentDigest.removedAfterSending', { count: 1, sha256: 'ab' })).toContain('(1 byte)');
  });

  it('uses the one, few and many forms in Ukrainian (1, 21 · 3, 22 · 5, 11)', () => {
    const uk = t('uk');
    const days = (n: number) => uk('letter.daysLeft', { count: n });
    expect([1, 21, 3, 22, 5, 11].map(days)).toEqual([
      'Залишився 1 день',
      'Залишився 21 день',
      'Залишилося 3 дні',
      'Залишилося 22 дні',
      'Залишилося 5 днів',
      'Залишилося 11 днів',
    ]);
    // After "зачекайте" the minutes are in the accusative: 1 хвилину, 3 хвилини, 5 хвилин.
    const minutes = (n: number) => uk('limitsSigning.wait.minutes', { count: n });
    expect([1, 3, 5, 21].map(minutes)).toEqual(['1 хвилину', '3 хвилини', '5 хвилин', '21 хвилину']);
    expect(uk('privacy.howLong', { count: 1 })).toContain('не довше ніж 1 місяць');
    expect(uk('privacy.howLong', { count: 3 })).toContain('не довше ніж 3 місяці');
    expect(uk('privacy.howLong', { count: 6 })).toContain('не довше ніж 6 місяців');
    expect(uk('mailbox.bytes', { count: 2 })).toBe('2 байти');
    expect(uk('mailbox.bytes', { count: 12 })).toBe('12 байтів');
    expect(uk('recipients.import.errors.fieldCount', { count: 5, expected: '8' })).toMatch(
      /^У цьому рядку 5 значень/,
    );
  });

  it('has one form in Korean, whatever the number', () => {
    const ko = t('ko');
    expect(ko('letter.daysLeft', { count: 1 })).toBe('1일 남음');
    expect(ko('letter.daysLeft', { count: 5 })).toBe('5일 남음');
    expect(ko('limitsSigning.wait.minutes', { count: 1 })).toBe('1분');
    expect(ko('privacy.howLong', { count: 6 })).toContain('최대 6개월');
  });
});
