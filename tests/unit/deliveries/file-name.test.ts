import { describe, expect, it } from 'vitest';
import { slugify } from '../../../server/deliveries/letter-compiler.js';

describe('slugify: a file name from a title', () => {
  it('keeps letters and digits of any script and turns the rest into single hyphens', () => {
    expect(slugify('Let them choose: freedom!')).toBe('Let-them-choose-freedom');
    expect(slugify('포로가 된 병사들에게 선택의 자유를')).toBe('포로가-된-병사들에게-선택의-자유를');
    expect(slugify('  ???  ')).toBe('letter');
  });

  it('cuts a long title after its last whole word within 80 characters, never inside a word', () => {
    const title =
      'The law does not require their return: to legislators, on North Korean prisoners of war in Ukraine';
    const name = slugify(title);
    expect(name).toBe('The-law-does-not-require-their-return-to-legislators-on-North-Korean-prisoners');
    expect(Array.from(name).length).toBeLessThanOrEqual(80);
    const ukrainian = slugify(
      'Закон не вимагає їх повернення: до законодавців щодо північнокорейських полонених у війні',
    );
    expect(ukrainian).toBe(
      'Закон-не-вимагає-їх-повернення-до-законодавців-щодо-північнокорейських-полонених',
    );
  });

  it('keeps a word ending exactly at the limit, and cuts a single word longer than it', () => {
    const eighty = `${'a'.repeat(39)}-${'b'.repeat(40)}`;
    expect(slugify(`${eighty} more`)).toBe(eighty);
    expect(slugify('x'.repeat(100))).toBe('x'.repeat(80));
  });
});
