import type { PolitenessPolicy } from './outbox.js';

interface DomainState {
  active: number;
  /** The earliest time the next message to this domain may start. */
  nextStart: number;
  waiting: (() => void)[];
}

/**
 * The deployment's pace per domain, kept in the database (outbox/domain-pacing-repository.ts), so that
 * several worker processes together keep one domain's rate.
 */
export interface SharedPace {
  /**
   * Reserves `count` consecutive starts, `spacingMs` apart, for each domain, the first no earlier than
   * `nowMs`; resolves with each domain's first start (ms since the epoch).
   */
  reserveStarts(
    counts: ReadonlyMap<string, number>,
    nowMs: number,
    spacingMs: number,
  ): Promise<Map<string, number>>;
  /** Domains whose next start is reserved later than `afterMs`. */
  reservedBeyond(afterMs: number): Promise<string[]>;
}

/**
 * Politeness per receiving domain: at most `connectionsPerDomain` sends to a domain at once from this
 * process, and starts spaced by 1 / `messagesPerSecond`. Real time, not the platform clock: this paces
 * real SMTP connections. With a SharedPace the spacing holds across every worker process on the
 * database; the connections, and the hand-over between sends, stay this process's own fast part.
 */
export class DomainGate {
  private readonly domains = new Map<string, DomainState>();
  private readonly spacingMs: number;
  /** Whole milliseconds, as the database keeps them; rounded up, so the shared rate is never above the policy. */
  private readonly sharedSpacingMs: number;
  /** Sends waiting for their shared start, reserved together in one statement (see reserve). */
  private reservations: {
    domain: string;
    resolve: (start: number) => void;
    reject: (error: unknown) => void;
  }[] = [];

  constructor(
    private readonly policy: PolitenessPolicy,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
    private readonly shared?: SharedPace,
  ) {
    this.spacingMs = policy.messagesPerSecond > 0 ? 1000 / policy.messagesPerSecond : 0;
    this.sharedSpacingMs = Math.ceil(this.spacingMs);
  }

  /** Domains that cannot take another message now; the claim leaves their mail in the queue. */
  saturated(): string[] {
    const now = this.now();
    for (const [domain, state] of this.domains) {
      if (state.active === 0 && state.waiting.length === 0 && state.nextStart <= now)
        this.domains.delete(domain);
    }
    return [...this.domains.entries()]
      .filter(([, state]) => state.active + state.waiting.length >= this.policy.connectionsPerDomain)
      .map(([domain]) => domain);
  }

  /**
   * Domains the claim leaves in the queue: those saturated here, and those the deployment has reserved
   * starts for further ahead than this domain's connections (its mail would only wait in this process).
   */
  async excluded(): Promise<string[]> {
    const here = this.saturated();
    if (!this.shared || this.spacingMs === 0) return here;
    const ahead = await this.shared.reservedBeyond(
      this.now() + this.policy.connectionsPerDomain * this.sharedSpacingMs,
    );
    return [...new Set([...here, ...ahead])];
  }

  /** Runs `send` when the domain has a free connection and its next start time has come. */
  async run<T>(domain: string, send: () => Promise<T>): Promise<T> {
    const state = this.state(domain);
    if (state.active >= this.policy.connectionsPerDomain) {
      // The send that ends hands its connection over (active stays counted), so a newcomer arriving
      // between that hand-over and this line cannot take it too.
      await new Promise<void>((resolve) => state.waiting.push(resolve));
    } else {
      state.active += 1;
    }
    try {
      const start = await this.startFor(domain, state);
      const wait = start - this.now();
      if (wait > 0) await this.sleep(wait);
      return await send();
    } finally {
      const next = state.waiting.shift();
      if (next) next();
      else {
        state.active -= 1;
        if (state.active === 0 && state.nextStart <= this.now()) this.domains.delete(domain);
      }
    }
  }

  /** When the next send to `domain` may start: by the deployment's pace when shared, else by this process's. */
  private async startFor(domain: string, state: DomainState): Promise<number> {
    if (this.shared && this.spacingMs > 0) {
      // The shared reservation already counts this process's own starts: no local spacing on top.
      const start = await this.reserve(domain);
      state.nextStart = Math.max(state.nextStart, start + this.sharedSpacingMs);
      return start;
    }
    const start = Math.max(this.now(), state.nextStart);
    state.nextStart = start + this.spacingMs;
    return start;
  }

  /**
   * The shared start of one send. The sends that ask within one turn of the event loop (a claim's batch
   * starting) are reserved in one statement: one write per batch rather than one per message.
   */
  private reserve(domain: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.reservations.push({ domain, resolve, reject });
      if (this.reservations.length === 1) setImmediate(() => void this.reserveWaiting());
    });
  }

  private async reserveWaiting(): Promise<void> {
    const batch = this.reservations;
    this.reservations = [];
    const counts = new Map<string, number>();
    for (const { domain } of batch) counts.set(domain, (counts.get(domain) ?? 0) + 1);
    try {
      const firsts = await this.shared!.reserveStarts(counts, this.now(), this.sharedSpacingMs);
      const handedOut = new Map<string, number>();
      for (const { domain, resolve } of batch) {
        const place = handedOut.get(domain) ?? 0;
        handedOut.set(domain, place + 1);
        resolve(firsts.get(domain)! + place * this.sharedSpacingMs);
      }
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  }

  private state(domain: string): DomainState {
    let state = this.domains.get(domain);
    if (!state) {
      state = { active: 0, nextStart: 0, waiting: [] };
      this.domains.set(domain, state);
    }
    return state;
  }
}
