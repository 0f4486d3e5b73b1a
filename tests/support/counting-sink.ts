import { SMTPServer } from 'smtp-server';

/** What the counting sink keeps of a message it accepted: enough to match it to its outbox row. */
export interface CountedMessage {
  /** The Message-ID header as written (with its angle brackets), '' if the message had none. */
  messageId: string;
  envelopeTo: string[];
}

/** The Message-ID in a raw message's header block (folded lines unfolded), '' if there is none. */
export function messageIdOf(raw: string): string {
  const end = raw.search(/\r?\n\r?\n/);
  const headers = (end === -1 ? raw : raw.slice(0, end)).replace(/\r?\n[ \t]+/g, ' ');
  return /^message-id:[ \t]*(.*?)[ \t]*$/im.exec(headers)?.[1] ?? '';
}

/**
 * A real SMTP server on loopback that accepts everything and keeps only each message's Message-ID and
 * envelope recipients: for tests that send thousands of messages, where SmtpSink (smtp-sink.ts) would
 * parse and keep every body. A message counts as accepted once its data has arrived in full, which is
 * when the 250 goes back: a client killed after that point has been accepted, as by a real relay.
 */
export class CountingSink {
  readonly messages: CountedMessage[] = [];
  private server: SMTPServer | undefined;
  port = 0;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      // Many workers at once, each with its pool of connections.
      maxClients: 500,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (chunk: Buffer) => chunks.push(chunk));
        stream.on('end', () => {
          this.messages.push({
            messageId: messageIdOf(Buffer.concat(chunks).toString('utf8')),
            envelopeTo: session.envelope.rcptTo.map((r) => r.address),
          });
          callback();
        });
      },
    });
    // A client killed mid-message resets its connection: smtp-server reports that as an 'error' event,
    // which is no failure of the sink.
    this.server.on('error', () => undefined);
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    const address = this.server.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  /** How many times each Message-ID was accepted. */
  acceptedById(): Map<string, number> {
    const counts = new Map<string, number>();
    for (const { messageId } of this.messages) counts.set(messageId, (counts.get(messageId) ?? 0) + 1);
    return counts;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
