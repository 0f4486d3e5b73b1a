/** Outbox messages (the mail queue): types and pure rules. No I/O here. */

export const OUTBOX_STATUSES = ['queued', 'sending', 'sent', 'retrying', 'failed', 'cancelled'] as const;
export type OutboxStatus = (typeof OUTBOX_STATUSES)[number];

/** Lower sends first: a supporter waiting for a confirmation link comes before anything else. */
export const PRIORITY = { confirmation: 0, letter: 10, notification: 20 } as const;

/** The legal moves of an outbox message, written once; the repository refuses any other. */
export const OUTBOX_TRANSITIONS: Readonly<Record<OutboxStatus, readonly OutboxStatus[]>> = {
  queued: ['sending', 'cancelled'],
  sending: ['sent', 'retrying', 'failed'],
  retrying: ['sending', 'cancelled'],
  // A bounce arriving later turns a sent message into a failed one.
  sent: ['failed'],
  // An admin may retry or cancel a failed message.
  failed: ['queued', 'cancelled'],
  cancelled: [],
};

/** Whether an admin may still cancel a message in this status (it has not gone, and is not going now). */
export const isCancellable = (status: OutboxStatus): boolean =>
  OUTBOX_TRANSITIONS[status].includes('cancelled');

export type OutboxKind =
  | 'signature-confirmation'
  | 'signature-already-signed'
  | 'letter-delivery'
  | 'letter-sent'
  | 'data-access'
  | 'account-invitation'
  | 'password-reset'
  | 'letter-review-requested'
  | 'letter-review-withdrawn'
  | 'letter-review-outcome'
  | 'letter-shared'
  | 'reply-forwarded';

/** A file attached to a message (the PDF of a compiled letter). */
export interface OutboxAttachment {
  fileName: string;
  contentType: string;
  content: Buffer;
}

export interface OutboxMessage {
  id: number;
  kind: string;
  /** The signature the message is about (a supporter's mail); null for others. */
  signatureId: number | null;
  toAddress: string;
  subject: string;
  textBody: string;
  htmlBody: string;
  headers: Record<string, string>;
  /** The name it is sent under beside the platform's From address; null: the From as configured. */
  fromName: string | null;
  messageId: string;
  status: OutboxStatus;
  attempts: number;
  createdAt: Date;
  /** The recipient's domain, the unit of politeness. */
  domain: string;
  replyTo: string | null;
  giveUpAt: Date | null;
  attachmentCount: number;
  /** Set when the worker renders this message just before sending it (see DeferredOutboxMessage). */
  renderLanguage: string | null;
  /** When its content and attachments were deleted; null while they are kept. */
  contentRemovedAt: Date | null;
  /** SHA-256 (hex) of the exact bytes handed to SMTP by the send that was recorded. */
  sentSha256: string | null;
  sentSize: number | null;
}

interface NewOutboxMessageBase {
  kind: OutboxKind;
  priority: number;
  signatureId: number | null;
  toAddress: string;
  replyTo?: string | null;
  deliveryRoundId?: number | null;
}

/** An e-mail to put in the outbox, already rendered. */
export interface RenderedOutboxMessage extends NewOutboxMessageBase {
  subject: string;
  textBody: string;
  htmlBody: string;
  headers?: Record<string, string>;
  /** A letter's "<organisation> via …" (LetterCompiler); none for the platform's own mail. */
  fromName?: string | null;
  attachments?: OutboxAttachment[];
}

/**
 * An e-mail the worker renders just before sending, from its kind, signature and language: the
 * request that queues it does no rendering (so a new and a known address cost the same), and no body
 * sits in the queue.
 */
export interface DeferredOutboxMessage extends NewOutboxMessageBase {
  renderLanguage: string;
}

export type NewOutboxMessage = RenderedOutboxMessage | DeferredOutboxMessage;

/** What a renderer gives the worker for a deferred message. */
export interface RenderedContent {
  subject: string;
  textBody: string;
  htmlBody: string;
  headers: Record<string, string>;
}

/** How long a failed message keeps its content for an admin's retry before the worker drops it. */
export const FAILED_CONTENT_KEPT_MS = 7 * 86_400_000;

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

/**
 * The enhanced statuses (RFC 3463) that describe the recipient's address itself: 5.1.1 no such mailbox,
 * 5.1.2 no such domain, 5.1.3 bad syntax, 5.1.6 moved, 5.1.10 null MX. The rest of 5.1.x is not
 * enough: 5.1.0 is "other address status" (Postfix uses it for an unknown sender), 5.1.4 ambiguous,
 * 5.1.5 destination valid, 5.1.7 and 5.1.8 the sender's address, 5.1.9 a relay's routing.
 */
const RECIPIENT_STATUSES: ReadonlySet<string> = new Set(['1', '2', '3', '6', '10']);

/**
 * Whether a failed send is a relay's permanent refusal of the recipient's address itself, at submission:
 * a 5xx reply to RCPT TO with one of RECIPIENT_STATUSES. Such an address refuses the next letter too,
 * and no report will come (the relay generates none for what it refused itself). A reply about our own
 * sender is never one, even at RCPT: Postfix (smtpd_delay_reject) reports a rejected sender there, as
 * "<bounces+…>: Sender address rejected", so a reply saying "Sender address" or naming `envelopeFrom`
 * (the return path the message was sent with, when known) marks nothing. Other 5xx replies (5.7.1
 * policy, 552 size) are about this message, not the address.
 */
export function refusesAddress(error: unknown, envelopeFrom?: string): boolean {
  const e = (error ?? {}) as SmtpLikeError & { command?: unknown };
  if (e.command !== 'RCPT TO') return false;
  const code = typeof e.responseCode === 'number' ? e.responseCode : 0;
  if (code < 500 || code >= 600 || typeof e.response !== 'string') return false;
  const reply = e.response;
  const status = /^\d{3}[ -]5\.1\.(\d{1,3})\b/.exec(reply);
  if (status === null || !RECIPIENT_STATUSES.has(status[1]!)) return false;
  if (/sender address/i.test(reply)) return false;
  return !envelopeFrom || !reply.toLowerCase().includes(envelopeFrom.toLowerCase());
}

/**
 * Whether a send failed on the way to the relay itself (refused or timed-out connection, TLS, login),
 * not at a recipient's server: every message fails the same way until an operator acts, so the log
 * says it as a warning, where a greylisting recipient is only worth an info line.
 */
export function relayUnreachable(error: unknown): boolean {
  const code = ((error ?? {}) as { code?: unknown }).code;
  return typeof code === 'string' && RELAY_TROUBLE.has(code);
}

/** nodemailer's codes for a connection, TLS or login that did not work (smtp-connection). */
const RELAY_TROUBLE = new Set(['ECONNECTION', 'ESOCKET', 'ETIMEDOUT', 'ETLS', 'EAUTH', 'EDNS']);

/** Whether a temporary failure should now be given up on (at give_up_at, or the policy's time after queueing). */
export function shouldGiveUp(
  message: Pick<OutboxMessage, 'createdAt' | 'giveUpAt'>,
  now: Date,
  policy: RetryPolicy,
): boolean {
  const deadline = message.giveUpAt ?? new Date(message.createdAt.getTime() + policy.giveUpAfterMs);
  return now >= deadline;
}

/** The longest wait a server may ask for that is honoured; longer asks fall back to the backoff. */
const MAX_ASKED_WAIT_MS = 6 * 3_600_000;

/**
 * The wait a server asked for in its reply ("try again in 60 seconds", "retry after 5 minutes"),
 * in milliseconds, or undefined when it asked for none.
 */
export function askedWaitMs(reply: string): number | undefined {
  const match =
    /(?:try(?: again)?|retry)(?: later)?(?: in| after)?\s+(\d{1,6})\s*(s|secs?|seconds?|m|mins?|minutes?|h|hours?)\b/i.exec(
      reply,
    );
  if (!match) return undefined;
  const unit = match[2]!.toLowerCase();
  const ms = Number(match[1]) * (unit.startsWith('h') ? 3_600_000 : unit.startsWith('m') ? 60_000 : 1_000);
  return ms > 0 && ms <= MAX_ASKED_WAIT_MS ? ms : undefined;
}

/** When to try again: the backoff, or later if the server asked for a longer wait. */
export function retryAt(
  attempts: number,
  now: Date,
  policy: RetryPolicy,
  random: number,
  reply: string,
): Date {
  const backoff = nextAttemptAt(attempts, now, policy, random);
  const asked = askedWaitMs(reply);
  return asked !== undefined && now.getTime() + asked > backoff.getTime()
    ? new Date(now.getTime() + asked)
    : backoff;
}

/** How politely the worker treats each receiving domain. */
export interface PolitenessPolicy {
  /** Messages in flight to one domain at once (SMTP connections). */
  connectionsPerDomain: number;
  /** Messages started per second to one domain. */
  messagesPerSecond: number;
}

export const DEFAULT_POLITENESS: PolitenessPolicy = { connectionsPerDomain: 2, messagesPerSecond: 1 };

/** The lower-cased domain of an address, '' when it has none. */
export function domainOfAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0
    ? ''
    : address
        .slice(at + 1)
        .trim()
        .toLowerCase();
}

/**
 * A server's reply with the person taken out of every e-mail address in it ("<…@example.org>"):
 * receiving servers often quote the recipient, and the queue page and the logs name domains only.
 */
export function withoutAddresses(reply: string): string {
  return reply.replace(/(?:"[^"\r\n]*"|[\p{L}\p{N}_!#$%&'*+/=?^`{|}~.-]+)@(?=[\p{L}\p{N}[])/gu, '…@');
}
