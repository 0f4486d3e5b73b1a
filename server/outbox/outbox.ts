/** Outbox messages (the mail queue): types and pure rules. No I/O here. */

export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'retrying', 'failed', 'cancelled'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Lower sends first: a supporter waiting for a confirmation link comes before anything else. */
export const PRIORITY = { confirmation: 0, letter: 10, notification: 20 } as const;

export type OutboxKind = 'signature-confirmation';

export interface OutboxMessage {
  id: number;
  kind: string;
  toAddress: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  headers: Record<string, string>;
  messageId: string;
  status: OutboxStatus;
  attempts: number;
  createdAt: Date;
}

/** An e-mail to put in the outbox, already rendered. */
export interface NewOutboxMessage {
  kind: OutboxKind;
  priority: number;
  signatureId: number | null;
  toAddress: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  headers?: Record<string, string>;
}

export interface RetryPolicy {
  /** Delay before the second attempt; doubles with each further attempt. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** After this long since the message was queued, a temporary failure becomes final. */
  giveUpAfterMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  baseDelayMs: 30_000,
  maxDelayMs: 6 * 3_600_000,
  giveUpAfterMs: 5 * 86_400_000,
};

/**
 * When to try again after `attempts` failed attempts: exponential backoff with ±20 % jitter so that
 * messages that failed together do not all come back together. `random` is in [0, 1).
 */
export function nextAttemptAt(attempts: number, now: Date, policy: RetryPolicy, random: number): Date {
  const exponential = policy.baseDelayMs * 2 ** Math.max(0, attempts - 1);
  const delay = Math.min(policy.maxDelayMs, exponential) * (0.8 + 0.4 * random);
  return new Date(now.getTime() + Math.round(delay));
}

export type SendOutcome =
  | { kind: 'sent'; reply: string }
  | { kind: 'temporary'; reply: string }
  | { kind: 'permanent'; reply: string };

interface SmtpLikeError {
  responseCode?: unknown;
  response?: unknown;
  code?: unknown;
  message?: unknown;
}

/**
 * Sorts a failed send: a 5xx reply is permanent (the server said no; retrying would not change that);
 * a 4xx reply, a timeout or a broken connection is temporary.
 */
export function classifySendError(error: unknown): SendOutcome {
  const e = (error ?? {}) as SmtpLikeError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : undefined;
  const reply =
    typeof e.response === 'string' && e.response.length > 0
      ? e.response
      : [
          typeof e.code === 'string' ? e.code : undefined,
          typeof e.message === 'string' ? e.message : undefined,
        ]
          .filter(Boolean)
          .join(': ') || 'unknown error';
  if (code !== undefined && code >= 500 && code < 600) return { kind: 'permanent', reply };
  return { kind: 'temporary', reply };
}

/** Whether a temporary failure should now be given up on. */
export function shouldGiveUp(createdAt: Date, now: Date, policy: RetryPolicy): boolean {
  return now.getTime() - createdAt.getTime() >= policy.giveUpAfterMs;
}
