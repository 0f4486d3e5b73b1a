import { describe, expect, it } from 'vitest';
import { formatsFor } from '../../../server/lib/format.js';

const AFTERNOON = new Date('2026-12-06T15:28:13Z');

describe('dates and times in each interface language', () => {
  it('reads a Korean or Ukrainian afternoon on a 24-hour clock, never with an English AM or PM', () => {
    for (const language of ['ko', 'uk']) {
      const { dateTime, dateAndHour } = formatsFor(language);
      for (const shown of [dateTime(AFTERNOON), dateAndHour(AFTERNOON)]) {
        expect(shown, language).not.toMatch(/\b[AP]M\b/);
        expect(shown, language).toMatch(/15/);
      }
    }
    expect(formatsFor('ko').dateAndHour(AFTERNOON)).toContain('2026년 12월 6일');
  });

  it('keeps the English 12-hour clock', () => {
    expect(formatsFor('en').dateTime(AFTERNOON)).toBe('Dec 6, 2026, 3:28:13 PM UTC');
  });

  it('says the hour’s time zone, so a reader in Seoul or Kyiv does not take it for theirs', () => {
    expect(formatsFor('en').dateAndHour(AFTERNOON)).toBe('December 6, 2026 at 3:28 PM UTC');
    expect(formatsFor('ko').dateAndHour(AFTERNOON)).toBe('2026년 12월 6일 15:28 UTC');
    expect(formatsFor('uk').dateAndHour(AFTERNOON)).toBe('6 грудня 2026 р. о 15:28 UTC');
  });
});
