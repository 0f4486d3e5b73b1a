import { lookup } from 'node:dns/promises';
import ipaddr from 'ipaddr.js';

/**
 * The SSRF guard: a webhook may go only to a public unicast address. Refused: private (10/8, 172.16/12,
 * 192.168/16), loopback, link-local (169.254/16, where cloud metadata answers; fe80::/10), unique-local
 * (fc00::/7), carrier-grade NAT (100.64/10), multicast, broadcast, unspecified, reserved and documentation
 * ranges, and IPv6 forms that carry an IPv4 address (mapped, 6to4, Teredo, NAT64) unless that address is
 * itself public. Checked when an endpoint is registered and again for every address the name resolves to
 * at each send, and the connection goes to the address that was checked (no second lookup to rebind).
 */

/** Why an address is refused, or null when a webhook may go there. */
export function refusedAddress(address: string): string | null {
  if (!ipaddr.isValid(address)) return 'invalid';
  let parsed = ipaddr.parse(address);
  if (parsed.kind() === 'ipv6' && (parsed as ipaddr.IPv6).isIPv4MappedAddress())
    parsed = (parsed as ipaddr.IPv6).toIPv4Address();
  const range = parsed.range();
  return range === 'unicast' ? null : range;
}

/** Names that are never public, whatever a resolver says. */
function privateName(host: string): boolean {
  const name = host.toLowerCase().replace(/\.$/, '');
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    name.endsWith('.local') ||
    name.endsWith('.internal') ||
    name.endsWith('.home.arpa') ||
    !name.includes('.')
  );
}

export type UrlProblem = 'invalid' | 'scheme' | 'credentials' | 'private' | 'unresolved';

/** The host of a URL as a lookup takes it: IPv6 literals without their brackets. */
export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[(.*)\]$/, '$1');
}

/**
 * What is wrong with a webhook URL by its text alone: not a URL, not https (http too when private
 * destinations are allowed, for local development), user and password in it, or a private address or
 * name. Null when the text is acceptable (its name is resolved and checked apart).
 */
export function urlProblem(text: string, allowPrivate: boolean): UrlProblem | null {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'invalid';
  }
  if (url.protocol !== 'https:' && !(allowPrivate && url.protocol === 'http:')) return 'scheme';
  if (url.username !== '' || url.password !== '') return 'credentials';
  if (allowPrivate) return null;
  const host = hostOf(url);
  if (ipaddr.isValid(host)) return refusedAddress(host) === null ? null : 'private';
  return privateName(host) ? 'private' : null;
}

/** Resolves a host name to every address it has, as the system's resolver does. */
export type Resolver = (host: string) => Promise<{ address: string; family: number }[]>;

export const systemResolver: Resolver = (host) => lookup(host, { all: true, verbatim: true });

/**
 * The address to connect to for `host`: an IP literal as it is, a name resolved with every address
 * checked (one private address refuses the name: a resolver could hand out either). Throws
 * AddressRefused when refused or unresolvable.
 */
export async function checkedAddress(
  host: string,
  allowPrivate: boolean,
  resolve: Resolver = systemResolver,
): Promise<{ address: string; family: number }> {
  if (ipaddr.isValid(host)) {
    if (!allowPrivate && refusedAddress(host) !== null)
      throw new AddressRefused(`${host} is not a public address`);
    return { address: host, family: ipaddr.parse(host).kind() === 'ipv6' ? 6 : 4 };
  }
  if (!allowPrivate && privateName(host)) throw new AddressRefused(`${host} is not a public name`);
  let addresses: { address: string; family: number }[];
  try {
    addresses = await resolve(host);
  } catch {
    throw new AddressRefused(`${host} could not be resolved`, 'unresolved');
  }
  if (addresses.length === 0) throw new AddressRefused(`${host} has no address`, 'unresolved');
  if (!allowPrivate) {
    const refused = addresses.find((a) => refusedAddress(a.address) !== null);
    if (refused) throw new AddressRefused(`${host} resolves to ${refused.address}, not a public address`);
  }
  return addresses[0]!;
}

/** A destination the guard refused (or could not resolve). */
export class AddressRefused extends Error {
  constructor(
    message: string,
    readonly reason: 'private' | 'unresolved' = 'private',
  ) {
    super(message);
    this.name = 'AddressRefused';
  }
}
