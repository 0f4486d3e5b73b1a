/**
 * Whether a typed value has the shape of an e-mail address (something@domain.tld, at most 254
 * characters): the check for forms that only need to know where to send, not to parse an address.
 */
export function looksLikeEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value);
}
