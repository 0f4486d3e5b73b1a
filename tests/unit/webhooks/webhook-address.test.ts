import { describe, expect, it } from 'vitest';
import {
  AddressRefused,
  checkedAddress,
  refusedAddress,
  urlProblem,
} from '../../../server/webhooks/webhook-address.js';
import { nextAttemptAt, signatureOf } from '../../../server/webhooks/webhook.js';

describe('the webhook address guard', () => {
  it.each([
    ['127.0.0.1', 'loopback'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.169.254', 'linkLocal'],
    ['100.64.0.1', 'carrierGradeNat'],
    ['0.0.0.0', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['255.255.255.255', 'broadcast'],
    ['::1', 'loopback'],
    ['::', 'unspecified'],
    ['fe80::1', 'linkLocal'],
    ['fd00:ec2::254', 'uniqueLocal'],
    ['ff02::1', 'multicast'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:169.254.169.254', 'linkLocal'],
    ['2002:7f00:1::', '6to4'],
    ['64:ff9b::7f00:1', 'rfc6052'],
  ])('refuses %s (%s)', (address, range) => {
    expect(refusedAddress(address)).toBe(range);
  });

  it('allows public unicast addresses', () => {
    for (const address of [
      '93.184.216.34',
      '8.8.8.8',
      '2606:2800:220:1:248:1893:25c8:1946',
      '::ffff:8.8.8.8',
    ])
      expect(refusedAddress(address), address).toBeNull();
  });

  it('refuses URLs by their text: scheme, credentials, private literals and names', () => {
    expect(urlProblem('http://example.org/hook', false)).toBe('scheme');
    expect(urlProblem('ftp://example.org/hook', true)).toBe('scheme');
    expect(urlProblem('not a url', false)).toBe('invalid');
    expect(urlProblem('https://user:pw@example.org/', false)).toBe('credentials');
    for (const url of [
      'https://127.0.0.1/',
      'https://10.0.0.1/',
      'https://169.254.169.254/latest/meta-data',
      'https://[::1]:8443/',
      'https://[::ffff:7f00:1]/',
      'https://localhost/',
      'https://api.localhost/',
      'https://printer.local/',
      'https://metadata.google.internal/',
      'https://intranet/',
      'https://0x7f000001/',
      'https://2130706433/',
    ])
      expect(urlProblem(url, false), url).toBe('private');
    expect(urlProblem('https://hooks.example.org/x', false)).toBeNull();
    // The development setting allows loopback over http.
    expect(urlProblem('http://127.0.0.1:9000/hook', true)).toBeNull();
  });

  it('checks every address a name resolves to: one private address refuses it (a resolver may hand out either)', async () => {
    const rebinding = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '127.0.0.1', family: 4 },
    ];
    await expect(checkedAddress('hooks.example.org', false, rebinding)).rejects.toBeInstanceOf(
      AddressRefused,
    );
    const metadata = async () => [{ address: '169.254.169.254', family: 4 }];
    await expect(checkedAddress('hooks.example.org', false, metadata)).rejects.toThrow(/169\.254\.169\.254/);
    const failing = async () => {
      throw new Error('ENOTFOUND');
    };
    await expect(checkedAddress('hooks.example.org', false, failing)).rejects.toMatchObject({
      reason: 'unresolved',
    });
    const public_ = async () => [{ address: '93.184.216.34', family: 4 }];
    expect(await checkedAddress('hooks.example.org', false, public_)).toEqual({
      address: '93.184.216.34',
      family: 4,
    });
  });
});

describe('webhook rules', () => {
  it('signs id.timestamp.body with the secret bytes (the specification’s own example)', () => {
    // From the Standard Webhooks specification's test vectors.
    expect(
      signatureOf(
        'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
        'msg_p5jXN8AQM9LWM0D4loKWxJek',
        1614265330,
        '{"test": 2432232314}',
      ),
    ).toBe('v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  });

  it('backs off 5 s, 30 s, 2 min, 10 min, 1 h… with jitter, and gives up a day after the event', () => {
    const created = new Date('2026-12-05T00:00:00Z');
    const delay = (attempts: number, random: number, now = created) =>
      nextAttemptAt(attempts, created, now, random)!.getTime() - now.getTime();
    expect([1, 2, 3, 4, 5].map((n) => delay(n, 0.5))).toEqual([5_000, 30_000, 120_000, 600_000, 3_600_000]);
    expect(delay(1, 0)).toBe(4_000);
    expect(delay(1, 0.999)).toBeLessThanOrEqual(6_000);
    expect(nextAttemptAt(9, created, new Date(created.getTime() + 23 * 3_600_000), 0.5)).toBeNull();
  });
});
