/**
 * Alternating rounds and their medians. The machine is shared: a figure means something only next to
 * a baseline measured in the same run, so every round runs the baseline and each scenario in turn,
 * each scenario's figure is divided by its own round's baseline, and the medians of rounds are reported.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LoadResult } from './load.js';
import { ROOT } from './processes.js';

/** One measured thing, run once per round. */
export interface Scenario {
  readonly name: string;
  /** The name of the scenario it is compared with (undefined: it is a baseline). */
  readonly baseline?: string;
  readonly run: (round: number) => Promise<LoadResult>;
}

/** A scenario's rounds and their medians. */
export interface Summary {
  readonly name: string;
  readonly baseline: string | undefined;
  readonly perSecond: number;
  /** Median of the per-round ratios to the baseline's figure of the same round. */
  readonly ratio: number | undefined;
  /** Latency percentiles of the successful answers (2xx/3xx), medians of rounds. */
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  /** p99 of every answer, 503s included, median of rounds. */
  readonly p99All: number;
  /** Every status code seen over all rounds, with its count. */
  readonly statuses: Readonly<Record<string, number>>;
  readonly non2xx3xx: number;
  readonly errors: number;
  readonly rounds: readonly LoadResult[];
}

/** The median (the lower middle of an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor((sorted.length - 1) / 2)] ?? 0;
}

/** Runs `rounds` rounds of every scenario in order (baselines first in each round) and summarises them. */
export async function alternate(rounds: number, scenarios: readonly Scenario[]): Promise<Summary[]> {
  const results = new Map<string, LoadResult[]>(scenarios.map((s) => [s.name, []]));
  for (let round = 0; round < rounds; round++) {
    for (const scenario of scenarios) {
      const result = await scenario.run(round);
      results.get(scenario.name)!.push(result);
      console.log(
        `  round ${round + 1}/${rounds} ${scenario.name}: ${Math.round(result.perSecond)}/s answered 2xx/3xx (p99 ${result.okLatency.p99.toFixed(1)} ms), ${statusText(result.statuses)}`,
      );
    }
  }
  return scenarios.map((scenario) => {
    const own = results.get(scenario.name)!;
    const base = scenario.baseline ? results.get(scenario.baseline) : undefined;
    const statuses: Record<string, number> = {};
    for (const r of own)
      for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
    return {
      name: scenario.name,
      baseline: scenario.baseline,
      perSecond: median(own.map((r) => r.perSecond)),
      ratio: base ? median(own.map((r, i) => r.perSecond / base[i]!.perSecond)) : undefined,
      p50: median(own.map((r) => r.okLatency.p50)),
      p95: median(own.map((r) => r.okLatency.p95)),
      p99: median(own.map((r) => r.okLatency.p99)),
      p99All: median(own.map((r) => r.latency.p99)),
      statuses,
      non2xx3xx: own.reduce((sum, r) => sum + r.non2xx3xx, 0),
      errors: own.reduce((sum, r) => sum + r.errors + r.timeouts, 0),
      rounds: own,
    };
  });
}

/** "200×1234, 304×5". */
export function statusText(statuses: Readonly<Record<string, number>>): string {
  const parts = Object.entries(statuses).map(([code, n]) => `${code}×${n}`);
  return parts.length ? parts.join(', ') : 'no responses';
}

/** The machine, for the heading of every table. */
export function machine(): string {
  const cpu = os.cpus()[0]?.model.trim() ?? 'unknown CPU';
  return `${os.cpus().length} cores (${cpu}), Node ${process.version}, ${os.platform()} ${os.release()}`;
}

/** A markdown table of summaries, ready for docs/performance.md. */
export function markdownTable(summaries: readonly Summary[]): string {
  const lines = [
    '| scenario | 2xx/3xx per s (median) | ÷ baseline (median of rounds) | 2xx/3xx p50 ms | p95 ms | p99 ms | all answers p99 ms | statuses | errors |',
    '|---|---|---|---|---|---|---|---|---|',
  ];
  const baselines = new Set(summaries.map((s) => s.baseline));
  for (const s of summaries) {
    const ratio =
      s.ratio !== undefined
        ? `${s.ratio.toFixed(2)} × ${s.baseline}`
        : baselines.has(s.name)
          ? 'baseline'
          : '—';
    lines.push(
      `| ${s.name} | ${Math.round(s.perSecond).toLocaleString('en')} | ${ratio} | ${s.p50.toFixed(1)} | ${s.p95.toFixed(1)} | ${s.p99.toFixed(1)} | ${s.p99All.toFixed(1)} | ${statusText(s.statuses)} | ${s.errors} |`,
    );
  }
  return lines.join('\n');
}

/** Writes a benchmark's results to bench/results/<name>.json (gitignored: figures that matter go to docs/performance.md). */
export function writeResults(name: string, value: unknown): string {
  const dir = path.join(ROOT, 'bench', 'results');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  // Acknowledged e-mail addresses are bench-made, but thousands of them add nothing to a results file.
  const replacer = (key: string, v: unknown) => (key === 'acknowledged' ? undefined : v);
  writeFileSync(
    file,
    JSON.stringify({ machine: machine(), at: new Date().toISOString(), ...(value as object) }, replacer, 2),
  );
  return file;
}
