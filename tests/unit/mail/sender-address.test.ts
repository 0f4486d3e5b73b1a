import { describe, expect, it } from 'vitest';
import { domainOf } from '../../../server/mail/mail-sender.js';
import { normaliseDomain, senderAddress, senderDomain } from '../../../server/mail/sender-address.js';

describe('normaliseDomain', () => {
  it.each([
    ['example.org', 'example.org'],
    [' Example.ORG. ', 'example.org'],
    ['пример.org', 'xn--e1afmkfd.org'],
    ['XN--E1AFMKFD.org', 'xn--e1afmkfd.org'],
    ['mail-1.example.org', 'mail-1.example.org'],
  ])('makes %j %j', (name, normalised) => {
    expect(normaliseDomain(name)).toBe(normalised);
  });

  it.each(['', '.', 'exa mple.org', 'a..b', '-a.org', 'ex@mple.org', '[192.0.2.1]', 'example.org..'])(
    'finds no domain name in %j',
    (name) => {
      expect(normaliseDomain(name)).toBe('');
    },
  );
});

describe('senderAddress and senderDomain: a From value read as nodemailer sends it', () => {
  it.each([
    ['Undersigned <letters@Example.org>', 'letters@Example.org', 'example.org'],
    ['letters@example.org (Undersigned)', 'letters@example.org', 'example.org'],
    ['"Undersigned, Seoul" <letters@example.org>', 'letters@example.org', 'example.org'],
    ['letters@пример.org', 'letters@пример.org', 'xn--e1afmkfd.org'],
    ['letters@example.org, other@example.net', 'letters@example.org', 'example.org'],
    ['letters', '', ''],
    ['Undersigned <letters>', 'letters', ''],
  ])('reads %j as %j at %j', (from, address, domain) => {
    expect(senderAddress(from)).toBe(address);
    expect(senderDomain(from)).toBe(domain);
  });

  it('gives Message-IDs the domain of a From in the comment form too', () => {
    expect(domainOf('letters@example.org (Undersigned)')).toBe('example.org');
    expect(domainOf('Undersigned <letters@undersigned.example.org>')).toBe('undersigned.example.org');
  });
});
