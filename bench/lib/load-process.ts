/**
 * The load generator's process: receives a LoadSpec over IPC, runs autocannon, replies with a
 * LoadResult and exits. Each request of a signing run gets the next client address (X-Forwarded-For,
 * the server trusts one proxy) and its own e-mail address, so per-address limits are exercised and
 * never tripped by the load generator being one client.
 */
import http, { type IncomingHttpHeaders } from 'node:http';
import autocannon, { type Request, type Result } from 'autocannon';
import { percentiles, type LoadResult, type LoadSample, type LoadSpec, type SigningLoad } from './load.js';

function clientAddress(n: number): string {
  return `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}`;
}

interface SignContext {
  email?: string;
}

interface Tally {
  acknowledged: string[];
  /** Signing requests built so far: the next one takes client address and e-mail number `used`. */
  used: number;
  retryAfter503: number;
}

/** Counts 503s that say when to come back, and acknowledged signatures. */
function onResponse(tally: Tally) {
  return (status: number, _body: string, context: SignContext, headers?: IncomingHttpHeaders) => {
    if (
      status === 503 &&
      headers &&
      Object.keys(headers).some((name) => name.toLowerCase() === 'retry-after')
    )
      tally.retryAfter503++;
    if (status === 303 && context.email) tally.acknowledged.push(context.email);
  };
}

/** The headers and body of signing request number `n`: its own client address and e-mail address. */
function signingRequest(spec: LoadSpec, signing: SigningLoad, n: number) {
  const origin = new URL(spec.url).origin;
  // A thousand receiving domains: the worker paces each domain (MAIL_DOMAIN_RATE), as it would gmail.com.
  const email = `${signing.emailPrefix}-${n}@d${n % 1000}.bench.example.org`;
  const form = new URLSearchParams({
    name: `Bench Supporter ${n}`,
    email,
    country: 'KR',
    display: n % 2 === 0 ? 'full' : 'initials',
    privacy: 'yes',
    ...(signing.csrf ? { _csrf: signing.csrf.token } : {}),
    ...(signing.proofs ? { altcha: signing.proofs[n % signing.proofs.length]! } : {}),
  });
  const headers: Record<string, string> = {
    ...spec.headers,
    'content-type': 'application/x-www-form-urlencoded',
    // What a browser sends with a form posted from the page itself (CSRF by Fetch Metadata / Origin).
    'sec-fetch-site': 'same-origin',
    'sec-fetch-mode': 'navigate',
    origin,
    ...(signing.csrf ? { cookie: signing.csrf.cookie } : {}),
    'x-forwarded-for': clientAddress(signing.addressStart + n * (signing.addressStep ?? 1)),
  };
  return { email, headers, body: form.toString() };
}

/** The request autocannon repeats: a GET, or a signing POST built anew for every request. */
function requestFor(spec: LoadSpec, tally: Tally): Request {
  const signing: SigningLoad | undefined = spec.signing;
  if (!signing) return { method: 'GET', path: spec.path, onResponse: onResponse(tally) };
  return {
    method: 'POST',
    path: `/letters/${signing.slug}/sign`,
    setupRequest: (request, context: SignContext) => {
      const { email, headers, body } = signingRequest(spec, signing, tally.used++);
      context.email = email;
      return { ...request, headers, body };
    },
    onResponse: onResponse(tally),
  };
}

/**
 * Open-loop load at even intervals (LoadSpec.arrivals 'even'): request i is due at start + i/rate and
 * is sent then, whatever is still unanswered, over a keep-alive agent of `connections` sockets; its
 * latency runs from when it was due, so a request that waited for a free socket counts its wait.
 */
async function runEven(spec: LoadSpec): Promise<LoadResult> {
  const rate = spec.overallRate!;
  const tally: Tally = { acknowledged: [], used: 0, retryAfter503: 0 };
  const agent = new http.Agent({ keepAlive: true, maxSockets: spec.connections });
  const latencies: LoadSample[] = [];
  let errors = 0;
  let timeouts = 0;
  const total = spec.amount ?? Math.round(rate * spec.durationS);
  const started = performance.now();
  const pending: Promise<void>[] = [];
  const send = (n: number, due: number) =>
    new Promise<void>((resolve) => {
      const signing = spec.signing;
      const request = signing ? signingRequest(spec, signing, n) : undefined;
      if (signing) tally.used = Math.max(tally.used, n + 1);
      const req = http.request(
        new URL(signing ? `/letters/${signing.slug}/sign` : spec.path, spec.url),
        {
          method: signing ? 'POST' : 'GET',
          agent,
          headers: request ? request.headers : { ...spec.headers },
          timeout: (spec.timeoutS ?? 10) * 1000,
        },
        (res) => {
          res.resume();
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            latencies.push({ status, ms: performance.now() - due, dueMs: due - started });
            onResponse(tally)(status, '', { email: request?.email }, res.headers);
            resolve();
          });
        },
      );
      let timedOut = false;
      req.on('timeout', () => {
        timedOut = true;
        timeouts++;
        req.destroy();
      });
      req.on('error', () => {
        if (!timedOut) errors++;
        resolve();
      });
      req.end(request?.body);
    });
  for (let i = 0; i < total; i++) {
    const due = started + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    pending.push(send(i, due));
  }
  await Promise.all(pending);
  agent.destroy();
  const durationS = (performance.now() - started) / 1000;
  const statuses: Record<string, number> = {};
  for (const { status } of latencies) statuses[status] = (statuses[status] ?? 0) + 1;
  return summary(spec, durationS, latencies, statuses, errors, timeouts, tally);
}

async function run(spec: LoadSpec): Promise<LoadResult> {
  const tally: Tally = { acknowledged: [], used: 0, retryAfter503: 0 };
  const byStatus = new Map<number, number[]>();
  const started = performance.now();
  let instance: autocannon.Instance | undefined;
  const finished = new Promise<Result>((resolve, reject) => {
    instance = autocannon(
      {
        url: spec.url,
        connections: spec.connections,
        duration: spec.durationS,
        ...(spec.amount ? { amount: spec.amount } : {}),
        ...(spec.overallRate ? { overallRate: spec.overallRate } : {}),
        timeout: spec.timeoutS ?? 10,
        headers: spec.signing ? {} : { ...spec.headers },
        requests: [requestFor(spec, tally)],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
  });
  instance!.on('response', (_client, status, _bytes, ms) => {
    let list = byStatus.get(status);
    if (!list) byStatus.set(status, (list = []));
    list.push(ms);
  });
  const result = await finished;
  const durationS = (performance.now() - started) / 1000;
  const statuses: Record<string, number> = Object.fromEntries(
    Object.entries(result.statusCodeStats ?? {}).map(([code, s]) => [code, s.count ?? 0]),
  );
  const latencies = [...byStatus].flatMap(([status, list]) => list.map((ms) => ({ status, ms })));
  return summary(spec, durationS, latencies, statuses, result.errors, result.timeouts, tally);
}

/** A run's measures from every answer's status and latency. */
function summary(
  spec: LoadSpec,
  durationS: number,
  latencies: readonly { status: number; ms: number }[],
  statuses: Record<string, number>,
  errors: number,
  timeouts: number,
  tally: Tally,
): LoadResult {
  const byStatus = new Map<number, number[]>();
  for (const { status, ms } of latencies) {
    let list = byStatus.get(status);
    if (!list) byStatus.set(status, (list = []));
    list.push(ms);
  }
  const non2xx3xx = Object.entries(statuses)
    .filter(([code]) => !/^[23]/.test(code))
    .reduce((sum, [, count]) => sum + count, 0);
  return {
    durationS,
    responses: latencies.length,
    perSecond: (latencies.length - non2xx3xx) / durationS,
    answeredPerSecond: latencies.length / durationS,
    latency: percentiles(latencies.map(({ ms }) => ms)),
    okLatency: percentiles(
      [...byStatus].filter(([code]) => code >= 200 && code < 400).flatMap(([, list]) => list),
    ),
    latencyByStatus: Object.fromEntries(
      [...byStatus].map(([code, list]) => [String(code), percentiles(list)]),
    ),
    statuses,
    non2xx3xx,
    errors,
    timeouts,
    retryAfter503: tally.retryAfter503,
    acknowledged: tally.acknowledged,
    addressesUsed: tally.used * (spec.signing?.addressStep ?? 1),
    ...(spec.keepSamples ? { samples: latencies } : {}),
  };
}

process.once('message', (spec: LoadSpec) => {
  (spec.arrivals === 'even' && spec.overallRate ? runEven(spec) : run(spec)).then(
    (result) => process.send!({ result }, () => process.exit(0)),
    (error: unknown) => process.send!({ error: String(error) }, () => process.exit(1)),
  );
});
