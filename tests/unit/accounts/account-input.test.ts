import { describe, expect, it } from 'vitest';
import { parseLogin, parseNewPassword, parseResetRequest } from '../../../server/accounts/account-input.js';

describe('the account forms', () => {
  it('reads a login with the address trimmed and a local path to go to next', () => {
    expect(parseLogin({ email: '  ana@example.org ', password: ' secret ', next: '/admin/letters' })).toEqual(
      {
        ok: true,
        email: 'ana@example.org',
        password: ' secret ',
        next: '/admin/letters',
      },
    );
  });

  it('never sends a login elsewhere than a local path', () => {
    const form = parseLogin({ email: 'ana@example.org', password: 'x', next: 'https://evil.example/' });
    expect(form.ok && form.next).toBe('/admin');
  });

  it('asks for both login fields, keeping what was typed, and reads repeated or missing fields as empty', () => {
    expect(parseLogin({ email: 'ana@example.org' })).toEqual({
      ok: false,
      values: { email: 'ana@example.org', next: '/admin' },
      errorKey: 'account.errors.missingCredentials',
    });
    expect(parseLogin({ email: ['a@example.org', 'b@example.org'], password: ['x', 'y'] }).ok).toBe(false);
  });

  it('refuses a new password typed differently twice, on the second field', () => {
    expect(parseNewPassword({ password: 'one long password', confirm: 'one long passw0rd' })).toEqual({
      ok: false,
      errors: { confirm: 'account.errors.passwordsDiffer' },
    });
    expect(parseNewPassword({ current: 'old', password: 'new one', confirm: 'new one' })).toEqual({
      ok: true,
      current: 'old',
      password: 'new one',
    });
  });

  it('asks for a reset link only for something shaped like an address', () => {
    expect(parseResetRequest({ email: ' ana@example.org ' })).toEqual({ ok: true, email: 'ana@example.org' });
    expect(parseResetRequest({ email: 'not an address' })).toEqual({
      ok: false,
      values: { email: 'not an address' },
      errors: { email: 'account.errors.emailInvalid' },
    });
  });
});
