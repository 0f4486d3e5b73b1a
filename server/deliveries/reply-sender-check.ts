import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import type { DkimOutcome } from './delivery-reply.js';

/**
 * Looks up DNS records as `dns.promises.resolve` does (TXT records as arrays of strings). The platform
 * uses the system's resolver; tests give one that knows only their own keys, so nothing reaches the network.
 */
export type DnsResolver = (name: string, rrtype: string) => Promise<string[][] | string[]>;

/** What the DKIM signatures of a raw message came to; none when they could not be checked. */
export type SenderCheck = (raw: Buffer) => Promise<DkimOutcome[]>;

/**
 * How long the check may wait for DNS before the reply is kept as not verified: the sending server waits
 * for our answer meanwhile, and a slow or broken name server must not make it give up and send again.
 */
const CHECK_TIMEOUT_MS = 10_000;

/**
 * Checks a reply's DKIM signatures (mailauth, the keys read from DNS); senderDomainOf reads what they
 * came to. Not SPF: replies arrive through the operator's own mail server, so the connecting address is
 * never the sender's. A failure to check (DNS unreachable, a timeout) is logged and counts as not
 * verified: the reply is still kept.
 */
export function dkimSenderCheck(deps: {
  resolver?: DnsResolver | undefined;
  clock: Clock;
  logger: Logger;
}): SenderCheck {
  return async (raw) => {
    let timer: NodeJS.Timeout | undefined;
    try {
      const checked = dkimVerify(raw, {
        ...(deps.resolver ? { resolver: deps.resolver } : {}),
        curTime: deps.clock.now(),
      });
      const timeout = new Promise<never>((_resolve, reject) => {
        timer = setTimeout(() => reject(new Error('DKIM check timed out')), CHECK_TIMEOUT_MS);
      });
      const { results } = await Promise.race([checked, timeout]);
      return results;
    } catch (error) {
      deps.logger.warn({ err: error }, 'reply receiver: could not check the sender (kept as not verified)');
      return [];
    } finally {
      clearTimeout(timer);
    }
  };
}
