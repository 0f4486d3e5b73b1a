import type { ClientRateLimitInfo, IncrementResponse, Options, Store } from 'express-rate-limit';
import type { GroupCommit } from '../db/group-commit.js';
import type { Clock } from '../lib/clock.js';
import type { LimitRepository } from './limit-repository.js';

/**
 * An express-rate-limit store kept in the database, so request limits (login, links, exports) survive a
 * restart and hold across every process on one database. One store per limit: `name` keeps its
 * counters apart from other limits'. Keys reach it already hashed (see security.ts). A request is
 * counted in a commit shared with the other writes of the moment (`writes`, db/group-commit.ts).
 */
export class DatabaseLimitStore implements Store {
  readonly localKeys = false;
  readonly prefix: string;
  private windowMs = 60_000;

  constructor(
    private readonly limits: LimitRepository,
    private readonly clock: Clock,
    name: string,
    private readonly writes: GroupCommit,
  ) {
    this.prefix = `${name}:`;
  }

  init(options: Options): void {
    this.windowMs = options.windowMs;
  }

  async get(key: string): Promise<ClientRateLimitInfo | undefined> {
    const found = await this.limits.findCounter(this.prefix + key, this.clock.now());
    return found ? { totalHits: found.hits, resetTime: found.resetAt } : undefined;
  }

  async increment(key: string): Promise<IncrementResponse> {
    const { hits, resetAt } = await this.writes.run((tx) =>
      this.limits.with(tx).incrementCounter(this.prefix + key, this.windowMs, this.clock.now()),
    );
    return { totalHits: hits, resetTime: resetAt };
  }

  async decrement(key: string): Promise<void> {
    await this.limits.decrementCounter(this.prefix + key, this.clock.now());
  }

  async resetKey(key: string): Promise<void> {
    await this.limits.deleteCounter(this.prefix + key);
  }
}
