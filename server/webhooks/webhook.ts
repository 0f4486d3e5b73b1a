import { createHash, createHmac, randomBytes } from 'node:crypto';

/**
 * Webhooks: pure rules, time and randomness passed in. Sending follows the Standard Webhooks
 * specification (standardwebhooks.com): headers `webhook-id`, `webhook-timestamp` (seconds) and
 * `webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, keyed by the secret's bytes
 * (`whsec_<base64>`); several signatures, space-separated, while a rotated secret is still honoured.
 */

export const WEBHOOK_EVENTS = [
  'signature.confirmed',
  'signature.withdrawn',
  'letter.published',
  'letter.delivered',
] as const;
export type WebhookEventType = (typeof WEBHOOK_EVENTS)[number];

export const SECRET_PREFIX = 'whsec_';
/** A rotated-out secret still signs (beside the new one) this long, so receivers can switch over. */
export const PREVIOUS_SECRET_KEPT_MS = 24 * 3_600_000;
/** The longest URL an endpoint may have. */
export const WEBHOOK_URL_MAX = 2_000;
/** How much of a receiver's answer the log keeps. */
export const EXCERPT_CHARACTERS = 300;
/** One attempt's limit: connecting, sending and reading the answer. */
export const ATTEMPT_TIMEOUT_MS = 10_000;
/** Delays before each retry (then the last one again), each with ±20 % jitter; given up after GIVE_UP_AFTER_MS. */
export const RETRY_DELAYS_MS = [5_000, 30_000, 120_000, 600_000, 3_600_000, 3 * 3_600_000, 6 * 3_600_000];
export const GIVE_UP_AFTER_MS = 24 * 3_600_000;

export type DeliveryStatus = 'waiting' | 'sending' | 'succeeded' | 'failed';

/** How an attempt ended, as the log says it. */
export type AttemptOutcome = 'delivered' | 'http-error' | 'timeout' | 'network-error' | 'refused-address';

export interface WebhookEndpoint {
  id: number;
  letterId: number;
  url: string;
  events: WebhookEventType[];
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

/** An endpoint with its secrets: only the worker reads these. */
export interface SigningEndpoint extends WebhookEndpoint {
  secret: string;
  previousSecret: string | null;
  previousSecretUntil: Date | null;
}

/** The endpoint without its secrets, for pages. */
export function withoutSecrets(endpoint: SigningEndpoint): WebhookEndpoint {
  const { secret: _secret, previousSecret: _previous, previousSecretUntil: _until, ...rest } = endpoint;
  return rest;
}

/** One event for one endpoint, as the worker claims it. */
export interface WebhookDelivery {
  id: number;
  endpointId: number;
  eventId: string;
  eventType: WebhookEventType;
  payload: string;
  attempts: number;
  createdAt: Date;
}

export interface WebhookAttempt {
  id: number;
  deliveryId: number;
  eventId: string;
  eventType: string;
  attempt: number;
  at: Date;
  statusCode: number | null;
  outcome: AttemptOutcome;
  excerpt: string;
  durationMs: number;
}

/** A new signing secret: 24 random bytes, as Standard Webhooks writes them. */
export function newSecret(): string {
  return `${SECRET_PREFIX}${randomBytes(24).toString('base64')}`;
}

/** A new message id (the webhook-id header): the same on every attempt of one event. */
export function newEventId(): string {
  return `msg_${randomBytes(16).toString('base64url')}`;
}

/** The `v1,<base64>` signature of one message under one secret. */
export function signatureOf(secret: string, id: string, timestampSeconds: number, body: string): string {
  const key = Buffer.from(
    secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret,
    'base64',
  );
  const mac = createHmac('sha256', key).update(`${id}.${timestampSeconds}.${body}`).digest('base64');
  return `v1,${mac}`;
}

/** The three headers of one attempt; a previous secret still in its grace period signs too. */
export function signedHeaders(
  endpoint: Pick<SigningEndpoint, 'secret' | 'previousSecret' | 'previousSecretUntil'>,
  id: string,
  body: string,
  now: Date,
): Record<string, string> {
  const timestamp = Math.floor(now.getTime() / 1000);
  const secrets = [endpoint.secret];
  if (endpoint.previousSecret && endpoint.previousSecretUntil && endpoint.previousSecretUntil > now)
    secrets.push(endpoint.previousSecret);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((secret) => signatureOf(secret, id, timestamp, body)).join(' '),
  };
}

/** The body sent for an event: its type, when it happened, and its data. */
export function eventBody(type: WebhookEventType, at: Date, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: at.toISOString(), data });
}

/**
 * When a delivery that failed its `attempts`-th attempt at `now` is tried again, or null when it is
 * given up (24 hours after the event). `random` in [0, 1) spreads retries (±20 %).
 */
export function nextAttemptAt(attempts: number, createdAt: Date, now: Date, random: number): Date | null {
  const base = RETRY_DELAYS_MS[Math.min(Math.max(attempts, 1), RETRY_DELAYS_MS.length) - 1]!;
  const delay = Math.round(base * (0.8 + 0.4 * random));
  const at = new Date(now.getTime() + delay);
  return at.getTime() - createdAt.getTime() > GIVE_UP_AFTER_MS ? null : at;
}

/** The start of a receiver's answer as the log keeps it: one line of printable text, at most EXCERPT_CHARACTERS. */
export function excerptOf(body: string): string {
  const flat = body
    .replace(/\p{Cc}+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
  const characters = [...flat];
  return characters.length > EXCERPT_CHARACTERS
    ? `${characters.slice(0, EXCERPT_CHARACTERS).join('')}…`
    : flat;
}

/** The events column: each event between commas, so one can be matched with LIKE '%,type,%'. */
export function eventsColumn(events: readonly WebhookEventType[]): string {
  return `,${events.join(',')},`;
}

export function eventsFromColumn(column: string): WebhookEventType[] {
  return WEBHOOK_EVENTS.filter((event) => column.includes(`,${event},`));
}

/** The endpoint form as typed; errors are i18n keys per field. The URL's address is checked apart (webhook-address.ts). */
export function parseEndpointForm(
  body: Record<string, unknown>,
):
  | { ok: true; url: string; events: WebhookEventType[] }
  | { ok: false; url: string; events: string[]; errors: Record<string, string> } {
  const url = typeof body.url === 'string' ? body.url.trim() : '';
  const raw = body.events;
  const events =
    typeof raw === 'string'
      ? [raw]
      : Array.isArray(raw)
        ? raw.filter((e): e is string => typeof e === 'string')
        : [];
  const errors: Record<string, string> = {};
  if (url === '') errors.url = 'webhooks.endpoints.errors.urlMissing';
  else if (url.length > WEBHOOK_URL_MAX) errors.url = 'webhooks.endpoints.errors.urlTooLong';
  const known = events.filter((e): e is WebhookEventType =>
    (WEBHOOK_EVENTS as readonly string[]).includes(e),
  );
  if (known.length === 0 || known.length !== events.length)
    errors.events = 'webhooks.endpoints.errors.events';
  if (Object.keys(errors).length > 0) return { ok: false, url, events, errors };
  return { ok: true, url, events: WEBHOOK_EVENTS.filter((e) => known.includes(e)) };
}

/**
 * What a page asking to rotate a secret knows of the secret it saw: the start of its SHA-256, which
 * tells secrets apart and gives nothing of them away. A rotation sent for another secret is refused.
 */
export function secretMark(secret: string): string {
  return createHash('sha256').update(secret).digest('hex').slice(0, 16);
}
