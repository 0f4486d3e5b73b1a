import { SMTPServer } from 'smtp-server';
import type { Logger } from '../lib/logger.js';
import { TooManyReplies } from './delivery-reply-receiver.js';

/** What the listener hands mail to: bounces (bounce-handler.ts), replies, or both (inbound-mail.ts). */
export interface InboundHandler {
  /** Whether an envelope recipient is one of ours: anything else is refused at RCPT. */
  accepts(address: string): boolean;
  handle(envelopeTo: readonly string[], raw: Buffer): Promise<unknown>;
}

export interface BounceServer {
  port: number;
  close(): Promise<void>;
}

/**
 * The largest message accepted: a bounce's report plus the returned headers, or an official's reply
 * (MAX_REPLY_BYTES), never a whole letter with its PDF.
 */
const MAX_INBOUND_BYTES = 2 * 1024 * 1024;

/**
 * An SMTP listener for bounces and replies routed from a real mail server (BOUNCE_SMTP_PORT): it
 * accepts only our own return paths (VERP addresses with a valid tag) and deliveries' reply addresses
 * (also tagged), so it cannot be used as a relay or a mailbox.
 */
export async function startBounceServer(
  handler: InboundHandler,
  host: string,
  port: number,
  logger: Logger,
): Promise<BounceServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'Undersigned bounce receiver',
    size: MAX_INBOUND_BYTES,
    onRcptTo(address, _session, callback) {
      if (handler.accepts(address.address)) return callback();
      callback(Object.assign(new Error('No such return path'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      let bytes = 0;
      stream.on('data', (chunk: Buffer) => {
        // Past the limit nothing more is kept: the message is refused whole below.
        bytes += chunk.length;
        if (bytes <= MAX_INBOUND_BYTES) chunks.push(chunk);
      });
      stream.on('end', () => {
        // Over the size announced in the greeting: smtp-server has stopped keeping it; refused for good.
        if (stream.sizeExceeded || bytes > MAX_INBOUND_BYTES)
          return callback(Object.assign(new Error('Message too large'), { responseCode: 552 }));
        handler
          .handle(
            session.envelope.rcptTo.map((r) => r.address),
            Buffer.concat(chunks),
          )
          .then(
            () => callback(),
            (error: unknown) => {
              if (error instanceof TooManyReplies) {
                logger.warn({ err: error }, 'reply receiver: too many replies to one delivery');
                return callback(
                  Object.assign(new Error('Too many replies to this letter today'), { responseCode: 550 }),
                );
              }
              logger.error({ err: error }, 'bounce receiver: could not read a bounce');
              callback(Object.assign(new Error('Try again later'), { responseCode: 451 }));
            },
          );
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  // Any client can reset its connection mid-message, and smtp-server reports that as an 'error'
  // event: unheard, it would end the whole process.
  server.on('error', (error) => logger.warn({ err: error }, 'bounce receiver: a connection failed'));
  const address = server.server.address();
  return {
    port: typeof address === 'object' && address ? address.port : port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
