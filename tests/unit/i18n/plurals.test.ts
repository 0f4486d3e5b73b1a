import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatsFor } from '../../../server/lib/format.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { viewsDir } from '../../../server/lib/paths.js';

// The key the letter page shows its count with, read from the partial itself so a renamed key is followed.
const stats = readFileSync(path.join(viewsDir, 'partials', 'letter-stats.hbs'), 'utf8');
const COUNT_KEY =
  /class="stats__count">\{\{t "([^"]+)"/.exec(stats)?.[1] ?? 'no count key in letter-stats.hbs';

describe("the letter page's signature count in each language's plural forms", () => {
  const i18n = createI18n();
  const count = (language: string, n: number) =>
    i18n.getFixedT(language)(COUNT_KEY, { count: n, formatted: formatsFor(language).number(n) });

  it('says "1 signature" and "2 signatures" in English', () => {
    expect(count('en', 1)).toBe('1 signature');
    expect(count('en', 2)).toBe('2 signatures');
    expect(count('en', 1000)).toBe('1,000 signatures');
  });

  it('says 1 підпис, 3 підписи, 5 підписів, 21 підпис, 11 підписів in Ukrainian', () => {
    expect(count('uk', 1)).toBe('1 підпис');
    expect(count('uk', 3)).toBe('3 підписи');
    expect(count('uk', 5)).toBe('5 підписів');
    expect(count('uk', 11)).toBe('11 підписів');
    expect(count('uk', 21)).toBe('21 підпис');
    expect(count('uk', 22)).toBe('22 підписи');
  });

  it('has one form in Korean, whatever the number', () => {
    const one = count('ko', 1);
    const five = count('ko', 5);
    expect(one).toMatch(/^1\D/);
    expect(five).toBe(one.replace(/^1/, '5'));
    expect(count('ko', 1000)).toBe(one.replace(/^1/, '1,000'));
  });
});
