import { describe, expect, it } from 'vitest';
import type { LoadResult } from '../../../bench/lib/load.js';
import { summarise } from '../../../bench/lib/profile-summary.js';
import { alternate, median } from '../../../bench/lib/rounds.js';

/** A load result with only what the summary reads. */
function result(perSecond: number, statuses: Record<string, number> = { 200: 1 }): LoadResult {
  const latency = { count: 1, p50: 1, p95: 2, p99: 3, max: 4 };
  return {
    durationS: 1,
    responses: 1,
    perSecond,
    answeredPerSecond: perSecond,
    latency,
    okLatency: latency,
    latencyByStatus: {},
    statuses,
    non2xx3xx: 0,
    errors: 0,
    timeouts: 0,
    retryAfter503: 0,
    acknowledged: [],
    addressesUsed: 0,
  };
}

describe('benchmark rounds', () => {
  it('divides each round by the baseline of the same round, then takes the median of the ratios', async () => {
    // The machine gets twice as busy in round 2: the raw figures halve, the ratio does not move.
    const baseline = [1000, 500, 1000];
    const scenario = [500, 250, 100];
    const summaries = await alternate(3, [
      { name: 'base', run: async (round) => result(baseline[round]!) },
      { name: 'page', baseline: 'base', run: async (round) => result(scenario[round]!) },
    ]);
    const page = summaries.find((s) => s.name === 'page')!;
    expect(page.ratio).toBe(0.5);
    expect(page.perSecond).toBe(250);
    expect(summaries.find((s) => s.name === 'base')!.ratio).toBeUndefined();
  });

  it('adds up the status codes of every round', async () => {
    const [summary] = await alternate(2, [{ name: 'sign', run: async () => result(1, { 303: 5, 503: 2 }) }]);
    expect(summary!.statuses).toEqual({ 303: 10, 503: 4 });
  });

  it('takes the lower middle of an even count as the median', () => {
    expect(median([4, 1, 3])).toBe(3);
    expect(median([4, 1, 3, 2])).toBe(2);
  });
});

describe('CPU profile summary', () => {
  it('sums self time per function and per file, leaves idle time out and names native frames', () => {
    const frame = (functionName: string, url: string, lineNumber = 0) => ({ functionName, url, lineNumber });
    const profile = {
      nodes: [
        { id: 1, callFrame: frame('(idle)', '') },
        { id: 2, callFrame: frame('render', 'file:///srv/app/dist/server/http/views.js', 9) },
        { id: 3, callFrame: frame('executeQuery', 'file:///srv/app/node_modules/kysely/dist/esm/x.js', 59) },
        { id: 4, callFrame: frame('(garbage collector)', '') },
      ],
      samples: [1, 2, 3, 3, 4, 2],
      timeDeltas: [5000, 1000, 2000, 2000, 1000, 1000],
    };
    const summary = summarise(profile);
    expect(summary.idle).toBe(5);
    expect(summary.total).toBe(7);
    expect(summary.files.map((f) => [f.name, f.ms])).toEqual([
      ['node_modules/kysely', 4],
      ['server/http/views.js', 2],
      ['(native) (garbage collector)', 1],
    ]);
    expect(summary.functions[0]).toEqual({
      name: 'executeQuery node_modules/kysely:60',
      ms: 4,
      share: 4 / 7,
    });
  });
});
