import { SMTPServer } from 'smtp-server';
import type { Logger } from '../lib/logger.js';
import type { BounceHandler } from './bounce-handler.js';

export interface BounceServer {
  port: number;
  close(): Promise<void>;
}

/** The largest bounce accepted: a report plus the returned headers, never a whole letter with its PDF. */
const MAX_BOUNCE_BYTES = 2 * 1024 * 1024;

/**
 * An SMTP listener for bounces routed from a real mail server (BOUNCE_SMTP_PORT): it accepts only
 * our own return paths (VERP addresses with a valid tag), so it cannot be used as a relay or a mailbox.
 */
export async function startBounceServer(
  handler: BounceHandler,
  host: string,
  port: number,
  logger: Logger,
): Promise<BounceServer> {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'Undersigned bounce receiver',
    size: MAX_BOUNCE_BYTES,
    onRcptTo(address, _session, callback) {
      if (handler.accepts(address.address)) return callback();
      callback(Object.assign(new Error('No such return path'), { responseCode: 550 }));
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (chunk: Buffer) => chunks.push(chunk));
      stream.on('end', () => {
        handler
          .handle(
            session.envelope.rcptTo.map((r) => r.address),
            Buffer.concat(chunks),
          )
          .then(
            () => callback(),
            (error: unknown) => {
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
