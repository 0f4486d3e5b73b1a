import { describe, expect, it } from 'vitest';
import {
  EventLoopLag,
  LAG_SHED_MIN_ANSWERING,
  SHED_LOG_EVERY_MS,
  shedLog,
  requestKind,
  shedShare,
  shouldShed,
  type LoadState,
} from '../../../server/http/overload.js';

const limits = { maxLagMs: 40, maxInFlight: 8 };
// Others being answered: a late loop is shed for only then (LAG_SHED_MIN_ANSWERING).
const busy = LAG_SHED_MIN_ANSWERING;
const calm: LoadState = { kind: 'other', lagMs: 0, inFlight: 0, answering: busy };

describe('shouldShed', () => {
  it('admits requests while the event loop is quick and few signings are in flight', () => {
    expect(shedShare(calm, limits)).toBe(0);
    expect(shedShare({ kind: 'signing', lagMs: 40, inFlight: 7, answering: busy }, limits)).toBe(0);
  });

  it('refuses a share of new requests that grows with the lag past the limit, all at twice the limit', () => {
    expect(shedShare({ ...calm, lagMs: 40 }, limits)).toBe(0);
    expect(shedShare({ ...calm, lagMs: 50 }, limits)).toBe(0.25);
    expect(shedShare({ kind: 'signing', lagMs: 60, inFlight: 0, answering: busy }, limits)).toBe(0.5);
    expect(shedShare({ ...calm, lagMs: 80 }, limits)).toBe(1);
    expect(shedShare({ ...calm, lagMs: 10_000 }, limits)).toBe(1);
    expect(shouldShed({ ...calm, lagMs: 50 }, limits, 0.2)).toBe(true);
    expect(shouldShed({ ...calm, lagMs: 50 }, limits, 0.3)).toBe(false);
  });

  it('refuses no one for a late loop while fewer than a handful are being answered: refusing helps no one', () => {
    for (const answering of [0, 1, LAG_SHED_MIN_ANSWERING - 1]) {
      expect(shedShare({ kind: 'other', lagMs: 10_000, inFlight: answering, answering }, limits)).toBe(0);
      expect(shedShare({ kind: 'signing', lagMs: 10_000, inFlight: 0, answering }, limits)).toBe(0);
    }
    expect(shedShare({ ...calm, lagMs: 10_000, answering: LAG_SHED_MIN_ANSWERING }, limits)).toBe(1);
  });

  it('never refuses the exempt, whatever the load', () => {
    expect(
      shouldShed({ kind: 'exempt', lagMs: 10_000, inFlight: 10_000, answering: 10_000 }, limits, 0),
    ).toBe(false);
  });

  it('refuses a signing once as many are in flight as the cap allows, and only signings', () => {
    expect(shedShare({ kind: 'signing', lagMs: 0, inFlight: 8, answering: 8 }, limits)).toBe(1);
    expect(shedShare({ kind: 'other', lagMs: 0, inFlight: 8, answering: 8 }, limits)).toBe(0);
  });

  it('switches a limit off at 0', () => {
    const off = { maxLagMs: 0, maxInFlight: 0 };
    expect(shedShare({ kind: 'signing', lagMs: 10_000, inFlight: 10_000, answering: 10_000 }, off)).toBe(0);
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

  it("never sheds a page's own files: the page was answered, and would be broken without them", () => {
    expect(requestKind('GET', '/assets/styles.css')).toBe('exempt');
    expect(requestKind('GET', '/assets/altcha/altcha.js')).toBe('exempt');
    expect(requestKind('GET', '/Assets/favicon.svg')).toBe('exempt');
    expect(requestKind('GET', '/assetsx/styles.css')).toBe('other');
  });
});

describe('EventLoopLag', () => {
  it('sees a loop that keeps falling behind, from its first reading on', async () => {
    const lag = new EventLoopLag();
    try {
      expect(lag.lagMs()).toBe(0);
      // Turn after turn of 80 ms of work: every tick of the monitor comes about 70 ms late. Read at the
      // start of each turn (its own age nothing yet), so only the monitor's windows can see it: on a busy
      // machine a window just reset may hold no tick yet, so the readings are taken over several turns.
      const readings: number[] = [];
      for (let turn = 0; turn < 6; turn += 1) {
        const until = Date.now() + 80;
        while (Date.now() < until);
        await new Promise((resolve) => setTimeout(resolve, 0));
        readings.push(lag.lagMs());
      }
      expect(Math.max(...readings)).toBeGreaterThan(50);
    } finally {
      lag.stop();
    }
  });

  it('counts how long the current turn of the loop has run since its first request', async () => {
    const lag = new EventLoopLag();
    try {
      expect(lag.lagMs()).toBe(0);
      const until = Date.now() + 120;
      while (Date.now() < until);
      // Still the same turn: a request read now has waited behind the work done since the first.
      expect(lag.lagMs()).toBeGreaterThanOrEqual(100);
    } finally {
      lag.stop();
    }
  });
});

describe('shedLog', () => {
  it('says the first refusal at once, then at most one line a period with the refusals since', () => {
    let now = 1_000;
    const lines: { refused: Record<string, number>; sinceMs: number }[] = [];
    const heard = shedLog(
      (refused, sinceMs) => lines.push({ refused, sinceMs }),
      () => now,
    );
    heard('signing');
    expect(lines).toEqual([{ refused: { signing: 1, other: 0 }, sinceMs: 0 }]);
    for (let i = 0; i < 5; i += 1) heard('other');
    heard('exempt');
    now += SHED_LOG_EVERY_MS - 1;
    heard('signing');
    expect(lines).toHaveLength(1);
    now += 1;
    heard('signing');
    expect(lines[1]).toEqual({ refused: { signing: 2, other: 5 }, sinceMs: SHED_LOG_EVERY_MS });
  });
});
