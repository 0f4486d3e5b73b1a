import type { User } from '../accounts/account.js';
import type { UserRepository } from '../accounts/user-repository.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { authorize, can } from '../policy/policy.js';
import {
  expiryOf,
  newToken,
  tokenHash,
  tokenState,
  type ApiToken,
  type TokenLifetime,
  type TokenState,
} from './token.js';
import type { ApiTokenRepository } from './token-repository.js';

export interface ApiTokenServiceDeps {
  db: Db;
  tokens: ApiTokenRepository;
  users: UserRepository;
  audit: AuditRepository;
  clock: Clock;
}

/** A token as its owner's list shows it. */
export interface ListedToken extends ApiToken {
  state: TokenState;
}

/** Two token names are the same when they differ only in case. */
const sameName = (a: string, b: string) => a.toLocaleLowerCase() === b.toLocaleLowerCase();

/** The 401 every unusable token gets, whatever the reason: a caller learns nothing about which. */
const unauthorized = () => new AppError(401, 'token_invalid', 'webhooks.api.unauthorized');

/**
 * Organizer API tokens: created (shown once), listed, revoked by their owner, each step audited in
 * its own transaction; and the bearer check of the organizer API, which answers with the token's
 * account as it is now (a disabled account's tokens stop working with it).
 */
export class ApiTokenService {
  constructor(private readonly deps: ApiTokenServiceDeps) {}

  async list(user: User): Promise<ListedToken[]> {
    authorize(user, 'apiToken.manage', { ownerId: user.id });
    const now = this.deps.clock.now();
    return (await this.deps.tokens.ofUser(user.id)).map((t) => ({ ...t, state: tokenState(t, now) }));
  }

  /**
   * For an admin, the other accounts' tokens that still work, with their owners: a leaked one can be
   * revoked from the list (the policy lets an admin revoke anyone's) without building its address by
   * hand or disabling the whole account. Undefined for anyone else, who sees their own only.
   */
  async othersIfAllowed(user: User): Promise<(ListedToken & { ownerEmail: string })[] | undefined> {
    if (!can(user, 'apiToken.oversee')) return undefined;
    const now = this.deps.clock.now();
    return (await this.deps.tokens.unrevokedOfOthers(user.id))
      .map((t) => ({ ...t, state: tokenState(t, now) }))
      .filter((t) => t.state === 'active');
  }

  /** Creates a token for the user; returns it whole, the only time it exists outside the request. */
  async create(
    user: User,
    input: { name: string; lifetime: TokenLifetime },
  ): Promise<{ token: string; id: number }> {
    authorize(user, 'apiToken.manage', { ownerId: user.id });
    const now = this.deps.clock.now();
    const made = newToken();
    const id = await this.deps.db.transaction().execute(async (tx) => {
      // A page reloaded after "shown once" sends the form again: a second working token of the same
      // name would stay valid, unseen and unused, beside the one copied. Names tell working tokens apart.
      const mine = await this.deps.tokens.with(tx).ofUserForCreating(user.id);
      if (mine.some((t) => tokenState(t, now) === 'active' && sameName(t.name, input.name)))
        throw new AppError(409, 'token_name_taken', 'webhooks.tokens.errors.nameTaken', { name: input.name });
      const id = await this.deps.tokens.with(tx).create(
        {
          userId: user.id,
          name: input.name,
          hash: made.hash,
          prefix: made.prefix,
          expiresAt: expiryOf(input.lifetime, now),
        },
        now,
      );
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'api-token-created',
          targetType: 'user',
          targetId: user.id,
          details: { tokenId: id, name: input.name, prefix: made.prefix, lifetimeDays: input.lifetime },
        },
        now,
      );
      return id;
    });
    return { token: made.token, id };
  }

  /** One of the user's tokens (for the revoke confirmation); 404 for an unknown one, 403 for another account's. */
  async find(user: User, id: number): Promise<ListedToken> {
    const token = await this.deps.tokens.findById(id);
    if (!token) throw notFound('token_not_found', 'webhooks.tokens.notFound');
    authorize(user, 'apiToken.manage', { ownerId: token.userId });
    return { ...token, state: tokenState(token, this.deps.clock.now()) };
  }

  /** Revokes a token; revoking twice is harmless and recorded once. */
  async revoke(user: User, id: number): Promise<void> {
    const token = await this.find(user, id);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.tokens.with(tx).revoke(token.id, now))) return;
      await this.deps.audit.with(tx).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'api-token-revoked',
          targetType: 'user',
          targetId: token.userId,
          details: { tokenId: token.id, name: token.name, prefix: token.prefix },
        },
        now,
      );
    });
  }

  /**
   * The account behind a bearer token, as it is now; 401 for a token that is unknown, revoked,
   * expired, or whose account is disabled or gone. Records the token's use.
   */
  async authenticate(token: string | undefined): Promise<User> {
    if (token === undefined) throw unauthorized();
    const found = await this.deps.tokens.findByHash(tokenHash(token));
    const now = this.deps.clock.now();
    if (!found || tokenState(found, now) !== 'active') throw unauthorized();
    const user = await this.deps.users.findById(found.userId);
    if (!user || user.disabled) throw unauthorized();
    await this.deps.tokens.markUsed(found.id, now);
    return user;
  }
}
