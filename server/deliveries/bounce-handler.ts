import { simpleParser } from 'mailparser';
import type { Clock } from '../lib/clock.js';
import { keyedHash } from '../lib/keyed-hash.js';
import type { Logger } from '../lib/logger.js';
import type { OutboxRepository } from '../outbox/outbox-repository.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';
import { parseVerp, verpAddress } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';

/** What a delivery status notification says about one recipient. */
export interface DsnResult {
  action: string;
  status: string;
  /** The server's words, without the diagnostic type in front ("smtp;", "X-Postfix;"). */
  diagnostic: string;
}

/**
 * A Diagnostic-Code without its diagnostic type (RFC 3464 §2.3.6, `smtp; 550 …`, `X-Postfix; unknown
 * user`): the type says which kind of system wrote the words, which an organizer has no use for.
 */
function withoutDiagnosticType(code: string): string {
  return code.replace(/^[A-Za-z][A-Za-z0-9-]*\s*;\s*/, '');
}

/**
 * Reads the machine-readable part of a delivery status notification (RFC 3464): the per-recipient
 * fields Action, Status and Diagnostic-Code. Continuation lines are joined.
 */
export function parseDeliveryStatus(report: string): DsnResult[] {
  const unfolded = report.replace(/\r\n/g, '\n').replace(/\n[ \t]+/g, ' ');
  const blocks = unfolded.split(/\n\s*\n/);
  const results: DsnResult[] = [];
  for (const block of blocks) {
    const fields = new Map<string, string>();
    for (const line of block.split('\n')) {
      const colon = line.indexOf(':');
      if (colon > 0) fields.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
    }
    if (fields.has('action') || fields.has('status')) {
      results.push({
        action: (fields.get('action') ?? '').toLowerCase(),
        status: fields.get('status') ?? '',
        diagnostic: withoutDiagnosticType(fields.get('diagnostic-code') ?? ''),
      });
    }
  }
  return results;
}

/** Whether a DSN entry means the message will not arrive (as opposed to delayed, relayed or delivered). */
export function isPermanentFailure(entry: DsnResult): boolean {
  return entry.action === 'failed' || /^5\./.test(entry.status);
}

export interface BounceHandlerDeps {
  outbox: OutboxRepository;
  deliveries: DeliveryRepository;
  recipients: RecipientRepository;
  clock: Clock;
  secret: string;
  bounceAddress: string;
  logger: Logger;
}

/**
 * Bounces come back to a per-message return path (VERP). A delivery status notification that reports
 * a permanent failure marks that message failed with the server's words, and when it was a letter to
 * an official, marks the recipient's address as bouncing in the directory.
 */
export class BounceHandler {
  constructor(private readonly deps: BounceHandlerDeps) {}

  /** The tag that proves a return path was ours. */
  /** Lower-case hex, so a relay that changes the case of a return path still brings the bounce home. */
  private tag(messageId: number): string {
    return Buffer.from(keyedHash(this.deps.secret, 'verp', String(messageId)), 'base64url')
      .toString('hex')
      .slice(0, 16);
  }

  /** The return path for one outbox message. */
  returnPath(messageId: number): string {
    return verpAddress(this.deps.bounceAddress, messageId, this.tag(messageId));
  }

  /** Whether an envelope recipient is one of our return paths (so the SMTP listener accepts it). */
  accepts(address: string): boolean {
    const parsed = parseVerp(address, this.deps.bounceAddress);
    return parsed !== undefined && parsed.tag.toLowerCase() === this.tag(parsed.messageId);
  }

  /**
   * A relay refused the address of outbox message `messageId` for good at submission (550 5.1.1 at
   * RCPT): no report will come, so when it was a letter to an official, the recipient's address is
   * marked as bouncing here, as a report would mark it. The worker has recorded the message failed.
   */
  async refusedAtSubmission(messageId: number, reply: string): Promise<void> {
    const delivery = await this.deps.deliveries.findByOutboxMessage(messageId);
    if (!delivery?.recipientId) return;
    await this.deps.recipients.markBouncing(delivery.recipientId, reply, this.deps.clock.now());
    this.deps.logger.info({ outboxMessageId: messageId }, 'address refused at submission recorded');
  }

  /** Handles one message that arrived for `envelopeTo`; returns the ids of the messages it marked failed. */
  async handle(envelopeTo: readonly string[], raw: Buffer | string): Promise<number[]> {
    const ids = envelopeTo.flatMap((address) => {
      const parsed = parseVerp(address, this.deps.bounceAddress);
      return parsed && parsed.tag.toLowerCase() === this.tag(parsed.messageId) ? [parsed.messageId] : [];
    });
    if (ids.length === 0) return [];
    // Without keepDeliveryStatus, mailparser folds the machine-readable report into the text body.
    const mail = await simpleParser(raw, { keepDeliveryStatus: true });
    const report = mail.attachments.find((a) => a.contentType.toLowerCase() === 'message/delivery-status');
    let reason: string | undefined;
    if (report) {
      const failed = parseDeliveryStatus(report.content.toString('utf8')).find(isPermanentFailure);
      if (failed) reason = [failed.status, failed.diagnostic].filter(Boolean).join(' ') || 'failed';
    } else if (
      /undeliver|delivery (status|failure)|returned mail|failure notice|mail delivery failed/i.test(
        mail.subject ?? '',
      )
    ) {
      // Some servers send a plain-text bounce without the machine-readable part.
      reason = mail.subject ?? 'bounced';
    }
    if (!reason) return [];
    const now = this.deps.clock.now();
    const marked: number[] = [];
    for (const id of ids) {
      if (!(await this.deps.outbox.markBounced(id, `bounce: ${reason}`, now))) continue;
      marked.push(id);
      const delivery = await this.deps.deliveries.findByOutboxMessage(id);
      if (delivery?.recipientId) await this.deps.recipients.markBouncing(delivery.recipientId, reason, now);
    }
    this.deps.logger.info({ outboxMessageIds: marked }, 'bounce recorded');
    return marked;
  }
}
