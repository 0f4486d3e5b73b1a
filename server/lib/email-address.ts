/**
 * Whether a typed value has the shape of an e-mail address (something@domain.tld, at most 254
 * characters, each part within what mail servers accept): the check for forms that only need to know
 * where to send, not to parse an address.
 */
export function looksLikeEmailAddress(value: string): boolean {
  return value.length <= 254 && /^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(value) && withinAddressLimits(value);
}

/**
 * Whether each part of an address is within RFC 5321's limits: at most 64 characters before the @, 253
 * after it, 63 between dots. A mail server refuses a longer one ("501 bad recipient address syntax"), so
 * an address past them is refused in the form rather than accepted and never delivered.
 */
export function withinAddressLimits(value: string): boolean {
  const at = value.lastIndexOf('@');
  if (at < 1) return false;
  const domain = value.slice(at + 1);
  return at <= 64 && domain.length <= 253 && domain.split('.').every((label) => label.length <= 63);
}
