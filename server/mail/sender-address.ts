import { domainToASCII } from 'node:url';
import addressparser from 'nodemailer/lib/addressparser';

/** A host name in ASCII: dot-separated labels of letters, digits and inner hyphens. */
const ASCII_HOST_NAME = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/;

/**
 * A domain name as DNS, DKIM and DMARC compare it: trimmed, without the root's trailing dot, lower
 * case, in ASCII (an internationalised name in its xn-- form); '' when it is not a host name.
 */
export function normaliseDomain(name: string): string {
  const ascii = domainToASCII(name.trim().replace(/\.$/, ''));
  return ASCII_HOST_NAME.test(ascii) ? ascii : '';
}

/**
 * The address a From value sends from, parsed as nodemailer parses the From it is given when it sends
 * (its addressparser): "Name <a@b.example>", "a@b.example (Name)" and "a@b.example" alike; the first
 * address when there are several, '' when there is none.
 */
export function senderAddress(from: string): string {
  return addressparser(from, { flatten: true })[0]?.address ?? '';
}

/** The normalised domain (normaliseDomain) of the address a From value sends from; '' when it has none. */
export function senderDomain(from: string): string {
  const address = senderAddress(from);
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : normaliseDomain(address.slice(at + 1));
}

/** The name a From value shows in an inbox, parsed as senderAddress parses it; its address when it has no name. */
export function senderDisplayName(from: string): string {
  const parsed = addressparser(from, { flatten: true })[0];
  return parsed?.name || parsed?.address || from;
}
