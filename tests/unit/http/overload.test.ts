import { describe, expect, it } from 'vitest';
import { requestKind, shouldShed, type LoadState } from '../../../server/http/overload.js';

const limits = { maxLagMs: 40, maxInFlight: 8 };
const calm: LoadState = { kind: 'other', lagMs: 0, inFlight: 0 };

describe('shouldShed', () => {
  it('admits requests while the event loop is quick and few signings are in flight', () => {
    expect(shouldShed(calm, limits)).toBe(false);
    expect(shouldShed({ kind: 'signing', lagMs: 40, inFlight: 7 }, limits)).toBe(false);
  });

  it('refuses every kind but the exempt once the event loop lags past the limit', () => {
    expect(shouldShed({ ...calm, lagMs: 41 }, limits)).toBe(true);
    expect(shouldShed({ kind: 'signing', lagMs: 41, inFlight: 0 }, limits)).toBe(true);
    expect(shouldShed({ kind: 'exempt', lagMs: 10_000, inFlight: 10_000 }, limits)).toBe(false);
  });

  it('refuses a signing once as many are in flight as the cap allows, and only signings', () => {
    expect(shouldShed({ kind: 'signing', lagMs: 0, inFlight: 8 }, limits)).toBe(true);
    expect(shouldShed({ kind: 'other', lagMs: 0, inFlight: 8 }, limits)).toBe(false);
  });

  it('switches a limit off at 0', () => {
    const off = { maxLagMs: 0, maxInFlight: 0 };
    expect(shouldShed({ kind: 'signing', lagMs: 10_000, inFlight: 10_000 }, off)).toBe(false);
  });
});

describe('requestKind', () => {
  it('knows a signing POST however Express would match its path', () => {
    expect(requestKind('POST', '/letters/free-choice/sign')).toBe('signing');
    expect(requestKind('POST', '/letters/free-choice/sign/')).toBe('signing');
    expect(requestKind('POST', '/Letters/free-choice/SIGN')).toBe('signing');
  });

  it('counts the letter page and other posts as other requests', () => {
    expect(requestKind('GET', '/letters/free-choice/sign')).toBe('other');
    expect(requestKind('GET', '/letters/free-choice')).toBe('other');
    expect(requestKind('POST', '/login')).toBe('other');
    expect(requestKind('POST', '/letters/a/b/sign')).toBe('other');
  });

  it('never sheds the health check or the metrics', () => {
    expect(requestKind('GET', '/healthz')).toBe('exempt');
    expect(requestKind('GET', '/metrics')).toBe('exempt');
    expect(requestKind('GET', '/HEALTHZ/')).toBe('exempt');
  });
});
