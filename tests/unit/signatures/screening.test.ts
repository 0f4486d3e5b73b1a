import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SIGNING_LIMITS,
  longestWindowMs,
  rateReasons,
} from '../../../server/limits/signing-limits.js';
import {
  isSuspect,
  mergeVerdicts,
  parseReasons,
  storedReasons,
} from '../../../server/signatures/signature.js';

describe('rateReasons: which signing limits an attempt breaks', () => {
  it('lets three signings from one address in a minute through (a household), and marks the fourth rate-burst', () => {
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 1, inSustainedWindow: 1 })).toEqual([]);
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 3, inSustainedWindow: 3 })).toEqual([]);
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 4, inSustainedWindow: 4 })).toEqual([
      'rate-burst',
    ]);
  });

  it('marks the eleventh in ten minutes rate-sustained, and both when both are broken', () => {
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 1, inSustainedWindow: 10 })).toEqual([]);
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 1, inSustainedWindow: 11 })).toEqual([
      'rate-sustained',
    ]);
    expect(rateReasons(DEFAULT_SIGNING_LIMITS, { inBurstWindow: 4, inSustainedWindow: 11 })).toEqual([
      'rate-burst',
      'rate-sustained',
    ]);
  });

  it('keeps hits as long as the longer window', () => {
    expect(longestWindowMs(DEFAULT_SIGNING_LIMITS)).toBe(600_000);
    expect(
      longestWindowMs({ burst: { count: 1, seconds: 900 }, sustained: { count: 5, seconds: 300 } }),
    ).toBe(900_000);
  });
});

describe('screening verdicts', () => {
  it('merges every screen’s findings, each reason once, in the order first found', () => {
    expect(
      mergeVerdicts([
        { suspect: ['rate-burst'], review: ['no-proof-of-work'] },
        { suspect: [], review: [] },
        { suspect: ['blocked-domain', 'rate-burst'], review: ['disposable-domain', 'no-proof-of-work'] },
      ]),
    ).toEqual({
      suspect: ['rate-burst', 'blocked-domain'],
      review: ['no-proof-of-work', 'disposable-domain'],
    });
    expect(mergeVerdicts([])).toEqual({ suspect: [], review: [] });
  });

  it('stores reasons as comma-separated codes, null when there is none, and reads them back', () => {
    expect(storedReasons([])).toBeNull();
    expect(storedReasons(['rate-burst', 'blocked-ip'])).toBe('rate-burst,blocked-ip');
    expect(parseReasons('rate-burst,blocked-ip')).toEqual(['rate-burst', 'blocked-ip']);
    expect(parseReasons(null)).toEqual([]);
    expect(parseReasons('')).toEqual([]);
  });

  it('silences a signature only when it has a suspect reason', () => {
    expect(isSuspect({ suspectReasons: [] })).toBe(false);
    expect(isSuspect({ suspectReasons: ['rate-burst'] })).toBe(true);
  });
});
