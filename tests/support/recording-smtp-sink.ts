import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** One DATA command the server received, whether it accepted it or not. */
export interface SmtpAttempt {
  messageId: string;
  envelopeTo: string[];
  subject: string;
  /** The reply code the sink answered with. */
  code: number;
}

/**
 * Like SmtpSink, but records every delivery attempt, including those it refused with a scripted reply,
 * so a test can compare what a client sent on each try (for example the Message-ID across retries).
 */
export class RecordingSmtpSink {
  readonly attempts: SmtpAttempt[] = [];
  /** Scripted answer for the attempt with this index (0-based); undefined accepts with 250. */
  reply: ((attempt: number) => { code: number; message: string } | undefined) | undefined;
  private server: SMTPServer | undefined;
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
          simpleParser(Buffer.concat(chunks)).then(
            (parsed) => {
              const scripted = this.reply?.(this.attempts.length);
              this.attempts.push({
                messageId: parsed.messageId ?? '',
                envelopeTo: session.envelope.rcptTo.map((r) => r.address),
                subject: parsed.subject ?? '',
                code: scripted?.code ?? 250,
              });
              if (scripted)
                return callback(Object.assign(new Error(scripted.message), { responseCode: scripted.code }));
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

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
