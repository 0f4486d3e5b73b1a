import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, readdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { SMTPServer } from 'smtp-server';
import type { Logger } from '../lib/logger.js';

export interface CaptureServer {
  port: number;
  close(): Promise<void>;
}

/**
 * Captured messages hold supporters' addresses, names and invitation links: the folder is this account's
 * alone (0700) and every message in it 0600, including those left wider by an older version.
 */
async function makeMailboxPrivate(mailboxDir: string): Promise<void> {
  await mkdir(mailboxDir, { recursive: true, mode: 0o700 });
  await chmod(mailboxDir, 0o700);
  for (const entry of await readdir(mailboxDir, { withFileTypes: true })) {
    if (entry.isFile()) await chmod(path.join(mailboxDir, entry.name), 0o600);
  }
}

/**
 * The SMTP server that stands in for a relay when SMTP_URL is unset: it listens on loopback only,
 * accepts every message and stores it as one .eml file in the mailbox folder. Mail sent to it never
 * leaves the machine.
 */
export async function startCaptureServer(
  mailboxDir: string,
  logger: Logger,
  port = 0,
  /** Called with each stored message, so bounces sent back to the platform are read (see BounceHandler). */
  onMessage?: (envelopeTo: string[], file: string) => Promise<unknown>,
): Promise<CaptureServer> {
  await makeMailboxPrivate(mailboxDir);
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['AUTH', 'STARTTLS'],
    logger: false,
    banner: 'Undersigned capture server: nothing leaves this machine',
    size: 25 * 1024 * 1024,
    async onData(stream, session, callback) {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      const name = `${stamp}-${randomBytes(4).toString('hex')}.eml`;
      const partial = path.join(mailboxDir, `.${name}.part`);
      try {
        const out = createWriteStream(partial, { mode: 0o600 });
        // The envelope recipients are not always in the headers (Bcc), so they are written first.
        const envelope = session.envelope.rcptTo.map((r) => r.address).join(', ');
        out.write(`X-Captured-Rcpt-To: ${envelope}\r\n`);
        // The envelope sender is the per-message return path (VERP) that bounces come back to.
        out.write(
          `X-Captured-Mail-From: ${session.envelope.mailFrom ? session.envelope.mailFrom.address : ''}\r\n`,
        );
        await pipeline(stream, out);
        // Renamed only when complete, so the viewer never shows half a message.
        await rename(partial, path.join(mailboxDir, name));
        // Read before answering: smtp-server clears the session's envelope once the message is accepted.
        const recipients = session.envelope.rcptTo.map((r) => r.address);
        callback(null, `Captured as ${name}`);
        if (onMessage) {
          onMessage(recipients, path.join(mailboxDir, name)).catch((error: unknown) =>
            logger.error({ err: error }, 'capture server: could not read a captured message'),
          );
        }
      } catch (error) {
        logger.error({ err: error }, 'capture server: could not store a message');
        callback(Object.assign(new Error('Could not store the message'), { responseCode: 451 }));
      }
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  // A client that dies mid-message (a worker killed while sending) resets its connection, and
  // smtp-server reports that as an 'error' event: unheard, it would end this whole process.
  server.on('error', (error) => logger.warn({ err: error }, 'capture server: a connection failed'));
  const address = server.server.address();
  if (!address || typeof address === 'string') throw new Error('capture server has no port');
  return {
    port: address.port,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
