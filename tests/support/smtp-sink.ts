import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface SinkMessage {
  envelopeTo: string[];
  parsed: ParsedMail;
  raw: string;
}

/**
 * A real SMTP server on loopback that keeps what it receives, for tests. `reply` can script an answer
 * per message (e.g. a 451 or a 550) to exercise the queue's error handling.
 */
export class SmtpSink {
  readonly messages: SinkMessage[] = [];
  reply: ((count: number) => { code: number; message: string } | undefined) | undefined;
  private server: SMTPServer | undefined;
  private waiters: (() => void)[] = [];
  port = 0;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const scripted = this.reply?.(this.messages.length);
          if (scripted) {
            return callback(Object.assign(new Error(scripted.message), { responseCode: scripted.code }));
          }
          const raw = Buffer.concat(chunks).toString('utf8');
          simpleParser(raw).then(
            (parsed) => {
              this.messages.push({ envelopeTo: session.envelope.rcptTo.map((r) => r.address), parsed, raw });
              this.waiters.splice(0).forEach((w) => w());
              callback();
            },
            (error: Error) => callback(error),
          );
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    const address = this.server.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  /** Waits until at least `count` messages have arrived (or fails after `timeoutMs`). */
  async waitForCount(count: number, timeoutMs = 5_000): Promise<SinkMessage[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.messages.length < count) {
      if (Date.now() > deadline) throw new Error(`expected ${count} messages, got ${this.messages.length}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 100);
      });
    }
    return this.messages;
  }

  /** The messages sent to one address. */
  to(address: string): SinkMessage[] {
    return this.messages.filter((m) => m.envelopeTo.includes(address));
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}

/** Every link in a message's text body. */
export function linksIn(message: SinkMessage): string[] {
  return message.parsed.text?.match(/https?:\/\/\S+/g) ?? [];
}
