import { describe, expect, it } from 'vitest';
import {
  hasVisibleText,
  UNSAFE_IN_A_LINE,
  UNSAFE_IN_TEXT,
  visibleTrim,
} from '../../../server/lib/unsafe-text.js';

describe('characters a form refuses', () => {
  it.each([
    ['a NUL', 'Kim\u0000'],
    ['an escape for terminals', 'Kim\u001b[2J'],
    ['a C1 control', 'Kim\u0085'],
    ['a right-to-left override', 'مرحبا \u202Eevil'],
    ['an isolate', 'x\u2066y'],
    ['a line separator', 'Kim\u2028Ji-hoon'],
    ['a paragraph separator', 'Kim\u2029Ji-hoon'],
    ['a zero-width space', 'Kim Ji\u200B-hoon'],
    ['a word joiner', 'Kim\u2060 Ji-hoon'],
    ['a zero-width no-break space', '\uFEFFKim Ji-hoon'],
  ])('refuses %s, in a line and in a text', (_label, value) => {
    expect(UNSAFE_IN_A_LINE.test(value)).toBe(true);
    expect(UNSAFE_IN_TEXT.test(value)).toBe(true);
  });

  it('refuses tabs and line breaks in a line, and keeps them in a text', () => {
    for (const value of ['tab\there', 'two\nlines', 'two\r\nlines']) {
      expect(UNSAFE_IN_A_LINE.test(value), JSON.stringify(value)).toBe(true);
      expect(UNSAFE_IN_TEXT.test(value), JSON.stringify(value)).toBe(false);
    }
  });

  it('accepts names in every script, right-to-left ones with their marks, and emoji', () => {
    for (const value of [
      '김지훈',
      'Олена Коваленко',
      'Anne-Marie O’Brien',
      'مرحبا\u200F',
      'abc\u200Edef',
      '🇺🇦 Kyiv',
      '👩\u200D👩\u200D👧',
      'می\u200Cخواهم',
    ])
      expect(UNSAFE_IN_A_LINE.test(value), value).toBe(false);
  });
});

describe('text nobody can see', () => {
  it.each([
    ['spaces of every width', ' \u00A0\u2003\u3000'],
    ['a Hangul filler', '\u3164'],
    ['the Hangul choseong and jungseong fillers', '\u115F\u1160'],
    ['the half-width Hangul filler', '\uFFA0'],
    ['the Braille blank', '\u2800'],
    ['joiners and direction marks', '\u200C\u200D\u200E\u200F'],
    ['a soft hyphen and a tag character', '\u00AD\u{E0041}'],
    ['combining marks alone', '\u0301\u034F\uFE0F'],
    ['code points drawn as nothing, unassigned ones too', '\u2065\uFFF0\u{E0080}'],
  ])('is empty when it is only %s', (_label, value) => {
    expect(hasVisibleText(value)).toBe(false);
    expect(visibleTrim(value)).toBe('');
  });

  it('keeps names in every script as they were typed, trimmed', () => {
    for (const value of ['김지훈', 'Олена', 'مرحبا\u200F', 'e\u0301', '👩\u200D👩\u200D👧', '　박　'])
      expect(visibleTrim(` ${value} `)).toBe(value.trim());
  });
});
