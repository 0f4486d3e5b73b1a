/** Replies to a delivery: the reply address, what is kept of a reply, and which are automatic. No I/O here. */
import type { PublicReply } from '../letters/letter-service.js';
import { keyedHash, sameSecret } from '../lib/keyed-hash.js';

/** A reply as it is stored: the sender, subject and plain text of one message to a delivery's reply address. */
export interface DeliveryReply {
  id: number;
  deliveryId: number;
  letterId: number;
  recipientId: number | null;
  fromAddress: string;
  fromName: string;
  subject: string;
  bodyText: string;
  /** An auto-reply (Auto-Submitted, out of office, a bounce): never forwarded or published. */
  automatic: boolean;
  messageId: string;
  receivedAt: Date;
  publishedAt: Date | null;
  publishedBy: number | null;
  forwardedOutboxMessageId: number | null;
  /**
   * The domain that vouches for the sender: its DKIM signature on the reply verified and is aligned
   * with the From (senderDomainOf). Null: nothing proves who sent it.
   */
  senderDomain: string | null;
}

export type NewDeliveryReply = Omit<
  DeliveryReply,
  'id' | 'publishedAt' | 'publishedBy' | 'forwardedOutboxMessageId'
>;

/** A reply in the organizer's list: with the round and the recipient it answered. */
export interface ReplyInList extends DeliveryReply {
  roundId: number;
  roundKind: string;
  /** When the round was asked for: how the page names it (its id counts every letter's rounds). */
  roundAskedAt: Date;
  recipientName: string;
  /** The recipient's organisation as it is now ('' when none, or when the recipient was deleted). */
  organisation: string;
}

/** A published reply as the public record shows it: who answered and when, never the sender's address. */
export type PublishedReply = PublicReply;

/** The largest message the reply listener accepts (a letter's answer, perhaps with a signed PDF). */
export const MAX_REPLY_BYTES = 2 * 1024 * 1024;
/** The most of a reply's text that is kept; the rest is cut, and the cut says so. */
export const MAX_REPLY_TEXT = 64 * 1024;
/**
 * The most replies one delivery takes in a day: an official answers a letter a few times at most, and
 * a reply address copied into a mailing list must not fill the database or the organisation's inbox.
 */
export const MAX_REPLIES_PER_DAY = 20;
/** The most of a subject or a sender's name that is kept. */
export const MAX_REPLY_FIELD = 300;

/**
 * A delivery's own reply address: replies+d<id>-<tag>@domain (from REPLY_ADDRESS), where the tag is a
 * short keyed hash of the id, so a reply names the exact delivery and cannot be forged for another.
 */
export function replyAddress(base: string, deliveryId: number, tag: string): string {
  const at = base.lastIndexOf('@');
  return `${base.slice(0, at)}+d${deliveryId}-${tag}${base.slice(at)}`;
}

/**
 * The tag that proves a reply address was ours: 16 lower-case hex digits of a keyed hash of the
 * delivery's id (lower case, so a relay that changes the case of an address still brings the reply home).
 */
export function replyTag(secret: string, deliveryId: number): string {
  return Buffer.from(keyedHash(secret, 'reply', String(deliveryId)), 'base64url')
    .toString('hex')
    .slice(0, 16);
}

/** The reply address of one delivery. */
export function replyAddressOf(secret: string, base: string, deliveryId: number): string {
  return replyAddress(base, deliveryId, replyTag(secret, deliveryId));
}

/** The delivery a reply address belongs to, when it is one of ours with a valid tag; else undefined. */
export function deliveryOfReplyAddress(secret: string, base: string, address: string): number | undefined {
  const parsed = parseReplyAddress(address, base);
  if (!parsed) return undefined;
  return sameSecret(parsed.tag.toLowerCase(), replyTag(secret, parsed.deliveryId))
    ? parsed.deliveryId
    : undefined;
}

/** The delivery id and tag in a reply address, or undefined when it is not one of ours. */
export function parseReplyAddress(
  address: string,
  base: string,
): { deliveryId: number; tag: string } | undefined {
  const at = base.lastIndexOf('@');
  const local = base.slice(0, at).toLowerCase();
  const domain = base.slice(at + 1).toLowerCase();
  const match = /^(.+)\+[dD](\d{1,15})-([A-Za-z0-9_-]{6,32})@(.+)$/.exec(address.trim());
  if (!match || match[1]!.toLowerCase() !== local || match[4]!.toLowerCase() !== domain) return undefined;
  return { deliveryId: Number(match[2]), tag: match[3]! };
}

/** The headers that say whether a message was written by a person. */
export interface ReplyHeaders {
  autoSubmitted?: string;
  precedence?: string;
  subject?: string;
  from?: string;
  contentType?: string;
  /** Whether any of X-Autoreply, X-Autorespond, X-Auto-Response-Suppress (All/OOF) is there. */
  autoReplyMark?: boolean;
}

/**
 * Whether a message is automatic (RFC 3834 Auto-Submitted other than "no", Precedence bulk/junk/list/
 * auto_reply, the marks Exchange and others set, a delivery report, a mailer daemon, or an
 * out-of-office subject): such a message is kept, marked, and never forwarded or published, so two
 * auto-responders can never answer each other through the platform.
 */
export function isAutomatic(headers: ReplyHeaders): boolean {
  const autoSubmitted = (headers.autoSubmitted ?? '').trim().toLowerCase();
  if (autoSubmitted !== '' && !autoSubmitted.startsWith('no')) return true;
  if (/^(bulk|junk|list|auto_reply)\b/i.test((headers.precedence ?? '').trim())) return true;
  if (headers.autoReplyMark) return true;
  if (/multipart\/report/i.test(headers.contentType ?? '')) return true;
  if (/^(mailer-daemon|postmaster)@/i.test((headers.from ?? '').trim())) return true;
  return /^\s*(auto(matic)?[\s-]*(reply|response|antwort)|out of (the )?office|abwesen|부재|автовідповідь|undeliver|delivery status notification)/i.test(
    headers.subject ?? '',
  );
}

/** Cuts a text to at most `max` characters, on a whole code point, saying it was cut. */
export function capText(text: string, max: number, marker = '\n[…]'): string {
  if (text.length <= max) return text;
  let end = max - marker.length;
  // Never split a surrogate pair: the half left would be an invalid character.
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return text.slice(0, end) + marker;
}

/** A one-line field (subject, sender's name) as kept: control characters removed, trimmed, capped. */
export function oneLine(value: string, max = MAX_REPLY_FIELD): string {
  // eslint-disable-next-line no-control-regex
  return capText(value.replace(/[\u0000-\u001f\u007f\s]+/g, ' ').trim(), max, '…');
}

/** What one DKIM signature on a reply came to (mailauth's dkimVerify result, the parts read here). */
export interface DkimOutcome {
  signingDomain?: string | undefined;
  /** The signature covers only the first l= bytes of the body: what follows is anyone's. */
  canonBodyLengthLimited?: boolean | undefined;
  /** The header fields it covers, as "From: Subject: …". */
  signingHeaders?: { keys: string } | undefined;
  /** `aligned`: the From's domain the signature is aligned with, or false (typed boolean by mailauth). */
  status: { result: string; aligned?: string | boolean | undefined };
}

/**
 * The header fields that decide what the organizer reads of a reply (the sender, the subject, how the
 * body is read): a signature vouches for a reply only if it covers each of them the reply has.
 */
const SHOWN_FIELDS = ['from', 'subject', 'content-type', 'content-transfer-encoding'] as const;

/**
 * The domain that vouches for a reply's sender, or null: that of the first DKIM signature that verified,
 * is aligned with the From (the same organisational domain, as DMARC's relaxed alignment has it), covers
 * the whole body (no l=) and every shown field. A From can name anyone; a signature only its domain's
 * mail servers can make. A shown field that appears twice makes any signature worthless here: a
 * signature covers the last copy, and the reply is read from the first, which anyone may have added to a
 * message the domain really signed.
 */
export function senderDomainOf(
  results: readonly DkimOutcome[],
  /** How often each header field appears in the reply (lower-case names). */
  fieldCounts: ReadonlyMap<string, number>,
): string | null {
  const shown = SHOWN_FIELDS.filter((field) => (fieldCounts.get(field) ?? 0) > 0);
  if (shown.some((field) => fieldCounts.get(field)! > 1)) return null;
  for (const { signingDomain, canonBodyLengthLimited, signingHeaders, status } of results) {
    if (status.result !== 'pass' || !status.aligned || canonBodyLengthLimited) continue;
    const signed = new Set((signingHeaders?.keys ?? '').split(':').map((key) => key.trim().toLowerCase()));
    if (!shown.every((field) => signed.has(field))) continue;
    const domain = typeof status.aligned === 'string' ? status.aligned : signingDomain;
    if (domain) return domain.toLowerCase();
  }
  return null;
}

/** How often each header field appears in a message (mailparser's headerLines; lower-case names). */
export function fieldCountsOf(lines: readonly { key: string }[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const { key } of lines) counts.set(key.toLowerCase(), (counts.get(key.toLowerCase()) ?? 0) + 1);
  return counts;
}

/** Why a reply may not be published: a machine wrote it, or it answered a test sent to the organizer. */
export type PublishRefusal = 'automatic' | 'test';

/** The one rule for the Publish button and the service that refuses it. */
export function publishRefusal(reply: { automatic: boolean; roundKind: string }): PublishRefusal | null {
  if (reply.automatic) return 'automatic';
  if (reply.roundKind === 'test') return 'test';
  return null;
}

/** A separator line mail programs put above the message they answer or forward (in any language). */
const ORIGINAL_SEPARATOR = /^\s*(?:-{3,}\s*\S.*\S\s*-{3,}|_{10,})\s*$/;
/** The first line of a header block a mail program copies above the original ("From:", in several languages). */
const ORIGINAL_FROM = /^\s*\*?(?:from|von|de|보낸\s*사람|від|от)\*?\s*:/i;
/** A header line right below it ("Sent:", "To:", "Subject:"...): the two together are a copied header block. */
const ORIGINAL_HEADER =
  /^\s*\*?(?:sent|date|to|cc|subject|gesendet|an|betreff|envoyé|à|objet|보낸\s*날짜|날짜|받는\s*사람|제목|надіслано|дата|кому|тема|отправлено)\*?\s*:/i;

/**
 * The lines before the original message a reply carries unquoted (Outlook and others copy it below a
 * separator or a From:/Sent: block, without "> "): that copy is the letter as it was sent, its annex
 * naming signatories who may have withdrawn or been erased since, so it is never published.
 */
function withoutOriginal(lines: readonly string[]): string[] {
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (ORIGINAL_SEPARATOR.test(line)) return lines.slice(0, i);
    if (ORIGINAL_FROM.test(line) && ORIGINAL_HEADER.test(lines[i + 1] ?? '')) return lines.slice(0, i);
  }
  return [...lines];
}

/**
 * What the sender wrote, without the lines it quotes (the letter itself, earlier mail, and an original
 * copied below it unquoted). Replies are stored as this: a quoted letter carries its annex, and the
 * platform must not keep a second copy of names that an erasure could not reach.
 */
export function ownReplyText(body: string): string {
  return withoutOriginal(body.split('\n'))
    .filter((line) => !/^\s*>/.test(line))
    .join('\n')
    .replace(/\n{3,}/g, '\n\n')
    .trim();
}

/**
 * A published reply's text as the public record shows it: its own text (ownReplyText) with every e-mail
 * address in it replaced, so that publishing an official's answer never publishes an address, theirs (a
 * signature block) or anyone's.
 */
export function publicReplyText(body: string): string {
  return ownReplyText(body)
    .split('\n')
    .map((line) => line.replace(/[^\s<>()[\]@,;:"]+@[^\s<>()[\]@,;:"]+\.[^\s<>()[\]@,;:"]+/g, '[…]'))
    .join('\n');
}

/** A published reply as the public sees it (page and API): its subject and text through publicReplyText. */
export function forPublic(reply: PublishedReply): PublishedReply {
  return { ...reply, subject: publicReplyText(reply.subject), bodyText: publicReplyText(reply.bodyText) };
}
