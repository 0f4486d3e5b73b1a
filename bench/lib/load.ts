/**
 * Load from another process: each run forks bench/lib/load-process.ts, which drives autocannon against
 * the server and sends back what it measured. The load generator never shares the server's event loop.
 */
import { fork } from 'node:child_process';
import path from 'node:path';

/** A signing POST per request, each from its own client address and with its own e-mail address. */
export interface SigningLoad {
  readonly slug: string;
  /** The first client address used is 10.0.0.0 + this; each request takes the next one. */
  readonly addressStart: number;
  /**
   * Addresses between one request's and the next (default 1): load generators running at once on the
   * same letter take every n-th address each, from starts 0…n-1 apart, so no two share one.
   */
  readonly addressStep?: number;
  /** Makes the e-mail addresses of this run unique in the letter (`<prefix>-<n>@d<n mod 1000>.bench.example.org`). */
  readonly emailPrefix: string;
  /** Sent as the form's `_csrf` field with `cookie`, when the page has a token (CSRF by token). */
  readonly csrf?: { readonly token: string; readonly cookie: string };
  /** Solved proofs of work, one per request (the run stops when they run out). */
  readonly proofs?: readonly string[];
}

/** What one load run does. */
export interface LoadSpec {
  readonly url: string;
  /** GET path, or the letter to sign. */
  readonly path: string;
  readonly connections: number;
  /** Seconds; ignored when `amount` is set. */
  readonly durationS: number;
  /** A fixed number of requests instead of a duration. */
  readonly amount?: number;
  /** Requests per second across all connections (autocannon's overallRate); unset: as fast as answered. */
  readonly overallRate?: number;
  /**
   * How a fixed rate arrives. 'bursts' (autocannon's overallRate): each connection sends its quota of the
   * second back to back when the second starts, so 100 connections at 5/s offer waves of 100 at once.
   * 'even': one request every 1/overallRate s (open loop, as independent visitors arrive), over up to
   * `connections` kept-alive sockets, each request timed from when it was due (a late send counts).
   */
  readonly arrivals?: 'bursts' | 'even';
  readonly headers?: Readonly<Record<string, string>>;
  readonly signing?: SigningLoad;
  /** Seconds before a request counts as timed out. */
  readonly timeoutS?: number;
  /** Sends back every answer's status and latency (LoadResult.samples), to merge runs made at once. */
  readonly keepSamples?: boolean;
}

/** Latency percentiles in milliseconds. */
export interface Latency {
  readonly count: number;
  readonly p50: number;
  readonly p95: number;
  readonly p99: number;
  readonly max: number;
}

/** What a load run measured. */
export interface LoadResult {
  readonly durationS: number;
  /** Responses received (any status). */
  readonly responses: number;
  /**
   * Successful answers (2xx and 3xx: pages, 304s, acknowledged signatures) per second: the figure.
   * A server that sheds load answers 503s fast, and those must not count as throughput.
   */
  readonly perSecond: number;
  /** Every answer per second, whatever its status. */
  readonly answeredPerSecond: number;
  /** Every response's latency, whatever its status (autocannon's own histogram keeps 2xx only). */
  readonly latency: Latency;
  /** The latency of the successful answers (2xx and 3xx) alone: what a served visitor waited. */
  readonly okLatency: Latency;
  /** Latency per status code. */
  readonly latencyByStatus: Readonly<Record<string, Latency>>;
  readonly statuses: Readonly<Record<string, number>>;
  /** Responses that were neither 2xx nor 3xx. */
  readonly non2xx3xx: number;
  readonly errors: number;
  readonly timeouts: number;
  /** 503 answers that carried a Retry-After header. */
  readonly retryAfter503: number;
  /** Signing runs: the e-mail addresses of the requests answered 303 (acknowledged). */
  readonly acknowledged: readonly string[];
  /** Signing runs: how many client addresses were used (the next run starts after them). */
  readonly addressesUsed: number;
  /** Every answer's status and latency, when the spec asked for them. */
  readonly samples?: readonly LoadSample[];
}

/** One answer: its status and its latency in milliseconds. */
export interface LoadSample {
  readonly status: number;
  readonly ms: number;
  /** Arriving evenly: when the request was due, in milliseconds from the run's start. */
  readonly dueMs?: number;
}

/** Percentiles of latencies in milliseconds (each the sample at that rank, not interpolated). */
export function percentiles(values: readonly number[]): Latency {
  const sorted = Float64Array.from(values).sort();
  const at = (p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
  return { count: sorted.length, p50: at(50), p95: at(95), p99: at(99), max: sorted.at(-1) ?? 0 };
}

/**
 * Several loads at once, each in its own child process (one per web process of a platform), as one
 * result: answers, statuses and acknowledged signatures summed, rates summed (each over its own run's
 * duration), and latency percentiles over every answer of them all.
 */
export async function runLoadsAtOnce(specs: readonly LoadSpec[]): Promise<LoadResult> {
  const results = await Promise.all(specs.map((spec) => runLoad({ ...spec, keepSamples: true })));
  const samples = results.flatMap((r) => r.samples ?? []);
  const statuses: Record<string, number> = {};
  for (const r of results)
    for (const [code, n] of Object.entries(r.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const sum = (pick: (r: LoadResult) => number) => results.reduce((total, r) => total + pick(r), 0);
  const codes = [...new Set(samples.map((s) => s.status))];
  return {
    durationS: Math.max(...results.map((r) => r.durationS)),
    responses: sum((r) => r.responses),
    perSecond: sum((r) => r.perSecond),
    answeredPerSecond: sum((r) => r.answeredPerSecond),
    latency: percentiles(samples.map((s) => s.ms)),
    okLatency: percentiles(samples.filter((s) => s.status >= 200 && s.status < 400).map((s) => s.ms)),
    latencyByStatus: Object.fromEntries(
      codes.map((code) => [
        String(code),
        percentiles(samples.filter((s) => s.status === code).map((s) => s.ms)),
      ]),
    ),
    statuses,
    non2xx3xx: sum((r) => r.non2xx3xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    retryAfter503: sum((r) => r.retryAfter503),
    acknowledged: results.flatMap((r) => r.acknowledged),
    addressesUsed: Math.max(...results.map((r) => r.addressesUsed)),
  };
}

/** Runs one load in a child process and returns its measures. */
export function runLoad(spec: LoadSpec): Promise<LoadResult> {
  const child = fork(path.join(import.meta.dirname, 'load-process.ts'), [], {
    execArgv: ['--import', 'tsx'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (message) => {
      const reply = message as { result?: LoadResult; error?: string };
      if (reply.result) resolve(reply.result);
      else reject(new Error(`load generator: ${reply.error ?? 'no result'}`));
    });
    child.once('error', reject);
    child.once('exit', (code) => reject(new Error(`the load generator exited with ${code}`)));
    child.send(spec);
  });
}
