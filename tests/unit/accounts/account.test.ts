import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_LOGIN_POLICY,
  accountEmail,
  accountThrottleKey,
  CLIENT_LOGIN_POLICY,
  LOGIN_POLICY,
  loginThrottleKeys,
  minutesToWait,
  passwordProblem,
  PASSWORD_MIN_LENGTH,
  safeNextPath,
  waitAfterFailures,
} from '../../../server/accounts/account.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const SITE = 'https://letters.example.org';

/** Milliseconds from NOW until the wait ends, or null for no wait. */
function waitMs(failures: number): number | null {
  const until = waitAfterFailures(failures, NOW);
  return until ? until.getTime() - NOW.getTime() : null;
}

describe('waiting after failed logins', () => {
  it('lets the first failures (typos) through without a wait', () => {
    expect(LOGIN_POLICY.freeFailures).toBeGreaterThan(0);
    for (let failures = 0; failures < LOGIN_POLICY.freeFailures; failures += 1) {
      expect(waitAfterFailures(failures, NOW), `${failures} failures`).toBeNull();
    }
    expect(waitAfterFailures(LOGIN_POLICY.freeFailures, NOW), 'the first failure past them').not.toBeNull();
  });

  it('starts with a short wait and doubles it with each further failure', () => {
    expect(waitMs(3)).toBe(5_000);
    expect(waitMs(4)).toBe(10_000);
    expect(waitMs(5)).toBe(20_000);
    expect(waitMs(6)).toBe(40_000);
    expect(waitMs(7)).toBe(80_000);
    expect(waitMs(8)).toBe(160_000);
  });

  it('never makes a person wait more than five minutes before the lock', () => {
    expect(waitMs(9)).toBe(5 * 60_000);
  });

  it('locks the address for 15 minutes from the tenth failure on', () => {
    for (const failures of [10, 11, 25, 1_000]) {
      expect(waitMs(failures), `${failures} failures`).toBe(15 * 60_000);
    }
  });

  it('never waits less after more failures, and never waits longer than the lock', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000 }), (failures) => {
        const now = waitMs(failures) ?? 0;
        const next = waitMs(failures + 1) ?? 0;
        expect(next).toBeGreaterThanOrEqual(now);
        expect(next).toBeLessThanOrEqual(LOGIN_POLICY.lockMs);
      }),
    );
  });

  it('follows a policy passed in', () => {
    const policy = { freeFailures: 1, firstDelayMs: 100, maxDelayMs: 250, lockAfterFailures: 5, lockMs: 999 };
    expect(waitAfterFailures(0, NOW, policy)).toBeNull();
    expect(waitAfterFailures(1, NOW, policy)!.getTime() - NOW.getTime()).toBe(100);
    expect(waitAfterFailures(3, NOW, policy)!.getTime() - NOW.getTime()).toBe(250);
    expect(waitAfterFailures(5, NOW, policy)!.getTime() - NOW.getTime()).toBe(999);
  });

  it('tells a person at least one minute, rounded up', () => {
    expect(minutesToWait(new Date(NOW.getTime() + 1_000), NOW)).toBe(1);
    expect(minutesToWait(new Date(NOW.getTime() + 60_000), NOW)).toBe(1);
    expect(minutesToWait(new Date(NOW.getTime() + 61_000), NOW)).toBe(2);
    expect(minutesToWait(new Date(NOW.getTime() - 5_000), NOW)).toBe(1);
  });
});

describe('the three login throttles', () => {
  const waitSeconds = (failures: number, policy: typeof LOGIN_POLICY) => {
    const until = waitAfterFailures(failures, NOW, policy);
    return until ? (until.getTime() - NOW.getTime()) / 1000 : 0;
  };

  it('only slows an address tried from many connections, a minute at most, however many failures', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1_000_000 }), (failures) => {
        expect(waitSeconds(failures, ACCOUNT_LOGIN_POLICY)).toBeLessThanOrEqual(60);
      }),
    );
    expect(waitSeconds(ACCOUNT_LOGIN_POLICY.freeFailures - 1, ACCOUNT_LOGIN_POLICY)).toBe(0);
    expect(waitSeconds(1_000, ACCOUNT_LOGIN_POLICY)).toBe(60);
  });

  it('lets one connection alone never reach the account’s slowing: a pair locks first', () => {
    expect(LOGIN_POLICY.lockAfterFailures).toBeLessThan(ACCOUNT_LOGIN_POLICY.freeFailures);
  });

  it('stops one connection trying many addresses, later than a pair but before long', () => {
    expect(CLIENT_LOGIN_POLICY.freeFailures).toBeGreaterThan(LOGIN_POLICY.lockAfterFailures);
    expect(waitSeconds(CLIENT_LOGIN_POLICY.freeFailures, CLIENT_LOGIN_POLICY)).toBeGreaterThan(0);
    expect(waitSeconds(CLIENT_LOGIN_POLICY.lockAfterFailures, CLIENT_LOGIN_POLICY)).toBe(3600);
  });

  it('keys each throttle by a keyed hash: never the address or IP, different per purpose and secret', () => {
    const keys = loginThrottleKeys('a secret long enough for a test', 'owner@example.org', '203.0.113.5');
    const other = loginThrottleKeys('another secret, just as long', 'owner@example.org', '203.0.113.5');
    expect(new Set(Object.values(keys)).size).toBe(3);
    for (const key of Object.values(keys)) {
      expect(key).not.toContain('owner');
      expect(key).not.toContain('203.0.113');
    }
    expect(other.pair).not.toBe(keys.pair);
    expect(keys.account).toBe(accountThrottleKey('a secret long enough for a test', ' Owner@Example.org '));
    expect(
      loginThrottleKeys('a secret long enough for a test', 'owner@example.org', '192.0.2.1').pair,
    ).not.toBe(keys.pair);
  });
});

describe('rules for a new password', () => {
  const email = 'organizer@example.org';

  it('accepts a long password of several words', () => {
    expect(passwordProblem('correct horse battery staple', email)).toBeNull();
    expect(passwordProblem('abcdefghijkl', email)).toBeNull();
  });

  it(`refuses anything shorter than ${PASSWORD_MIN_LENGTH} characters`, () => {
    expect(passwordProblem('abcdefghijk', email)).toBe('account.errors.passwordTooShort');
    fc.assert(
      fc.property(fc.string({ maxLength: PASSWORD_MIN_LENGTH - 1 }), (password) => {
        expect(passwordProblem(password, email)).toBe('account.errors.passwordTooShort');
      }),
    );
  });

  it('counts characters, not UTF-16 code units: six emoji are six characters, not twelve', () => {
    const sixEmoji = '😀😁😂🤣😃😄';
    expect(sixEmoji.length).toBe(12);
    expect(passwordProblem(sixEmoji, email)).toBe('account.errors.passwordTooShort');
    expect(passwordProblem('😀😁😂🤣😃😄😅😆😉😊😋😎', email)).toBeNull();
    expect(passwordProblem('한국어로된비밀번호입니다', email)).toBeNull();
  });

  it('refuses a password longer than 256 characters', () => {
    expect(passwordProblem('abcd'.repeat(64), email)).toBeNull();
    expect(passwordProblem('abcd'.repeat(64) + 'e', email)).toBe('account.errors.passwordTooLong');
  });

  it('refuses the account’s own e-mail address, whatever its case or surrounding spaces', () => {
    expect(passwordProblem(email, email)).toBe('account.errors.passwordIsEmail');
    expect(passwordProblem(' Organizer@Example.ORG ', email)).toBe('account.errors.passwordIsEmail');
    expect(passwordProblem(email, ' ORGANIZER@example.org')).toBe('account.errors.passwordIsEmail');
  });

  it('refuses a long password made of fewer than four different characters', () => {
    expect(passwordProblem('aaaaaaaaaaaaaaaa', email)).toBe('account.errors.passwordTooSimple');
    expect(passwordProblem('abcabcabcabcabc', email)).toBe('account.errors.passwordTooSimple');
    expect(passwordProblem('abcdabcdabcd', email)).toBeNull();
  });
});

describe('account addresses', () => {
  it('compares addresses trimmed and lower-cased, without folding dots or plus tags', () => {
    expect(accountEmail('  Kim.Ji-Hoon+Letters@Example.ORG ')).toBe('kim.ji-hoon+letters@example.org');
  });
});

describe('where to go after logging in', () => {
  it('keeps a path on this site, with its query and fragment', () => {
    expect(safeNextPath('/admin/letters/3?done=saved#collaborators')).toBe(
      '/admin/letters/3?done=saved#collaborators',
    );
    expect(safeNextPath('/admin/recipients')).toBe('/admin/recipients');
  });

  it.each([
    ['a protocol-relative URL', '//evil.example'],
    ['a protocol-relative URL with a path', '//evil.example/admin'],
    ['a full URL', 'https://evil.example'],
    ['a full URL with a local-looking path', 'https://evil.example/admin'],
    ['a backslash that browsers read as a slash', '/\\evil.example'],
    ['two backslashes', '\\\\evil.example'],
    ['a slash and a backslash', '\\/evil.example'],
    ['a javascript: URL', 'javascript:alert(1)'],
    ['a data: URL', 'data:text/html,<script>alert(1)</script>'],
    ['a tab that URL parsers drop', '/\t/evil.example'],
    ['a newline that URL parsers drop', '/\n/evil.example'],
    ['a carriage return and header', '/admin\r\nSet-Cookie: x=1'],
    ['a NUL byte', '/admin\u0000'],
    ['a dot segment that leaves two slashes', '/.//evil.example/x'],
    ['a parent segment that leaves two slashes', '/..//evil.example'],
    ['an encoded dot segment', '/%2e//evil.example'],
    ['dot segments deeper in the path', '/admin/../..//evil.example'],
    ['a relative path', 'admin'],
    ['a leading space', ' //evil.example'],
    ['the empty string', ''],
    ['a very long path', `/${'a'.repeat(600)}`],
  ])('falls back to /admin for %s', (_label, next) => {
    expect(safeNextPath(next)).toBe('/admin');
  });

  it('falls back for anything that is not a string, and to the fallback asked for', () => {
    for (const next of [undefined, null, 42, ['/admin/letters'], { path: '/admin' }, true]) {
      expect(safeNextPath(next)).toBe('/admin');
    }
    expect(safeNextPath('//evil.example', '/admin/letters')).toBe('/admin/letters');
  });

  it('never returns a target that a browser would resolve to another site', () => {
    const hostile = fc.oneof(
      fc.string({ unit: 'binary' }),
      fc.webUrl(),
      fc
        .tuple(
          fc.constantFrom('/', '//', '\\', '/\\', '\\/', '///', '/\t/', ' /', 'http:', 'https:', '/%2F'),
          fc.string({ unit: 'binary' }),
        )
        .map(([prefix, rest]) => prefix + rest),
    );
    fc.assert(
      fc.property(hostile, (next) => {
        const target = safeNextPath(next);
        expect(target === next || target === '/admin').toBe(true);
        expect(new URL(target, SITE).origin).toBe(SITE);
      }),
      { numRuns: 2_000 },
    );
  });
});
