import { createHash } from 'node:crypto';
import nodemailer, { type Transporter } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer';
import type { OutboxAttachment, OutboxMessage } from '../outbox/outbox.js';
import type { ComposedMail, MailSender } from '../outbox/outbox-worker.js';
import { senderAddress, senderDomain } from './sender-address.js';

/**
 * How long a hung server may hold one attempt before it fails and is retried later. The worker's
 * heartbeat keeps the claim meanwhile, so these need not be shorter than the lease.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

/**
 * The header fields every DKIM signature covers: nodemailer's default list (RFC 6376 §5.4's) and the
 * ones the platform adds, which that list lacks. RFC 8058 asks receivers to offer one-click
 * unsubscribe only when List-Unsubscribe-Post is signed; Auto-Submitted and our X- headers must not be
 * changeable on the way either. A field a message does not carry is left out of its signature.
 */
export const DKIM_SIGNED_HEADERS = [
  'From:Sender:Reply-To:Subject:Date:Message-ID:To:Cc:MIME-Version:Content-Type:Content-Transfer-Encoding',
  'Content-ID:Content-Description:Resent-Date:Resent-From:Resent-Sender:Resent-To:Resent-Cc',
  'Resent-Message-ID:In-Reply-To:References:List-Id:List-Help:List-Unsubscribe:List-Subscribe:List-Post',
  'List-Owner:List-Archive',
  'List-Unsubscribe-Post:Auto-Submitted:X-Undersigned-Letter',
].join(':');

export interface TransportOptions {
  /** Connections the pool keeps open to the relay. */
  poolConnections: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string } | undefined;
  timeouts?: Partial<typeof SMTP_TIMEOUTS>;
}

/** nodemailer's DKIM option for a key, signing DKIM_SIGNED_HEADERS; none without a key. */
function dkimOption(options: TransportOptions) {
  return options.dkim ? { dkim: { ...options.dkim, headerFieldNames: DKIM_SIGNED_HEADERS } } : {};
}

/** A pooled nodemailer transport for an smtp:// or smtps:// URL, signing with DKIM when a key is given. */
export function createTransport(smtpUrl: string, options: TransportOptions): Transporter {
  return nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: options.poolConnections,
    ...SMTP_TIMEOUTS,
    ...options.timeouts,
    ...dkimOption(options),
  });
}

/** A transport to the embedded capture server: plain SMTP on loopback, no TLS to negotiate. */
export function createCaptureTransport(port: number, options: TransportOptions): Transporter {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: options.poolConnections,
    ...SMTP_TIMEOUTS,
    ...options.timeouts,
    ...dkimOption(options),
  });
}

/**
 * Sends outbox messages through nodemailer: From is always the platform address (so receivers with
 * strict DMARC accept it), Reply-To the organisation's when it has one, the Message-ID the message's
 * own, and the envelope sender a per-message bounce address when `returnPath` gives one (VERP).
 * The message is composed here and handed over as raw bytes, so the queue can keep their SHA-256
 * once the body is dropped (a DKIM signature, when configured, is the one header added after).
 */
export function createMailSender(
  transport: Transporter,
  from: string,
  returnPath?: (messageId: number) => string | undefined,
): MailSender {
  // A letter goes under its organisation's name, always from the platform's own address (DMARC).
  const fromAddress = senderAddress(from);
  const compose = async (message: OutboxMessage, attachments: OutboxAttachment[]): Promise<ComposedMail> => {
    const node = new MailComposer({
      from: message.fromName ? { name: message.fromName, address: fromAddress } : from,
      to: message.toAddress,
      subject: message.subject,
      text: message.textBody,
      html: message.htmlBody,
      messageId: message.messageId,
      headers: message.headers,
      ...(message.replyTo ? { replyTo: message.replyTo } : {}),
      attachments: attachments.map((a) => ({
        filename: a.fileName,
        content: a.content,
        contentType: a.contentType,
      })),
    }).compile();
    const envelope = node.getEnvelope();
    const bounceTo = returnPath?.(message.id);
    // Lines end in CRLF on the wire: SMTP clients turn a bare LF into CRLF as they send, so the bytes
    // are normalised here, and the digest is of exactly what the server receives.
    const built = await node.build();
    return {
      raw: Buffer.from(built.toString('latin1').replace(/\r?\n/g, '\r\n'), 'latin1'),
      envelope: { from: bounceTo ?? (envelope.from || ''), to: envelope.to },
    };
  };
  return {
    compose,
    async send(message, attachments = [], composed) {
      const { raw, envelope } = composed ?? (await compose(message, attachments));
      const info = await transport.sendMail({ envelope, raw });
      return {
        reply: String(info.response ?? ''),
        sha256: createHash('sha256').update(raw).digest('hex'),
        size: raw.length,
      };
    },
  };
}

/** The domain of a From value such as "Name <a@b.example>" or "a@b.example (Name)", for Message-IDs. */
export function domainOf(address: string): string {
  return senderDomain(address) || 'undersigned.invalid';
}
