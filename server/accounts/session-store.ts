import session from 'express-session';
import type { Clock } from '../lib/clock.js';
import { keyedHash } from '../lib/keyed-hash.js';
import type { SessionRepository } from './session-repository.js';

declare module 'express-session' {
  interface SessionData {
    userId?: number;
  }
}

type Callback<T = void> = (error?: unknown, value?: T) => void;

/**
 * express-session's store over the sessions table. Ids are kept only as keyed hashes, so a leaked
 * database or backup cannot be used to take over a logged-in session.
 */
export class SqliteSessionStore extends session.Store {
  constructor(
    private readonly sessions: SessionRepository,
    private readonly secret: string,
    private readonly clock: Clock,
    private readonly ttlMs: number,
  ) {
    super();
  }

  private key(sid: string): string {
    return keyedHash(this.secret, 'session', sid);
  }

  // Measured on the platform's clock, like the expiry check in get(): the cookie's own date comes from
  // the wall clock, and mixing the two would end sessions early or late whenever they differ.
  private expiry(): Date {
    return new Date(this.clock.now().getTime() + this.ttlMs);
  }

  override get(sid: string, callback: Callback<session.SessionData | null>): void {
    this.sessions.find(this.key(sid), this.clock.now()).then(
      (data) => callback(undefined, data ? (JSON.parse(data) as session.SessionData) : null),
      (error: unknown) => callback(error),
    );
  }

  override set(sid: string, data: session.SessionData, callback?: Callback): void {
    this.sessions.save(this.key(sid), data.userId ?? null, JSON.stringify(data), this.expiry()).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override touch(sid: string, _data: session.SessionData, callback?: Callback): void {
    this.sessions.extend(this.key(sid), this.expiry()).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  override destroy(sid: string, callback?: Callback): void {
    this.sessions.remove(this.key(sid)).then(
      () => callback?.(),
      (error: unknown) => callback?.(error),
    );
  }

  /** The stored key of a session id, so a service can end every other session of an account. */
  keyOf(sid: string): string {
    return this.key(sid);
  }
}
