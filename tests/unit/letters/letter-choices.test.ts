import { describe, expect, it } from 'vitest';
import { letterOptions } from '../../../server/letters/letter-choices.js';

const letters = [
  { id: 1, slug: 'a-third-path', title: 'A third path to safety' },
  { id: 2, slug: 'a-third-path-draft', title: 'A third path to safety' },
  { id: 3, slug: 'let-them-choose', title: 'Let them choose freedom' },
];

describe('letterOptions', () => {
  it('tells letters of one title apart by their address, and labels the others by title alone', () => {
    expect(letterOptions(letters, 'a-third-path-draft').map((o) => [o.label, o.selected])).toEqual([
      ['A third path to safety (/letters/a-third-path)', false],
      ['A third path to safety (/letters/a-third-path-draft)', true],
      ['Let them choose freedom', false],
    ]);
  });

  it('keeps a chosen address that is not among them as an option of its own', () => {
    expect(letterOptions(letters, 'gone').at(-1)).toEqual({
      id: 0,
      slug: 'gone',
      title: 'gone',
      label: 'gone',
      selected: true,
    });
  });
});
