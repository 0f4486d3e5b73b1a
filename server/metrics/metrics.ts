import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';

/** The mail queue as /metrics shows it (a port: wiring reads it from the outbox repository). */
export interface QueueFigures {
  /** Messages not sent, by status (queued, retrying, sending, failed); a status absent has none. */
  byStatus: Partial<Record<string, number>>;
  /** When the oldest message still waiting to go was queued; undefined when none waits. */
  oldestWaitingSince: Date | undefined;
}

/** Signature figures read from the database, so they hold across every process writing to it. */
export interface SignatureTotals {
  /** Signatures ever received, in any status: only grows. */
  received: number;
  /** Confirmed signatures standing now (withdrawals take some away). */
  confirmed: number;
}

/** Where the figures read on each scrape come from (ports wiring satisfies). */
export interface MetricsSources {
  queue(): Promise<QueueFigures>;
  signatures(): Promise<SignatureTotals>;
  /** The shedding's own view of the event loop's delay, in milliseconds. */
  lagMs(): number;
  /** Signing POSTs being answered now. */
  signingInFlight(): number;
  now(): Date;
}

/** Queue statuses always shown, at 0 when empty, so an alert on one never sees it vanish. */
const QUEUE_STATUSES = ['queued', 'retrying', 'sending', 'failed'] as const;
const METHODS = new Set(['GET', 'HEAD', 'POST']);

/**
 * The platform's Prometheus metrics, in a registry of their own (never prom-client's global one): made
 * once in wiring, read by GET /metrics. Figures that must hold across processes (signatures, the queue)
 * are read from the database on each scrape; request timings and refusals are this process's own.
 */
export class Metrics {
  readonly registry = new Registry();
  private readonly requestDuration: Histogram<'route' | 'method' | 'status_class'>;
  private readonly shed: Counter<'kind'>;

  constructor(sources: MetricsSources) {
    const registers = [this.registry];
    // CPU, memory, handles, garbage collection and nodejs_eventloop_lag_*, from prom-client.
    collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'undersigned_http_request_duration_seconds',
      help: 'Time to answer a request, by route pattern (never the address itself), method and status class.',
      labelNames: ['route', 'method', 'status_class'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
      registers,
    });
    this.shed = new Counter({
      name: 'undersigned_http_shed_total',
      help: 'Requests refused with 503 because the process was overloaded, by kind (signing, other).',
      labelNames: ['kind'],
      registers,
    });
    new Counter({
      name: 'undersigned_signatures_received_total',
      help: 'Signatures received in any status, read from the database (all processes); rate() gives signatures per second.',
      registers,
      async collect() {
        const { received } = await sources.signatures();
        this.reset();
        this.inc(received);
      },
    });
    new Gauge({
      name: 'undersigned_signatures_confirmed',
      help: 'Confirmed signatures standing on every letter, from the letters counters.',
      registers,
      async collect() {
        this.set((await sources.signatures()).confirmed);
      },
    });
    new Gauge({
      name: 'undersigned_outbox_messages',
      help: 'Mail queue messages not sent, by status (queued, retrying, sending, failed).',
      labelNames: ['status'],
      registers,
      async collect() {
        const { byStatus } = await sources.queue();
        for (const status of QUEUE_STATUSES) this.set({ status }, byStatus[status] ?? 0);
      },
    });
    new Gauge({
      name: 'undersigned_outbox_oldest_waiting_age_seconds',
      help: 'Age of the oldest message waiting to be sent (queued, retrying or sending); 0 when none waits.',
      registers,
      async collect() {
        const { oldestWaitingSince } = await sources.queue();
        const age = oldestWaitingSince ? (sources.now().getTime() - oldestWaitingSince.getTime()) / 1000 : 0;
        this.set(Math.max(0, age));
      },
    });
    new Gauge({
      name: 'undersigned_shed_event_loop_lag_seconds',
      help: 'The event-loop delay the load shedding sees (median of its last window, or the current turn).',
      registers,
      collect() {
        this.set(sources.lagMs() / 1000);
      },
    });
    new Gauge({
      name: 'undersigned_signing_in_flight',
      help: 'Signing requests being answered now in this process.',
      registers,
      collect() {
        this.set(sources.signingInFlight());
      },
    });
  }

  /** Records one answered request; `route` is the pattern that answered it, or a fixed word. */
  observeRequest(route: string, method: string, status: number, seconds: number): void {
    this.requestDuration.observe(
      {
        route,
        // A client may send any method: only known ones become labels, so it cannot add series at will.
        method: METHODS.has(method) ? method : 'other',
        status_class: `${Math.floor(status / 100)}xx`,
      },
      seconds,
    );
  }

  /** Counts one request refused by the load shedding. */
  countShed(kind: string): void {
    this.shed.inc({ kind });
  }

  /** The text exposition (format 0.0.4) of every metric. */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
