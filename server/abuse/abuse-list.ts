/**
 * Block and allow lists: what an entry is, how admins' input becomes one, and whether an attempt
 * matches it. Pure rules, no I/O.
 */
import { domainToASCII, domainToUnicode } from 'node:url';
import ipaddr from 'ipaddr.js';

export const ABUSE_LISTS = ['block', 'allow'] as const;
export type AbuseList = (typeof ABUSE_LISTS)[number];

/**
 * What an entry matches. `ip`: a CIDR range (a single address is a /32 or /128); `ip-hash`: one client
 * address known only by its keyed hash (blocked from the trending sources, which never show an IP);
 * `domain`: an e-mail domain and its subdomains; `address`: one e-mail address, kept as a keyed hash.
 */
export const ABUSE_KINDS = ['ip', 'ip-hash', 'domain', 'address'] as const;
export type AbuseKind = (typeof ABUSE_KINDS)[number];

/** The kinds an admin types in on the lists page (`ip-hash` entries come from the trending view). */
export const TYPED_KINDS = ['ip', 'domain', 'address'] as const;

export interface AbuseListEntry {
  id: number;
  list: AbuseList;
  kind: AbuseKind;
  /** Normalised: CIDR as `address/prefix`, domain in lower case, hashes as stored. */
  value: string;
  note: string;
  createdBy: number | null;
  createdAt: Date;
}

/** Why an admin's input is not an entry; each is a message key under `abuse.errors`. */
export type EntryInputError = 'cidrInvalid' | 'domainInvalid' | 'addressInvalid' | 'noteTooLong';

const DOMAIN = /^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$/;

/**
 * A CIDR range in one normal form (`192.0.2.0/24`, `2001:db8::/32`); a bare address becomes a single
 * host range. IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is read as the IPv4 address it carries, as a
 * client address arrives that way from a dual-stack listener.
 */
export function normaliseCidr(input: string): string | undefined {
  const text = input.trim();
  const [host = '', prefixText] = text.split('/', 2);
  // ipaddr.js also reads short forms such as `1.2.3` or `0x7f.1`; an admin typing those meant
  // something else, so IPv4 must be written as four decimal parts.
  if (!host.includes(':') && !ipaddr.IPv4.isValidFourPartDecimal(host)) return undefined;
  if (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText)) return undefined;
  try {
    if (prefixText !== undefined) {
      const [address, prefix] = ipaddr.parseCIDR(text);
      const plain = unmapped(address);
      const bits = plain === address ? prefix : prefix - 96;
      if (bits < 0) return undefined;
      const network = networkOf(plain, bits);
      return `${network}/${bits}`;
    }
    const plain = unmapped(ipaddr.parse(text));
    return `${plain.toString()}/${plain.kind() === 'ipv4' ? 32 : 128}`;
  } catch {
    return undefined;
  }
}

/**
 * Why blocking a normalised range deserves a second look, if it does: `wide` for more addresses than an
 * IPv4 /16 or an IPv6 /32 (a whole carrier, a country, or `0.0.0.0/0`: every signature from it is
 * silenced, and its supporters are never told), `own` when it holds the address the admin is at.
 */
export type RangeWarning = 'wide' | 'own';

export function rangeWarnings(cidr: string, actorIp: string | undefined): RangeWarning[] {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  const warnings: RangeWarning[] = [];
  if (bits < (network.kind() === 'ipv4' ? 16 : 32)) warnings.push('wide');
  if (actorIp !== undefined && ipInRange(actorIp, cidr)) warnings.push('own');
  return warnings;
}

/** How many addresses a normalised range holds, for the warning (2^(32 or 128 − prefix)). */
export function addressesIn(cidr: string): bigint {
  const [network, bits] = ipaddr.parseCIDR(cidr);
  return 2n ** BigInt((network.kind() === 'ipv4' ? 32 : 128) - bits);
}

function unmapped(address: ipaddr.IPv4 | ipaddr.IPv6): ipaddr.IPv4 | ipaddr.IPv6 {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

/** The first address of the range, so `192.0.2.7/24` and `192.0.2.0/24` are one entry. */
function networkOf(address: ipaddr.IPv4 | ipaddr.IPv6, bits: number): string {
  const bytes = address.toByteArray();
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Whether a client address falls in a normalised CIDR range; an unreadable address matches nothing. */
export function ipInRange(ip: string, cidr: string): boolean {
  try {
    const address = unmapped(ipaddr.parse(ip));
    const [network, bits] = ipaddr.parseCIDR(cidr);
    return address.kind() === network.kind() && address.match(network, bits);
  } catch {
    return false;
  }
}

/**
 * An e-mail domain in lower case and in its ASCII form (`예시.한국` is `xn--vv4b11d.xn--3e0b707e`, as
 * mail servers know it), or undefined when it is not a domain name (a leading `@` is allowed). Korean and
 * other internationalised domains could not be listed at all before.
 */
export function normaliseDomain(input: string): string | undefined {
  const domain = asciiDomain(input.trim().replace(/^@/, '').replace(/\.$/, ''));
  return DOMAIN.test(domain) ? domain : undefined;
}

/** The domain part of an address, in lower case and ASCII, as lists keep domains (normaliseDomain). */
export function domainOfAddress(email: string): string {
  return asciiDomain(email.trim().slice(email.lastIndexOf('@') + 1));
}

/** A domain as DNS writes it; what is not a domain at all stays as typed, in lower case, and matches nothing. */
function asciiDomain(domain: string): string {
  return domainToASCII(domain) || domain.toLowerCase();
}

/** A listed domain as people read it: `예시.한국 (xn--vv4b11d.xn--3e0b707e)`; an ASCII one as it is. */
export function readableDomain(domain: string): string {
  const unicode = domainToUnicode(domain);
  return unicode && unicode !== domain ? `${unicode} (${domain})` : domain;
}

/** Whether an address's domain is the listed domain or one of its subdomains. */
export function domainMatches(emailDomain: string, listed: string): boolean {
  return emailDomain === listed || emailDomain.endsWith(`.${listed}`);
}

/** What an attempt is compared with: its address range, its keyed hashes and its e-mail domain. */
export interface AttemptSource {
  ip: string | undefined;
  ipHash: string | undefined;
  emailDomain: string;
  emailHash: string;
}

/** Whether one entry matches an attempt. */
export function entryMatches(entry: Pick<AbuseListEntry, 'kind' | 'value'>, source: AttemptSource): boolean {
  switch (entry.kind) {
    case 'ip':
      return source.ip !== undefined && ipInRange(source.ip, entry.value);
    case 'ip-hash':
      return source.ipHash !== undefined && source.ipHash === entry.value;
    case 'domain':
      return domainMatches(source.emailDomain, entry.value);
    case 'address':
      return source.emailHash === entry.value;
  }
}
