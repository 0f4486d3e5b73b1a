import { monitorEventLoopDelay, performance, type IntervalHistogram } from 'node:perf_hooks';
import type { Request, RequestHandler, Response } from 'express';
import { INTERFACE_LANGUAGES, type InterfaceLanguage, type TFunction } from '../lib/i18n.js';
import { PUBLIC_BODY_LIMIT_BYTES } from './body-limits.js';
import { plainErrorPage } from './errors.js';
import { chooseLanguage, languageCookie } from './language.js';

/**
 * What a request costs when the process is busy. Signing POSTs are the expensive ones (limits, screens,
 * a transaction, an e-mail queued); the health check and /metrics are never shed: a busy process is not a
 * dead one, and a probe that got a 503 would have it restarted mid-surge, losing the signings in flight,
 * while the operator's scrape is how the surge is seen at all. Nor are the pages' own files (/assets/):
 * shedding is decided by the page, and a page already answered whose stylesheet or scripts are then
 * refused is a broken form in the visitor's hands (a new-user walkthrough met one on a busy machine).
 * All cost next to nothing, and browsers keep the files for a day.
 */
export type RequestKind = 'signing' | 'other' | 'exempt';

/** The load a request meets as it arrives. */
export interface LoadState {
  kind: RequestKind;
  /** The event loop's recent delay, in milliseconds (EventLoopLag). */
  lagMs: number;
  /** Requests of the same kind already admitted and not yet answered. */
  inFlight: number;
  /** Every request admitted and not yet answered, signings and others (not the exempt). */
  answering: number;
}

/**
 * Fewer requests than this being answered, a late event loop is not shed for: refusing turns no one away
 * in favour of anyone. A loop late with nothing to answer is late for other reasons (another tenant of the
 * machine, a collection, the in-process mail worker), and a lone visitor refused for it (a new-user
 * walkthrough on a busy machine got the "too busy" page three times, once right after confirming) is a
 * visitor lost for nothing. A surge keeps many more than this in flight.
 */
export const LAG_SHED_MIN_ANSWERING = 4;

/** Past either limit, new requests are refused; 0 switches a limit off. */
export interface ShedLimits {
  /** Event-loop delay past which every new request (but the exempt) is refused. */
  maxLagMs: number;
  /** Signing POSTs in flight past which another is refused. */
  maxInFlight: number;
}

/**
 * The share of new requests to refuse now, from 0 to 1. Past the signing cap, every signing. Past the lag
 * limit, a share that grows with the lag (toobusy's rule): none at the limit, all at twice it. A lone
 * pause (a garbage collection, a checkpoint) just past the limit turns few people away, a loop that keeps
 * falling behind turns away all the excess; but only while others are being answered
 * (LAG_SHED_MIN_ANSWERING).
 */
export function shedShare(state: LoadState, limits: ShedLimits): number {
  if (state.kind === 'exempt') return 0;
  if (state.kind === 'signing' && limits.maxInFlight > 0 && state.inFlight >= limits.maxInFlight) return 1;
  if (state.answering < LAG_SHED_MIN_ANSWERING) return 0;
  if (limits.maxLagMs <= 0 || state.lagMs <= limits.maxLagMs) return 0;
  return Math.min(1, (state.lagMs - limits.maxLagMs) / limits.maxLagMs);
}

/** Whether to refuse a new request now, rather than queue it behind work the process cannot keep up with. */
export function shouldShed(state: LoadState, limits: ShedLimits, random: number = Math.random()): boolean {
  return random < shedShare(state, limits);
}

// Express matches routes case-insensitively and with or without a trailing slash: so does this.
const SIGNING_PATH = /^\/letters\/[^/]+\/sign\/?$/i;
const EXEMPT_PATHS = new Set(['/healthz', '/metrics']);
const ASSETS = /^\/assets\//i;

/** The kind of a request, by its method and path, before anything of it is read. */
export function requestKind(method: string, path: string): RequestKind {
  if (EXEMPT_PATHS.has(path.toLowerCase().replace(/\/$/, ''))) return 'exempt';
  // Express mounts the static files case-insensitively too.
  if (ASSETS.test(path)) return 'exempt';
  return method === 'POST' && SIGNING_PATH.test(path) ? 'signing' : 'other';
}

/** Requests admitted and not yet answered, by kind: the shedding's cap reads it, /metrics shows it. */
export class RequestsInFlight {
  private readonly counts: Record<RequestKind, number> = { signing: 0, other: 0, exempt: 0 };

  /** How many of this kind are being answered now. */
  count(kind: RequestKind): number {
    return this.counts[kind];
  }

  /** Counts a request from now until its response is finished or its connection closed. */
  track(kind: RequestKind, res: Response): void {
    this.counts[kind] += 1;
    // 'close' comes once per response, after it is sent or when the client went away first.
    res.once('close', () => {
      this.counts[kind] -= 1;
    });
  }
}

/** The event loop's delay, read in short windows (toobusy-style), from perf_hooks' own monitor. */
export interface LagSource {
  /** How late the loop runs now, in milliseconds. */
  lagMs(): number;
}

const RESOLUTION_MS = 10;
const WINDOW_MS = 100;

/**
 * How late the event loop runs, two ways, in milliseconds. The monitor's timer fires every RESOLUTION_MS:
 * how late it fired is how long a request arriving then waited before any of its code ran; the median
 * delay of the last full window (WINDOW_MS) and of the one in progress both count, so a loop that keeps
 * falling behind is seen within a window and stops counting one window after it is quick again. But the
 * monitor only learns after a turn of the loop; within one turn the requests read together are answered
 * one after the other, so the turn's own age also counts: how long ago this turn met its first request
 * (a setImmediate marks the turn's end). Requests late in a heavy turn are refused while it is still going, and the turn
 * ends sooner. Watching starts with the first reading (the first request), so the start's own work
 * (migrations, seeding) is not taken for load. Long-lived: wiring stops it at shutdown.
 */
export class EventLoopLag implements LagSource {
  private readonly histogram: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastWindowMs = 0;
  /** When the current turn of the loop met its first request; undefined between turns. */
  private turnStartedAt: number | undefined;
  private readonly endTurn = () => {
    this.turnStartedAt = undefined;
  };

  lagMs(): number {
    if (this.stopped) return 0;
    if (!this.timer) this.start();
    const now = performance.now();
    if (this.turnStartedAt === undefined) {
      this.turnStartedAt = now;
      setImmediate(this.endTurn);
    }
    return Math.max(this.lastWindowMs, this.currentWindowMs(), now - this.turnStartedAt);
  }

  /** Stops the timer and the monitor for good; later readings are 0. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
    this.histogram.disable();
  }

  private start(): void {
    this.histogram.enable();
    // The timer never keeps the process alive.
    this.timer = setInterval(() => {
      this.lastWindowMs = this.currentWindowMs();
      this.histogram.reset();
    }, WINDOW_MS).unref();
  }

  private currentWindowMs(): number {
    // The histogram records each timer's whole interval, in nanoseconds: the delay is what exceeds it.
    // The median, not the worst: a loop that keeps falling behind is late at most ticks, while one pause
    // (a collection, the machine's other tenants) is one late tick and not worth turning people away.
    return this.histogram.count === 0 ? 0 : Math.max(0, this.histogram.percentile(50) / 1e6 - RESOLUTION_MS);
  }
}

/** A refusal, ready to write: the same bytes for every refused request in one language. */
interface PreparedRefusal {
  html: Buffer;
  json: Buffer;
}

/**
 * A request that sends something (a form) is told nothing of it was saved; one that only reads (a page,
 * the page a form's answer redirected to) is not: after a confirmation went through, "nothing you sent
 * was saved" on the page it led to was false (a new-user walkthrough met it).
 */
type RefusalsOf = Record<'sent' | 'read', PreparedRefusal>;

/**
 * Seconds a client is asked to wait. Short, because a surge's peaks are short, but not so short that
 * clients that honour it come back in a wave before the queue has drained.
 */
export const RETRY_AFTER_SECONDS = 5;

/**
 * The largest request body a refusal still keeps the connection for (read and dropped by Node): the public
 * forms' own body limit (PUBLIC_BODY_LIMIT_BYTES), far above a signing form. Larger or chunked bodies
 * close the connection.
 */
export const KEPT_ALIVE_BODY_BYTES = PUBLIC_BODY_LIMIT_BYTES;

/** The 503 page and JSON error in each interface language, made once when the app is built. */
function prepareRefusals(tFor: (language: InterfaceLanguage) => TFunction): Map<string, RefusalsOf> {
  return new Map(
    INTERFACE_LANGUAGES.map((language) => {
      const t = tFor(language);
      const title = t('errors.titles.503');
      const prepared = (message: string): PreparedRefusal => ({
        html: Buffer.from(plainErrorPage(language, title, message, t('errors.goHome'))),
        // The one error shape, as renderError writes it for clients that ask for JSON.
        json: Buffer.from(JSON.stringify({ error: { status: 503, code: 'overloaded', message } })),
      });
      return [
        language,
        { sent: prepared(t('errors.overloaded')), read: prepared(t('errors.overloadedRead')) },
      ];
    }),
  );
}

function refuse(req: Request, res: Response, refusals: Map<string, RefusalsOf>): void {
  const { language } = chooseLanguage({
    query: req.query.lang,
    // Read as the pages read it: shedding runs before cookie-parser.
    cookie: languageCookie(req.headers.cookie),
    acceptLanguage: req.headers['accept-language'],
  });
  const reads = req.method === 'GET' || req.method === 'HEAD';
  const refusal = refusals.get(language)![reads ? 'read' : 'sent'];
  // The public API answers JSON whatever is accepted, readable from any site (api/public-api-routes.ts).
  const api = req.path === '/api' || req.path.startsWith('/api/');
  const json = api || req.accepts(['html', 'json']) === 'json';
  const body = json ? refusal.json : refusal.html;
  // A request with a body is answered before the body is read; on a kept-alive connection Node then reads
  // and discards the rest of it (up to its Content-Length) to reach the next request. A large or unbounded
  // (chunked) body is not worth that: the connection is closed after the answer. A small one (a signing form
  // is under a kilobyte, and most often already arrived with the head) costs less to drop than the new
  // connection the client would open at once: accepting it, a socket and a parser, all while overloaded.
  const length = Number(req.headers['content-length'] ?? 0);
  const closeAfter = req.headers['transfer-encoding'] !== undefined || !(length <= KEPT_ALIVE_BODY_BYTES);
  // Written directly: no view, no ETag, no middleware; the page loads the site's stylesheet only.
  res.writeHead(503, {
    'Content-Type': json ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8',
    'Content-Length': body.length,
    'Content-Language': language,
    'Cache-Control': 'no-store',
    'Retry-After': String(RETRY_AFTER_SECONDS),
    'Content-Security-Policy':
      "default-src 'none'; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    'X-Content-Type-Options': 'nosniff',
    'Referrer-Policy': 'no-referrer',
    ...(closeAfter ? { Connection: 'close' } : {}),
    ...(api ? { 'Access-Control-Allow-Origin': '*' } : {}),
  });
  res.end(req.method === 'HEAD' ? undefined : body);
}

/** How often, at most, the log says that requests are being refused. */
export const SHED_LOG_EVERY_MS = 10_000;

/**
 * Says in the log that load is being shed: the first refusal at once, then at most one line every
 * SHED_LOG_EVERY_MS with how many were refused since. Refusals are answered before the request log
 * (overloadGuard), so without this an operator with no metrics scraper saw nothing of a surge.
 */
export function shedLog(
  log: (counts: Record<Exclude<RequestKind, 'exempt'>, number>, sinceMs: number) => void,
  now: () => number = () => performance.now(),
): (kind: RequestKind) => void {
  let since: number | undefined;
  const counts = { signing: 0, other: 0 };
  return (kind) => {
    if (kind === 'exempt') return;
    counts[kind] += 1;
    const at = now();
    if (since !== undefined && at - since < SHED_LOG_EVERY_MS) return;
    log({ ...counts }, since === undefined ? 0 : at - since);
    counts.signing = 0;
    counts.other = 0;
    since = at;
  };
}

export interface OverloadOptions {
  limits: ShedLimits;
  lag: LagSource;
  inFlight: RequestsInFlight;
  /** A fixed `t` per language, for the refusal page made once. */
  tFor: (language: InterfaceLanguage) => TFunction;
  /** Hears every refusal (the metrics count them). */
  onShed?: (kind: RequestKind) => void;
}

/**
 * The first middleware: refuses a new request with 503 and Retry-After when the process is overloaded,
 * before its body is read or any other work is done for it. A request it admits is counted in flight
 * and never refused later, whatever the load becomes while it is answered.
 */
export function overloadGuard(options: OverloadOptions): RequestHandler {
  const refusals = prepareRefusals(options.tFor);
  return (req, res, next) => {
    const kind = requestKind(req.method, req.path);
    const { inFlight } = options;
    const state = {
      kind,
      lagMs: options.lag.lagMs(),
      inFlight: inFlight.count(kind),
      answering: inFlight.count('signing') + inFlight.count('other'),
    };
    if (shouldShed(state, options.limits)) {
      options.onShed?.(kind);
      return refuse(req, res, refusals);
    }
    options.inFlight.track(kind, res);
    next();
  };
}
