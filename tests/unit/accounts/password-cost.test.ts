import { describe, expect, it } from 'vitest';
import {
  decoyHash,
  hashPassword,
  hashPasswordsAtCost,
  PASSWORD_HASH_COST,
  verifyPassword,
} from '../../../server/accounts/passwords.js';

/** The cost a hash was made with, from its PHC string ($argon2id$v=19$m=…,t=…,p=…$salt$hash). */
function costOf(hashed: string): { algorithm: string; m: number; t: number; p: number } {
  const match = /^\$(argon2id)\$v=19\$m=(\d+),t=(\d+),p=(\d+)\$/.exec(hashed);
  expect(match, hashed).not.toBeNull();
  return { algorithm: match![1]!, m: Number(match![2]), t: Number(match![3]), p: Number(match![4]) };
}

// The unit project has no password-cost setup: the app's own cost applies here. The other projects hash
// test accounts at the smallest cost (tests/support/password-cost-setup.ts); this file keeps the
// production parameters checked.
describe('the cost passwords are hashed at', () => {
  it('is Argon2id with 19 MiB, 2 passes and 1 lane (the OWASP baseline) in the app', async () => {
    expect(PASSWORD_HASH_COST).toEqual({ memoryCost: 19_456, timeCost: 2, parallelism: 1 });
    expect(costOf(await hashPassword('a long test password, not a real one'))).toEqual({
      algorithm: 'argon2id',
      m: 19_456,
      t: 2,
      p: 1,
    });
    // The decoy a login checks unknown addresses against costs the same as a real account's hash.
    expect(costOf(await decoyHash())).toEqual({ algorithm: 'argon2id', m: 19_456, t: 2, p: 1 });
  });

  it('changes only through the tests’ setter, and a hash is verified at the cost it was made with', async () => {
    try {
      hashPasswordsAtCost({ memoryCost: 8, timeCost: 1, parallelism: 1 });
      const cheap = await hashPassword('a long test password, not a real one');
      expect(costOf(cheap)).toEqual({ algorithm: 'argon2id', m: 8, t: 1, p: 1 });
      hashPasswordsAtCost(PASSWORD_HASH_COST);
      // Made cheaply, still checked: verification reads m, t and p from the hash.
      expect(await verifyPassword(cheap, 'a long test password, not a real one')).toBe(true);
      expect(await verifyPassword(cheap, 'a wrong password')).toBe(false);
      expect(costOf(await hashPassword('x'))).toMatchObject({ m: 19_456, t: 2, p: 1 });
    } finally {
      hashPasswordsAtCost(PASSWORD_HASH_COST);
    }
  });
});
