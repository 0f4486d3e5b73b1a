import { describe, expect, it } from 'vitest';
import {
  domainMatches,
  domainOfAddress,
  entryMatches,
  ipInRange,
  normaliseCidr,
  normaliseDomain,
  readableDomain,
  type AttemptSource,
} from '../../../server/abuse/abuse-list.js';
import { DisposableDomains } from '../../../server/abuse/disposable-domains.js';

describe('address ranges (CIDR)', () => {
  it.each([
    ['192.0.2.7/24', '192.0.2.0/24'],
    ['192.0.2.7', '192.0.2.7/32'],
    [' 10.1.2.3/8 ', '10.0.0.0/8'],
    ['2001:db8::1/32', '2001:db8::/32'],
    ['2001:DB8::1', '2001:db8::1/128'],
    ['::ffff:192.0.2.1', '192.0.2.1/32'],
    ['::ffff:192.0.2.0/120', '192.0.2.0/24'],
  ])('writes %s in one normal form, %s', (input, expected) => {
    expect(normaliseCidr(input)).toBe(expected);
  });

  it.each([
    '',
    'abc',
    '10.0.0.0/33',
    '2001:db8::/129',
    '1.2.3',
    '0x7f.1',
    '10.0.0.0/',
    '10.0.0.0/8/8',
    '10.0.0.0/-1',
    '300.1.1.1',
  ])('refuses %j, which is not an address range', (input) => {
    expect(normaliseCidr(input)).toBeUndefined();
  });

  it('matches addresses inside an IPv4 range and nothing outside it', () => {
    expect(ipInRange('192.0.2.55', '192.0.2.0/24')).toBe(true);
    expect(ipInRange('192.0.3.1', '192.0.2.0/24')).toBe(false);
    expect(ipInRange('192.0.2.1', '192.0.2.1/32')).toBe(true);
    expect(ipInRange('192.0.2.2', '192.0.2.1/32')).toBe(false);
  });

  it('matches an IPv4 client that arrives IPv4-mapped on a dual-stack listener', () => {
    expect(ipInRange('::ffff:192.0.2.55', '192.0.2.0/24')).toBe(true);
  });

  it('matches addresses inside an IPv6 range and nothing outside it', () => {
    expect(ipInRange('2001:db8:1::5', '2001:db8::/32')).toBe(true);
    expect(ipInRange('2001:db9::5', '2001:db8::/32')).toBe(false);
  });

  it('never matches across families or an unreadable client address', () => {
    expect(ipInRange('192.0.2.1', '2001:db8::/32')).toBe(false);
    expect(ipInRange('2001:db8::1', '0.0.0.0/0')).toBe(false);
    expect(ipInRange('garbage', '0.0.0.0/0')).toBe(false);
  });
});

describe('e-mail domains', () => {
  it('keeps a domain in lower case without a leading @ or trailing dot', () => {
    expect(normaliseDomain('@Mailinator.COM')).toBe('mailinator.com');
    expect(normaliseDomain('mail.example.org.')).toBe('mail.example.org');
  });

  it('keeps an internationalised domain as mail servers know it, and shows it as people read it', () => {
    // An admin walkthrough could not block 예시.한국: "Enter an e-mail domain such as example.org."
    expect(normaliseDomain('예시.한국')).toBe('xn--vv4b11d.xn--3e0b707e');
    expect(normaliseDomain('@ПРИКЛАД.укр')).toBe('xn--80aikifvh.xn--j1amh');
    expect(readableDomain('xn--vv4b11d.xn--3e0b707e')).toBe('예시.한국 (xn--vv4b11d.xn--3e0b707e)');
    expect(readableDomain('example.org')).toBe('example.org');
    // An address at it is matched, whichever form it was typed in.
    for (const email of ['kim@예시.한국', 'kim@xn--vv4b11d.xn--3e0b707e', 'kim@mail.예시.한국'])
      expect(domainMatches(domainOfAddress(email), normaliseDomain('예시.한국')!)).toBe(true);
  });

  it.each(['', 'x', 'bad_domain.org', 'a@b.org', 'example', '-x.org', 'x..org'])('refuses %j', (input) => {
    expect(normaliseDomain(input)).toBeUndefined();
  });

  it('matches the domain and its subdomains, not look-alikes', () => {
    expect(domainMatches('example.org', 'example.org')).toBe(true);
    expect(domainMatches('mail.example.org', 'example.org')).toBe(true);
    expect(domainMatches('badexample.org', 'example.org')).toBe(false);
    expect(domainMatches('example.org.evil.test', 'example.org')).toBe(false);
  });
});

describe('matching an entry against an attempt', () => {
  const source: AttemptSource = {
    ip: '198.51.100.20',
    ipHash: 'hash-of-the-ip',
    emailDomain: 'mail.example.net',
    emailHash: 'hash-of-the-address',
  };

  it('matches each kind on its own part of the attempt', () => {
    expect(entryMatches({ kind: 'ip', value: '198.51.100.0/24' }, source)).toBe(true);
    expect(entryMatches({ kind: 'ip-hash', value: 'hash-of-the-ip' }, source)).toBe(true);
    expect(entryMatches({ kind: 'domain', value: 'example.net' }, source)).toBe(true);
    expect(entryMatches({ kind: 'address', value: 'hash-of-the-address' }, source)).toBe(true);
  });

  it('matches nothing else', () => {
    expect(entryMatches({ kind: 'ip', value: '198.51.101.0/24' }, source)).toBe(false);
    expect(entryMatches({ kind: 'ip-hash', value: 'another' }, source)).toBe(false);
    expect(entryMatches({ kind: 'domain', value: 'example.com' }, source)).toBe(false);
    expect(entryMatches({ kind: 'address', value: 'another' }, source)).toBe(false);
  });

  it('does not match an address range when the client address is unknown', () => {
    expect(entryMatches({ kind: 'ip', value: '0.0.0.0/0' }, { ...source, ip: undefined })).toBe(false);
  });
});

describe('disposable e-mail domains (from the maintained list)', () => {
  const disposable = new DisposableDomains();

  it('knows well-known throwaway domains and their subdomains', () => {
    expect(disposable.includes('mailinator.com')).toBe(true);
    expect(disposable.includes('MAILINATOR.com')).toBe(true);
    expect(disposable.includes('x.mailinator.com')).toBe(true);
  });

  it('does not flag ordinary domains', () => {
    expect(disposable.includes('example.org')).toBe(false);
    expect(disposable.includes('gmail.com')).toBe(false);
    expect(disposable.includes('com')).toBe(false);
  });
});
