import nodemailer, { type Transporter } from 'nodemailer';
import type { MailSender } from '../outbox/outbox-worker.js';

// Shorter than the worker's lease (5 min), so a hung server fails the attempt before the claim expires.
const TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 };

/** A pooled nodemailer transport for an smtp:// or smtps:// URL. */
export function createTransport(smtpUrl: string): Transporter {
  return nodemailer.createTransport({ url: smtpUrl, pool: true, maxConnections: 2, ...TIMEOUTS });
}

/** A transport to the embedded capture server: plain SMTP on loopback, no TLS to negotiate. */
export function createCaptureTransport(port: number): Transporter {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    ignoreTLS: true,
    pool: true,
    maxConnections: 2,
    ...TIMEOUTS,
  });
}

/** Sends outbox messages through nodemailer, from the platform address, with the message's own Message-ID. */
export function createMailSender(transport: Transporter, from: string): MailSender {
  return {
    async send(message) {
      const info = await transport.sendMail({
        from,
        to: message.toAddress,
        subject: message.subject,
        text: message.textBody,
        html: message.htmlBody,
        messageId: message.messageId,
        headers: message.headers,
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
