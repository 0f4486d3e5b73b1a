import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';

/** A message the sink accepted. */
export interface SinkMessage {
  envelopeTo: string[];
  /** The envelope sender (MAIL FROM), where bounces go; '' for a null sender. */
  envelopeFrom: string;
  parsed: ParsedMail;
  raw: string;
}

/** One DATA command the sink received, whether it accepted it or not. */
export interface SmtpAttempt {
  messageId: string;
  envelopeTo: string[];
  subject: string;
  /** The reply code the sink answered with. */
  code: number;
}

/**
 * A real SMTP server on loopback, for tests. It records every delivery attempt in `attempts`
 * (including those refused by a scripted `reply`, so a test can compare what a client sent on each
 * try) and keeps the messages it accepted in `messages`.
 */
export class SmtpSink {
  readonly attempts: SmtpAttempt[] = [];
  readonly messages: SinkMessage[] = [];
  /**
   * Scripted answer for the attempt with this index (0-based, counting refused attempts too), e.g. a
   * 451 or a 550 to exercise the queue's error handling; undefined accepts with 250.
   */
  reply: ((attempt: number) => { code: number; message: string } | undefined) | undefined;
  /**
   * Scripted answer to RCPT TO for an address, e.g. a 550 5.1.1 as a relay that checks recipients up
   * front gives, or a refusal of the sender (`mailFrom`, the envelope's) reported at RCPT; undefined
   * accepts the address.
   */
  rcptReply:
    ((address: string, mailFrom: string) => { code: number; message: string } | undefined) | undefined;
  /**
   * A slow server: how long it holds each message after the data before it answers. A message whose
   * client went away meanwhile (a worker killed mid-send) is not accepted.
   */
  holdMs = 0;
  /** Messages received in full and not answered yet (held). */
  holding = 0;
  /** Message-IDs of the messages received in full whose client went away before the answer. */
  readonly cutOff: string[] = [];
  private readonly closedSessions = new Set<string>();
  private server: SMTPServer | undefined;
  private waiters: (() => void)[] = [];
  port = 0;

  async start(): Promise<this> {
    this.server = new SMTPServer({
      authOptional: true,
      disabledCommands: ['AUTH', 'STARTTLS'],
      logger: false,
      onRcptTo: (address, session, callback) => {
        const refusal = this.rcptReply?.(
          address.address,
          session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
        );
        if (!refusal) return callback();
        callback(Object.assign(new Error(refusal.message), { responseCode: refusal.code }));
      },
      onClose: (session) => {
        this.closedSessions.add(session.id);
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.holding += 1;
          const held = new Promise<void>((resolve) => setTimeout(resolve, this.holdMs));
          Promise.all([simpleParser(raw), held]).then(
            ([parsed]) => {
              this.holding -= 1;
              if (this.closedSessions.has(session.id)) {
                this.cutOff.push(parsed.messageId ?? '');
                return callback(new Error('the client went away'));
              }
              const scripted = this.reply?.(this.attempts.length);
              const envelopeTo = session.envelope.rcptTo.map((r) => r.address);
              this.attempts.push({
                messageId: parsed.messageId ?? '',
                envelopeTo,
                subject: parsed.subject ?? '',
                code: scripted?.code ?? 250,
              });
              if (scripted) {
                return callback(Object.assign(new Error(scripted.message), { responseCode: scripted.code }));
              }
              const mailFrom = session.envelope.mailFrom;
              this.messages.push({ envelopeTo, envelopeFrom: mailFrom ? mailFrom.address : '', parsed, raw });
              this.waiters.splice(0).forEach((w) => w());
              callback();
            },
            (error: Error) => {
              this.holding -= 1;
              callback(error);
            },
          );
        });
      },
    });
    await new Promise<void>((resolve) => this.server!.listen(0, '127.0.0.1', () => resolve()));
    // A client killed mid-message (the crash test's workers) resets its connection; smtp-server
    // reports that as an 'error' event, which is no failure of the sink.
    this.server.on('error', () => undefined);
    const address = this.server.server.address();
    this.port = typeof address === 'object' && address ? address.port : 0;
    return this;
  }

  /** Waits until at least `count` messages have been accepted (or fails after `timeoutMs`). */
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

  /** The accepted messages sent to one address. */
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
