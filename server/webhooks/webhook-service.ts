import type { User } from '../accounts/account.js';
import type { AuditRepository } from '../audit/audit-repository.js';
import type { Db } from '../db/database.js';
import type { AccessedLetter } from '../letters/letter-access.js';
import { recordLetterStep } from '../letters/letter-access.js';
import type { Clock } from '../lib/clock.js';
import { AppError, notFound } from '../lib/errors.js';
import { authorize } from '../policy/policy.js';
import { AddressRefused, checkedAddress, hostOf, urlProblem, type Resolver } from './webhook-address.js';
import {
  newSecret,
  PREVIOUS_SECRET_KEPT_MS,
  secretMark,
  withoutSecrets,
  type WebhookAttempt,
  type WebhookEndpoint,
  type WebhookEventType,
} from './webhook.js';
import type { WebhookRepository } from './webhook-repository.js';

export interface WebhookServiceDeps {
  db: Db;
  webhooks: WebhookRepository;
  audit: AuditRepository;
  clock: Clock;
  /** The letter if the user may reach it (404, or 403 for someone else's): LetterAccess.forEdit. */
  letterFor: (user: User, letterId: number) => Promise<AccessedLetter>;
  /** WEBHOOKS_ALLOW_PRIVATE: private and loopback destinations allowed, http too (local development only). */
  allowPrivate: boolean;
  resolve?: Resolver;
}

/** Attempts shown per page of an endpoint's delivery log. */
export const LOG_PAGE_SIZE = 25;

/** A refused URL: the form shows why. */
export class UrlRefused extends AppError {
  constructor(readonly reason: string) {
    super(422, 'webhook_url_refused', `webhooks.endpoints.errors.${reason}`);
  }
}

/**
 * A letter's webhook endpoints: registered (the secret shown once), disabled and enabled, secrets
 * rotated, deleted, and their delivery log read; each allowed by the policy (webhook.manage: whoever may
 * edit the letter) and each change audited in its transaction. Audit entries name the endpoint's host,
 * not its URL, which may carry a receiver's own secret in its path.
 */
export class WebhookService {
  constructor(private readonly deps: WebhookServiceDeps) {}

  private async letter(user: User, letterId: number): Promise<AccessedLetter> {
    const accessed = await this.deps.letterFor(user, letterId);
    authorize(user, 'webhook.manage', accessed.resource);
    return accessed;
  }

  private async endpoint(user: User, letterId: number, endpointId: number) {
    const accessed = await this.letter(user, letterId);
    const endpoint = await this.deps.webhooks.findEndpoint(endpointId);
    if (!endpoint || endpoint.letterId !== accessed.letter.id)
      throw notFound('webhook_not_found', 'webhooks.endpoints.notFound');
    return { accessed, endpoint };
  }

  async list(
    user: User,
    letterId: number,
  ): Promise<{ letter: AccessedLetter['letter']; endpoints: WebhookEndpoint[] }> {
    const { letter } = await this.letter(user, letterId);
    return { letter, endpoints: await this.deps.webhooks.endpointsOf(letter.id) };
  }

  /**
   * Registers an endpoint after the SSRF guard: https only (http too with WEBHOOKS_ALLOW_PRIVATE), no
   * credentials in the URL, and a host whose every address is public. Returns the secret, shown once.
   */
  async register(
    user: User,
    letterId: number,
    input: { url: string; events: WebhookEventType[] },
  ): Promise<{ id: number; secret: string }> {
    const { letter } = await this.letter(user, letterId);
    const problem = urlProblem(input.url, this.deps.allowPrivate);
    if (problem) throw new UrlRefused(problem);
    try {
      await checkedAddress(hostOf(new URL(input.url)), this.deps.allowPrivate, this.deps.resolve);
    } catch (error) {
      if (error instanceof AddressRefused) throw new UrlRefused(error.reason);
      throw error;
    }
    const secret = newSecret();
    const now = this.deps.clock.now();
    const id = await this.deps.db.transaction().execute(async (tx) => {
      // A page reloaded after "shown once" sends the form again: a second endpoint at the same address
      // would get every event twice, signed with a secret nobody saw.
      const registered = await this.deps.webhooks.with(tx).endpointsOfForRegistering(letter.id);
      if (registered.some((endpoint) => endpoint.url === input.url)) throw new UrlRefused('registered');
      const id = await this.deps.webhooks
        .with(tx)
        .createEndpoint(
          { letterId: letter.id, url: input.url, events: input.events, secret, createdBy: user.id },
          now,
        );
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'webhook-created',
        letter,
        { endpointId: id, host: new URL(input.url).host, events: input.events },
        now,
      );
      return id;
    });
    return { id, secret };
  }

  /** One endpoint, a page of its log (newest first, before `beforeId`) and its deliveries by state. */
  async detail(
    user: User,
    letterId: number,
    endpointId: number,
    beforeId?: number,
  ): Promise<{
    letter: AccessedLetter['letter'];
    endpoint: WebhookEndpoint;
    attempts: WebhookAttempt[];
    more: boolean;
    counts: Record<string, number>;
  }> {
    const { accessed, endpoint } = await this.endpoint(user, letterId, endpointId);
    const page = await this.deps.webhooks.attemptsOf(endpoint.id, LOG_PAGE_SIZE + 1, beforeId);
    return {
      letter: accessed.letter,
      endpoint: withoutSecrets(endpoint),
      attempts: page.slice(0, LOG_PAGE_SIZE),
      more: page.length > LOG_PAGE_SIZE,
      counts: await this.deps.webhooks.countsOf(endpoint.id),
    };
  }

  async setEnabled(user: User, letterId: number, endpointId: number, enabled: boolean): Promise<void> {
    const { accessed, endpoint } = await this.endpoint(user, letterId, endpointId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      if (!(await this.deps.webhooks.with(tx).setEnabled(endpoint.id, enabled, now))) return;
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'webhook-changed',
        accessed.letter,
        {
          endpointId: endpoint.id,
          host: new URL(endpoint.url).host,
          change: enabled ? 'enabled' : 'disabled',
        },
        now,
      );
    });
  }

  /**
   * What the page that asks before a step on an endpoint shows: the endpoint without its secrets, and the
   * mark of its secret now (secretMark), which a rotation sends back so that it rotates once.
   */
  async forStep(
    user: User,
    letterId: number,
    endpointId: number,
  ): Promise<{ letter: AccessedLetter['letter']; endpoint: WebhookEndpoint; seenMark: string }> {
    const { accessed, endpoint } = await this.endpoint(user, letterId, endpointId);
    return {
      letter: accessed.letter,
      endpoint: withoutSecrets(endpoint),
      seenMark: secretMark(endpoint.secret),
    };
  }

  /**
   * A new secret, shown once; the old one signs beside it for a day, so the receiver can switch over.
   * Only if the secret is still the one the page asking saw (`seenMark`). Sent again
   * (a reload of the page that showed the new secret), it is refused with 409: a second rotation would
   * drop the secret the receiver still uses, a day early, for one nobody copied.
   */
  async rotate(user: User, letterId: number, endpointId: number, seenMark: string): Promise<string> {
    const { accessed, endpoint } = await this.endpoint(user, letterId, endpointId);
    const now = this.deps.clock.now();
    const secret = newSecret();
    await this.deps.db.transaction().execute(async (tx) => {
      const webhooks = this.deps.webhooks.with(tx);
      const current = (await webhooks.findEndpoint(endpoint.id))?.secret;
      const rotated =
        current !== undefined &&
        secretMark(current) === seenMark &&
        (await webhooks.rotateSecret(
          endpoint.id,
          current,
          secret,
          new Date(now.getTime() + PREVIOUS_SECRET_KEPT_MS),
          now,
        ));
      if (!rotated) throw new AppError(409, 'secret_changed', 'webhooks.steps.rotate.changed');
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'webhook-changed',
        accessed.letter,
        { endpointId: endpoint.id, host: new URL(endpoint.url).host, change: 'secret-rotated' },
        now,
      );
    });
    return secret;
  }

  async remove(user: User, letterId: number, endpointId: number): Promise<void> {
    const { accessed, endpoint } = await this.endpoint(user, letterId, endpointId);
    const now = this.deps.clock.now();
    await this.deps.db.transaction().execute(async (tx) => {
      await this.deps.webhooks.with(tx).deleteEndpoint(endpoint.id);
      await recordLetterStep(
        this.deps.audit,
        tx,
        user,
        'webhook-deleted',
        accessed.letter,
        { endpointId: endpoint.id, host: new URL(endpoint.url).host },
        now,
      );
    });
  }
}
