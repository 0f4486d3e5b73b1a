import nodemailer, { type Transporter } from 'nodemailer';
import type { MailSender } from '../outbox/outbox-worker.js';

/**
 * Shorter than the worker's lease (5 min), so a hung server fails the attempt before the claim
 * expires and another worker takes the message over.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

export interface TransportOptions {
  /** Connections the pool keeps open to the relay. */
  poolConnections: number;
  dkim?: { domainName: string; keySelector: string; privateKey: string } | undefined;
  timeouts?: Partial<typeof SMTP_TIMEOUTS>;
}

/** A pooled nodemailer transport for an smtp:// or smtps:// URL, signing with DKIM when a key is given. */
export function createTransport(smtpUrl: string, options: TransportOptions): Transporter {
  return nodemailer.createTransport({
    url: smtpUrl,
    pool: true,
    maxConnections: options.poolConnections,
    ...SMTP_TIMEOUTS,
    ...options.timeouts,
    ...(options.dkim ? { dkim: options.dkim } : {}),
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
    ...(options.dkim ? { dkim: options.dkim } : {}),
  });
}

/**
 * Sends outbox messages through nodemailer: From is always the platform address (so receivers with
 * strict DMARC accept it), Reply-To the organisation's when it has one, the Message-ID the message's
 * own, and the envelope sender a per-message bounce address when `returnPath` gives one (VERP).
 */
export function createMailSender(
  transport: Transporter,
  from: string,
  returnPath?: (messageId: number) => string | undefined,
): MailSender {
  return {
    async send(message, attachments = []) {
      const bounceTo = returnPath?.(message.id);
      const info = await transport.sendMail({
        from,
        to: message.toAddress,
        subject: message.subject,
        text: message.textBody,
        html: message.htmlBody,
        messageId: message.messageId,
        headers: message.headers,
        ...(message.replyTo ? { replyTo: message.replyTo } : {}),
        ...(bounceTo ? { envelope: { from: bounceTo, to: [message.toAddress] } } : {}),
        attachments: attachments.map((a) => ({
          filename: a.fileName,
          content: a.content,
          contentType: a.contentType,
        })),
      });
      return { reply: String(info.response ?? '') };
    },
  };
}

/** The domain of an address such as "Name <a@b.example>", for Message-IDs. */
export function domainOf(address: string): string {
  const match = /@([^>\s]+)>?\s*$/.exec(address);
  return match?.[1] ?? 'undersigned.invalid';
}
