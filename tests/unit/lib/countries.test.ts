import { describe, expect, it } from 'vitest';
import {
  countryChoices,
  countryName,
  countryOptions,
  MAX_FEATURED_COUNTRIES,
} from '../../../server/lib/countries.js';

describe('the country list of the signing form', () => {
  it('names countries in the reader language', () => {
    expect(countryName('KR', 'en')).toBe('South Korea');
    expect(countryName('KR', 'ko')).toBe('대한민국');
    expect(countryName('UA', 'uk')).toBe('Україна');
  });

  it("sorts by the reader language's collation, not by code or by English name", () => {
    const korean = countryOptions('ko').map((c) => c.name);
    expect(korean).toEqual([...korean].sort(new Intl.Collator('ko').compare));
    // 가나 (Ghana) comes before 대한민국 (South Korea) in Korean, though G and S are the other way in English.
    expect(korean.indexOf('가나')).toBeLessThan(korean.indexOf('대한민국'));
    const ukrainian = countryOptions('uk').map((c) => c.name);
    expect(ukrainian).toEqual([...ukrainian].sort(new Intl.Collator('uk').compare));
    // Ukrainian order puts Є after Е and І after И: "Естонія" < "Єгипет" < "Ізраїль".
    expect(ukrainian.indexOf('Естонія')).toBeLessThan(ukrainian.indexOf('Єгипет'));
    expect(ukrainian.indexOf('Єгипет')).toBeLessThan(ukrainian.indexOf('Ізраїль'));
  });

  it("puts the letter's own countries first, in the order given, and lists every country once", () => {
    const { featured, others } = countryChoices('uk', ['KR', 'UA', 'KR', 'XX', 'US']);
    expect(featured).toEqual([
      { code: 'KR', name: countryName('KR', 'uk') },
      { code: 'UA', name: 'Україна' },
      { code: 'US', name: countryName('US', 'uk') },
    ]);
    const codes = [...featured, ...others].map((c) => c.code);
    expect(new Set(codes).size).toBe(codes.length);
    expect(codes.length).toBe(countryOptions('uk').length);
    expect(others.map((c) => c.code)).not.toContain('UA');
  });

  it('keeps the first list short', () => {
    const many = countryOptions('en').map((c) => c.code);
    expect(countryChoices('en', many).featured).toHaveLength(MAX_FEATURED_COUNTRIES);
    expect(countryChoices('en', []).featured).toEqual([]);
  });
});
