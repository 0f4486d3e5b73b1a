import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../server/lib/i18n.js';
import { formatsFor } from '../../../server/lib/format.js';
import { checkLetterSizeForSave, describeProblem } from '../../../server/letters/letter-text-check.js';

const NBSP = '\u00a0';

describe('numbers and dates in each language', () => {
  it('formats numbers by the language: 12,345 in English and Korean, 12 345 in Ukrainian', () => {
    expect(formatsFor('en').number(12345)).toBe('12,345');
    expect(formatsFor('ko').number(12345)).toBe('12,345');
    expect(formatsFor('uk').number(12345)).toBe(`12${NBSP}345`);
  });

  it('writes dates as each language does, in UTC', () => {
    const day = new Date('2026-12-05T23:30:00Z');
    expect(formatsFor('en').date(day)).toBe('December 5, 2026');
    expect(formatsFor('ko').date(day)).toBe('2026년 12월 5일');
    expect(formatsFor('uk').date(day)).toBe('5 грудня 2026 р.');
    expect(formatsFor('ko').day(day)).toBe('12월 5일');
    expect(formatsFor('uk').time(day)).toBe('23:30');
  });

  it("writes the figures of a refused delivery as the reader's language writes numbers", () => {
    const i18n = createI18n();
    const params = { language: 'en', line: 6, block: '{{#each signatories}}', count: 12_000, max: 1_000_000 };
    const en = i18n.getFixedT('en')('limits.deliveryRefused', params);
    expect(en).toContain('with 12,000 signatures');
    expect(en).toContain('longer than 1,000,000 characters');
    expect(i18n.getFixedT('uk')('limits.deliveryRefused', params)).toContain(`(12${NBSP}000)`);
    expect(i18n.getFixedT('ko')('limits.deliveryRefused', params)).toContain('서명 12,000건');
  });

  it('makes the formatters of a language once and keeps them', () => {
    expect(formatsFor('uk')).toBe(formatsFor('uk'));
    expect(formatsFor('ko')).not.toBe(formatsFor('uk'));
  });

  it('formats an unknown language tag as English instead of throwing', () => {
    expect(formatsFor('not a tag!').number(1000)).toBe('1,000');
  });

  it("writes a letter text's size problem with figures in the reader's language, not always in English", () => {
    const t = createI18n().getFixedT('uk');
    const problem = checkLetterSizeForSave(
      '{{#each signatories}}{{name}}, {{country}}\n{{/each}}',
      'en',
      100_000,
      (code) => code,
    );
    const message = describeProblem(problem!, t, 'uk');
    expect(message).toContain(`100${NBSP}000`);
    expect(message).not.toContain('100,000');
  });
});
