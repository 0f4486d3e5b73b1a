import { describe, expect, it } from 'vitest';
import { recipientNameKey } from '../../../server/recipients/recipient-import.js';
import { importChoices } from '../../../server/recipients/recipient-input.js';

describe('names compared for possible duplicates in an import', () => {
  it.each([
    ['Ministry of Unification', '  ministry   of UNIFICATION '],
    ['Ministry of Unification', 'Ministry\tof\nUnification'],
    ['Посольство України', 'посольство україни'],
    ['Café Ministry', 'Cafe\u0301 Ministry'],
    ['ＵＮＨＣＲ Korea', 'unhcr korea'],
    ['통일부', ' 통일부 '],
  ])('takes %j and %j as the same name', (a, b) => {
    expect(recipientNameKey(a)).toBe(recipientNameKey(b));
  });

  it.each([
    ['Ministry of Unification', 'Ministry of Unification Office'],
    ['Ministry of Unification', 'Ministry-of-Unification'],
    ['Cafe Ministry', 'Café Ministry'],
  ])('keeps %j and %j apart', (a, b) => {
    expect(recipientNameKey(a)).not.toBe(recipientNameKey(b));
  });
});

describe('the choices posted with an import', () => {
  it('reads skip, add and update-<id> by line', () => {
    expect(
      importChoices({
        'choice-3': 'skip',
        'choice-4': 'add',
        'choice-12': 'update-7',
        'choice-13': 'update-2147483647',
        _csrf: 'x',
      }),
    ).toEqual(
      new Map([
        [3, { kind: 'skip' }],
        [4, { kind: 'add' }],
        [12, { kind: 'update', recipientId: 7 }],
        [13, { kind: 'update', recipientId: 2147483647 }],
      ]),
    );
  });

  it('leaves out what is not a choice: other fields, other values, repeated fields, line 0', () => {
    expect(
      importChoices({
        'choice-0': 'add',
        'choice-x': 'add',
        'choice-5': ['add', 'skip'],
        'choice-6': 'update-0',
        'choice-7': 'update-1e3',
        'choice-8': 'ADD',
        'choice-9': 'update-99999999999999999',
        // Past the largest id a table holds (PostgreSQL's integer): no recipient has it.
        'choice-10': 'update-2147483648',
      }),
    ).toEqual(new Map());
  });
});
