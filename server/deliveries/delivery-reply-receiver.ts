import { createHash } from 'node:crypto';
import { simpleParser, type HeaderValue } from 'mailparser';
import type { Db } from '../db/database.js';
import { textIn } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Clock } from '../lib/clock.js';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import type { Logger } from '../lib/logger.js';
import type { PlatformMail } from '../mail/platform-mail.js';
import { PRIORITY } from '../outbox/outbox.js';
import { deliverySettingsOf } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';
import {
  capText,
  ownReplyText,
  deliveryOfReplyAddress,
  fieldCountsOf,
  senderDomainOf,
  isAutomatic,
  MAX_REPLIES_PER_DAY,
  MAX_REPLY_TEXT,
  oneLine,
  type DeliveryReply,
} from './delivery-reply.js';
import type { DeliveryReplyRepository } from './delivery-reply-repository.js';
import type { SenderCheck } from './reply-sender-check.js';

export interface ReplyReceiverDeps {
  db: Db;
  replies: DeliveryReplyRepository;
  deliveries: DeliveryRepository;
  letters: LetterRepository;
  /** Renders and queues the forward to the organisation; wakes the worker once it is committed. */
  mail: PlatformMail;
  clock: Clock;
  secret: string;
  /** REPLY_ADDRESS: the base of every delivery's reply address. */
  replyAddress: string;
  /** BOUNCE_ADDRESS: a forward is never sent to one of the platform's own inbound addresses. */
  bounceAddress: string;
  /** Checks the reply's DKIM signatures (reply-sender-check.ts); senderDomainOf reads the outcome. */
  senderCheck: SenderCheck;
  logger: Logger;
}

/** A reply refused because its delivery had too many today: the SMTP listener answers 550. */
export class TooManyReplies extends Error {}

const DAY_MS = 86_400_000;

/** A header's value as text ('' when absent; a structured one, such as Content-Type, by its value). */
function headerText(value: HeaderValue | undefined): string {
  if (value === undefined) return '';
  if (typeof value === 'string') return value;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map(String).join(', ');
  if (typeof value === 'object' && 'value' in value && typeof value.value === 'string') return value.value;
  if (typeof value === 'object' && 'text' in value && typeof value.text === 'string') return value.text;
  return '';
}

/** The local part before "+" and the domain of an inbound base address, lower case. */
function inboundPrefix(base: string): { local: string; domain: string } {
  const at = base.lastIndexOf('@');
  return { local: base.slice(0, at).toLowerCase(), domain: base.slice(at + 1).toLowerCase() };
}

/**
 * Replies come back to each delivery's own address (replies+d<id>-<tag>@domain). A reply is stored with
 * its delivery (sender, subject, plain text: the text part, or the HTML turned into text; no
 * attachments), once per Message-ID, marked automatic when a machine wrote it; a reply a person wrote
 * is forwarded to the organisation's address for replies, when the letter has one, in the same
 * transaction. Nothing is published: the organizer chooses that.
 */
export class ReplyReceiver {
  constructor(private readonly deps: ReplyReceiverDeps) {}

  /** The reply address of one delivery. */
  deliveryOf(address: string): number | undefined {
    return deliveryOfReplyAddress(this.deps.secret, this.deps.replyAddress, address);
  }

  /** Whether an envelope recipient is one of our reply addresses (so the SMTP listener accepts it). */
  accepts(address: string): boolean {
    return this.deliveryOf(address) !== undefined;
  }

  /**
   * Whether an address is one of the platform's own inbound addresses (replies or bounces, with or
   * without a tag): forwarding there would send the reply round again.
   */
  private isOwnInbound(address: string): boolean {
    const lower = address.trim().toLowerCase();
    return [this.deps.replyAddress, this.deps.bounceAddress].some((base) => {
      const { local, domain } = inboundPrefix(base);
      return (
        lower === `${local}@${domain}` || (lower.startsWith(`${local}+`) && lower.endsWith(`@${domain}`))
      );
    });
  }

  /** Handles one message that arrived for `envelopeTo`; returns the replies it stored. */
  async handle(envelopeTo: readonly string[], raw: Buffer | string): Promise<DeliveryReply[]> {
    const deliveryIds = [...new Set(envelopeTo.flatMap((address) => this.deliveryOf(address) ?? []))];
    if (deliveryIds.length === 0) return [];
    const mail = await simpleParser(raw, { skipTextToHtml: true });
    const now = this.deps.clock.now();
    const from = mail.from?.value[0];
    const fromAddress = oneLine(from?.address ?? '', 254);
    const content = {
      fromAddress,
      fromName: oneLine(from?.name ?? ''),
      subject: oneLine(mail.subject ?? ''),
      // Only what the sender wrote is kept (and forwarded): a quoted letter would keep its annex's names.
      bodyText: capText(ownReplyText((mail.text ?? '').replace(/\r\n?/g, '\n')), MAX_REPLY_TEXT),
      automatic: isAutomatic({
        autoSubmitted: headerText(mail.headers.get('auto-submitted')),
        precedence: headerText(mail.headers.get('precedence')),
        subject: mail.subject ?? '',
        from: fromAddress,
        contentType: headerText(mail.headers.get('content-type')),
        autoReplyMark:
          mail.headers.has('x-autoreply') ||
          mail.headers.has('x-autorespond') ||
          /\b(all|oof|autoreply)\b/i.test(headerText(mail.headers.get('x-auto-response-suppress'))),
      }),
      // A message without a Message-ID is known by its bytes: the same bytes twice are stored once.
      messageId: oneLine(
        mail.messageId ?? `<${createHash('sha256').update(raw).digest('hex')}@reply.invalid>`,
        300,
      ),
      receivedAt: now,
      // A From names anyone: what the organizer may rely on is the domain whose signature verified.
      senderDomain: senderDomainOf(
        await this.deps.senderCheck(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)),
        fieldCountsOf(mail.headerLines),
      ),
    };
    const stored: DeliveryReply[] = [];
    const forwarded: number[] = [];
    for (const deliveryId of deliveryIds) {
      const delivery = await this.deps.deliveries.findForReply(deliveryId);
      // Its delivery was removed (a round compiled again after an erasure): nothing to keep it with.
      if (!delivery) continue;
      if (
        (await this.deps.replies.countSince(deliveryId, new Date(now.getTime() - DAY_MS))) >=
        MAX_REPLIES_PER_DAY
      )
        throw new TooManyReplies(`delivery ${deliveryId} has had ${MAX_REPLIES_PER_DAY} replies today`);
      const letter = await this.deps.letters.findById(delivery.letterId);
      if (!letter) continue;
      const { replyTo } = deliverySettingsOf(await this.deps.deliveries.settingsOf(letter.id), letter);
      const title =
        textIn(
          await this.deps.letters.textsOfVersion(letter.currentVersionId),
          letter.primaryLanguage,
          letter.primaryLanguage,
        )?.title ?? letter.slug;
      await this.deps.db.transaction().execute(async (tx) => {
        const replies = this.deps.replies.with(tx);
        const reply = await replies.store({
          deliveryId,
          letterId: delivery.letterId,
          recipientId: delivery.recipientId,
          ...content,
        });
        if (!reply) return;
        stored.push(reply);
        // Never an automatic one: two auto-responders must not answer each other through the platform.
        if (reply.automatic || !replyTo || this.isOwnInbound(replyTo)) return;
        const outboxId = await this.deps.mail.toOrganisation(
          tx,
          {
            template: 'reply-forwarded',
            to: replyTo,
            language: letter.primaryLanguage,
            // The official's own address, so the organisation answers them directly.
            replyTo: looksLikeEmailAddress(fromAddress) ? fromAddress : null,
            headers: { 'Auto-Submitted': 'auto-forwarded' },
            context: {
              title,
              recipient: delivery.recipientName,
              fromName: content.fromName,
              fromAddress,
              subject: content.subject,
              receivedAt: now.toISOString(),
              senderDomain: content.senderDomain,
              quoted: quote(content.bodyText),
              test: delivery.roundKind === 'test',
            },
            priority: PRIORITY.notification,
          },
          now,
        );
        await replies.markForwarded(reply.id, outboxId);
        forwarded.push(outboxId);
      });
    }
    if (forwarded.length > 0) this.deps.mail.wake();
    this.deps.logger.info(
      { deliveryIds, stored: stored.map((r) => r.id), forwarded: forwarded.length },
      'reply received',
    );
    return stored;
  }
}

/** A reply's text quoted as mail programs quote it ("> " before each line). */
export function quote(text: string): string {
  return text
    .split('\n')
    .map((line) => (line === '' ? '>' : `> ${line}`))
    .join('\n');
}
