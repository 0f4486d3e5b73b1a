import type { DnsResolver } from '../../server/deliveries/reply-sender-check.js';

/**
 * A DNS resolver that knows only the TXT records given (name → record), as a test's zone: a DKIM
 * check then never touches the network, and every other name is not found, as on a machine without it.
 */
export function zoneResolver(txt: Record<string, string> = {}): DnsResolver {
  const records = new Map(Object.entries(txt).map(([name, value]) => [name.toLowerCase(), value]));
  return async (name, rrtype) => {
    const record = rrtype === 'TXT' ? records.get(name.toLowerCase()) : undefined;
    if (record !== undefined) return [[record]];
    throw Object.assign(new Error(`no ${rrtype} record for ${name} in this test`), { code: 'ENOTFOUND' });
  };
}
