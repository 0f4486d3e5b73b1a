import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config.js';
import {
  DEFAULT_LEASE_MS,
  leaseEnd,
  leaseExpired,
  renewEveryMs,
  worstCaseTakeoverMs,
} from '../../../server/outbox/lease.js';

const NOW = new Date('2026-12-05T10:00:00.000Z');
const at = (ms: number) => new Date(NOW.getTime() + ms);

describe('claims on outbox messages', () => {
  it('expire exactly at the end of their lease, not a millisecond before', () => {
    const claim = { leaseExpiresAt: leaseEnd(NOW, 30_000) };
    expect(leaseExpired(claim, at(29_999))).toBe(false);
    expect(leaseExpired(claim, at(30_000))).toBe(true);
    expect(leaseExpired(claim, at(90_000))).toBe(true);
  });

  it('never count as expired without a lease (a message nobody holds)', () => {
    expect(leaseExpired({ leaseExpiresAt: null }, at(10 ** 12))).toBe(false);
  });

  it('are renewed three times per lease, so two renewals in a row may fail before a claim lapses', () => {
    expect(renewEveryMs(30_000)).toBe(10_000);
    expect(renewEveryMs(3_000)).toBe(1_000);
    const lease = 30_000;
    const renewals = [0, 1, 2, 3].map((n) => n * renewEveryMs(lease));
    // Renewed at 0 and nothing after: still held when the third renewal would have come.
    expect(leaseExpired({ leaseExpiresAt: leaseEnd(at(renewals[0]!), lease) }, at(renewals[2]!))).toBe(false);
    expect(leaseExpired({ leaseExpiresAt: leaseEnd(at(renewals[0]!), lease) }, at(renewals[3]!))).toBe(true);
  });

  it('of a worker killed without warning come back within 60 s with the default lease (issue 12)', () => {
    expect(DEFAULT_LEASE_MS).toBe(30_000);
    expect(worstCaseTakeoverMs(DEFAULT_LEASE_MS)).toBe(40_000);
    expect(worstCaseTakeoverMs(DEFAULT_LEASE_MS)).toBeLessThanOrEqual(60_000);
    // The configured default is the same lease.
    expect(loadConfig({}).mailLeaseMs).toBe(DEFAULT_LEASE_MS);
    expect(worstCaseTakeoverMs(loadConfig({}).mailLeaseMs)).toBeLessThanOrEqual(60_000);
  });

  it('last as long as MAIL_LEASE_SECONDS says, within its bounds', () => {
    expect(loadConfig({ MAIL_LEASE_SECONDS: '3' }).mailLeaseMs).toBe(3_000);
    expect(() => loadConfig({ MAIL_LEASE_SECONDS: '2' })).toThrow(/MAIL_LEASE_SECONDS/);
    expect(() => loadConfig({ MAIL_LEASE_SECONDS: 'soon' })).toThrow(/MAIL_LEASE_SECONDS/);
  });
});
