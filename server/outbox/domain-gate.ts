import type { PolitenessPolicy } from './outbox.js';

interface DomainState {
  active: number;
  /** The earliest time the next message to this domain may start. */
  nextStart: number;
  waiting: (() => void)[];
}

/**
 * Politeness per receiving domain, inside one worker process: at most `connectionsPerDomain` sends to
 * a domain at once, and starts spaced by 1 / `messagesPerSecond`. Real time, not the platform clock:
 * this paces real SMTP connections. (Several worker processes each keep their own pace.)
 */
export class DomainGate {
  private readonly domains = new Map<string, DomainState>();
  private readonly spacingMs: number;

  constructor(
    private readonly policy: PolitenessPolicy,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) =>
      new Promise((resolve) => setTimeout(resolve, ms)),
  ) {
    this.spacingMs = policy.messagesPerSecond > 0 ? 1000 / policy.messagesPerSecond : 0;
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
      const start = Math.max(this.now(), state.nextStart);
      state.nextStart = start + this.spacingMs;
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

  private state(domain: string): DomainState {
    let state = this.domains.get(domain);
    if (!state) {
      state = { active: 0, nextStart: 0, waiting: [] };
      this.domains.set(domain, state);
    }
    return state;
  }
}
