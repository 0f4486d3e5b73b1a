import type { Clock } from '../lib/clock.js';
import type { Logger } from '../lib/logger.js';
import { DomainGate, type SharedPace } from './domain-gate.js';
import {
  classifySendError,
  DEFAULT_POLITENESS,
  DEFAULT_RETRY_POLICY,
  FAILED_CONTENT_KEPT_MS,
  refusesAddress,
  relayUnreachable,
  retryAt,
  shouldGiveUp,
  type OutboxAttachment,
  type OutboxMessage,
  type PolitenessPolicy,
  type RenderedContent,
  type RetryPolicy,
  withoutAddresses,
} from './outbox.js';
import type { OutboxRepository } from './outbox-repository.js';
import { DEFAULT_LEASE_MS, renewEveryMs } from './lease.js';

/** A message composed into the exact bytes that will be handed to SMTP. */
export interface ComposedMail {
  raw: Buffer;
  envelope: { from: string; to: string[] };
}

/**
 * Hands one message to SMTP and returns the server's reply, with the SHA-256 and size of the exact
 * bytes it handed over when it knows them; throws what nodemailer throws. A sender that can compose
 * the message first lets the worker do that outside the domain's pacing, so sends start on time.
 */
export interface MailSender {
  compose?(message: OutboxMessage, attachments: OutboxAttachment[]): Promise<ComposedMail>;
  send(
    message: OutboxMessage,
    attachments: OutboxAttachment[],
    composed?: ComposedMail,
  ): Promise<{ reply: string; sha256?: string; size?: number }>;
}

/**
 * Renders a message queued without content (see DeferredOutboxMessage) just before it is sent;
 * undefined when there is nothing to send any more (its signature is gone).
 */
export type OutboxRenderer = (message: OutboxMessage) => Promise<RenderedContent | undefined>;

export interface OutboxWorkerOptions {
  outbox: OutboxRepository;
  sender: MailSender;
  clock: Clock;
  logger: Logger;
  workerId: string;
  /**
   * How long a claim holds unless renewed. The worker renews its claims every third of it while it
   * lives, so a live send is never taken over and a dead worker's claims come back within about one lease.
   */
  leaseMs?: number;
  /** On stop, how long sends already talking to SMTP may take to finish before their claims are released. */
  stopGraceMs?: number;
  /** Messages claimed at once, and sends kept in flight by the running loop. */
  batchSize?: number;
  /** The longest the worker sleeps before looking again, even if nothing woke it. */
  pollMs?: number;
  policy?: RetryPolicy;
  politeness?: PolitenessPolicy;
  /** The deployment-wide pace per domain (domain_pacing), shared with every other worker on the database. */
  pacing?: SharedPace;
  random?: () => number;
  /** Renders messages queued to be rendered by the worker (supporters' confirmations). */
  render?: OutboxRenderer;
  /**
   * Called after a message was sent or failed for good, with its id. Bounces arrive later, through the
   * bounce handler, and do not call it; no part of the platform listens today (tests watch which worker sent what).
   */
  onFinished?: (messageId: number, status: 'sent' | 'failed') => void;
  /**
   * Called once a message has been recorded failed because the relay refused its recipient's address
   * for good at submission (see refusesAddress), with the relay's reply: marks the address as a bounce
   * report would, since none will come.
   */
  onAddressRefused?: (messageId: number, reply: string) => Promise<void>;
}

/** Thrown in place of a send that a stopping worker no longer starts (its claim was given back). */
class SendAbandoned extends Error {}

/**
 * The mail worker: claims due messages with a short lease that a heartbeat renews while it lives, sends
 * them politely per domain, records the reply. At-least-once: a worker that dies mid-send stops
 * renewing, its claims expire within a lease, and the message is sent again with the same Message-ID,
 * so receivers can recognise the duplicate.
 */
export class OutboxWorker {
  private readonly leaseMs: number;
  private readonly stopGraceMs: number;
  private readonly batchSize: number;
  private readonly pollMs: number;
  private readonly policy: RetryPolicy;
  private readonly random: () => number;
  private readonly gate: DomainGate;
  private readonly inFlight = new Set<Promise<void>>();
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  /** Set by wake(): something changed since the loop last looked, so it must not go to sleep. */
  private woken = false;
  private timer: NodeJS.Timeout | undefined;
  /** The messages this worker holds, from claim until their outcome is recorded, and whether SMTP has them yet. */
  private readonly held = new Map<number, 'waiting' | 'sending'>();
  /** Set while stopping: no send starts any more; what has not started is given back. */
  private abandoning = false;
  private heartbeat: NodeJS.Timeout | undefined;
  private beating: Promise<void> | undefined;
  private stopping: Promise<void> | undefined;

  constructor(private readonly options: OutboxWorkerOptions) {
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.stopGraceMs = options.stopGraceMs ?? 5_000;
    this.batchSize = options.batchSize ?? 20;
    this.pollMs = options.pollMs ?? 5_000;
    this.policy = options.policy ?? DEFAULT_RETRY_POLICY;
    this.random = options.random ?? Math.random;
    this.gate = new DomainGate(options.politeness ?? DEFAULT_POLITENESS, Date.now, undefined, options.pacing);
  }

  /** Starts the loop and the heartbeat in the background. */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.abandoning = false;
    this.stopping = undefined;
    this.beat();
    this.heartbeat = setInterval(() => this.beat(), renewEveryMs(this.leaseMs));
    // The loop's own timers keep the process alive; the heartbeat alone must not.
    this.heartbeat.unref();
    this.loop = this.run();
  }

  /**
   * One heartbeat: renews the lease of every claim this worker holds (one statement), then puts claims
   * whose lease ran out (their worker died) back in line and wakes the loop to take them. The timer
   * calls it every third of a lease; tests call it with their own clock.
   */
  async renewLeases(): Promise<void> {
    const { outbox, clock, workerId } = this.options;
    await outbox.renewClaims(workerId, clock.now(), this.leaseMs);
    if ((await outbox.releaseExpiredClaims(clock.now())) > 0) this.wake();
  }

  private beat(): void {
    // One at a time: a slow database must not pile renewals up.
    this.beating ??= this.renewLeases()
      .catch((error: unknown) =>
        this.options.logger.error({ err: error }, 'mail worker: could not renew its claims; retrying'),
      )
      .finally(() => (this.beating = undefined));
  }

  /** Tells a sleeping worker that new mail is waiting. */
  wake(): void {
    this.woken = true;
    this.wakeUp?.();
  }

  /**
   * Stops claiming; gives back at once the claims whose send has not started; lets the sends SMTP
   * already has finish and be recorded for up to stopGraceMs, then gives back the claims still open,
   * so another worker sends them (again, with the same Message-ID, only if the cut send had gone through).
   * The heartbeat renews the claims until then, so none is taken over while it waits.
   */
  stop(): Promise<void> {
    // Called by the web process and again by the platform's shutdown: one stop, one grace.
    this.stopping ??= this.windDown();
    return this.stopping;
  }

  private async windDown(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
    this.abandoning = true;
    try {
      await this.giveBack('waiting');
      // Real time, not the platform clock: this bounds how long the process takes to stop. Sends that
      // were given back may still sleep in the domain gate; only those SMTP has are waited for.
      const deadline = Date.now() + this.stopGraceMs;
      while ([...this.held.values()].includes('sending') && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      await this.flushSent();
      await Promise.all([...this.recording]);
      await this.giveBack('all');
    } finally {
      clearInterval(this.heartbeat);
      this.heartbeat = undefined;
      await this.beating;
      // Sends still running were given back above; a later runOnce starts sends again.
      this.abandoning = false;
    }
  }

  /** Releases this worker's claims (those not handed to SMTP yet, or all it still holds) for another worker. */
  private async giveBack(which: 'waiting' | 'all'): Promise<void> {
    const ids = [...this.held].filter(([, state]) => which === 'all' || state === which).map(([id]) => id);
    if (ids.length === 0) return;
    for (const id of ids) this.held.delete(id);
    try {
      const released = await this.options.outbox.releaseClaims(
        this.options.workerId,
        ids,
        this.options.clock.now(),
      );
      this.options.logger.info({ released }, 'mail worker: stopping; gave back claims it will not send');
    } catch (error) {
      // Their leases, no longer renewed, expire instead: at-least-once, never lost.
      this.options.logger.error({ err: error }, 'mail worker: could not give back its claims');
    }
  }

  /** Sent messages whose record is on its way (see recordSent). */
  private readonly recording = new Set<Promise<void>>();
  private readonly sentBuffer: {
    id: number;
    reply: string;
    sha256: string | undefined;
    size: number | undefined;
    done: (recorded: boolean) => void;
  }[] = [];
  private flushTimer: NodeJS.Timeout | undefined;

  /**
   * Records a sent message together with the others that finish within a few milliseconds. If the
   * process dies before the record, the claim expires and the message goes again with the same
   * Message-ID: at-least-once, as everywhere in the queue.
   */
  private recordSent(sent: { id: number; reply: string; sha256?: string; size?: number }): Promise<boolean> {
    return new Promise((done) => {
      this.sentBuffer.push({ id: sent.id, reply: sent.reply, sha256: sent.sha256, size: sent.size, done });
      if (this.sentBuffer.length >= Math.max(1, Math.floor(this.batchSize / 2))) void this.flushSent();
      else this.flushTimer ??= setTimeout(() => void this.flushSent(), 5);
    });
  }

  private async flushSent(): Promise<void> {
    clearTimeout(this.flushTimer);
    this.flushTimer = undefined;
    const batch = this.sentBuffer.splice(0);
    if (batch.length === 0) return;
    try {
      const recorded = await this.options.outbox.finishSent(
        this.options.workerId,
        batch,
        this.options.clock.now(),
      );
      for (const entry of batch) entry.done(recorded.has(entry.id));
    } catch (error) {
      this.options.logger.error(
        { err: error },
        'mail worker: could not record sent messages; their claims will expire',
      );
      for (const entry of batch) entry.done(false);
    }
  }

  /** Claims one batch of due messages and sends them all; returns how many it handled. */
  async runOnce(): Promise<number> {
    // One pass (tests, drains) always takes over expired claims; the running loop leaves it to the heartbeat.
    const claimed = await this.claim(this.batchSize, true);
    await Promise.all(claimed.map((message) => this.deliver(message)));
    await this.flushSent();
    await Promise.all([...this.recording]);
    return claimed.length;
  }

  private lastDrop = Number.NEGATIVE_INFINITY;

  private async claim(limit: number, releaseExpired = false): Promise<OutboxMessage[]> {
    const { outbox, clock, workerId } = this.options;
    const now = clock.now();
    // The running loop leaves expired claims to the heartbeat (renewLeases), which looks every third of a lease.
    if (releaseExpired) await outbox.releaseExpiredClaims(now);
    // Failed messages keep their content a while for an admin's retry; then it goes (rarely needed).
    if (now.getTime() - this.lastDrop >= 15 * 60_000 || now.getTime() < this.lastDrop) {
      await outbox.dropContentOfFailedBefore(new Date(now.getTime() - FAILED_CONTENT_KEPT_MS), now);
      this.lastDrop = now.getTime();
    }
    const claimed = await outbox.claimDue(workerId, now, this.leaseMs, limit, {
      perDomain: (this.options.politeness ?? DEFAULT_POLITENESS).connectionsPerDomain,
      excludeDomains: await this.gate.excluded(),
    });
    for (const message of claimed) this.held.set(message.id, 'waiting');
    return claimed;
  }

  /**
   * Keeps up to batchSize sends in flight: a slow server holds up only its own messages, never the
   * rest of the queue.
   */
  private async run(): Promise<void> {
    while (this.running) {
      this.woken = false;
      let claimed: OutboxMessage[] = [];
      const room = this.batchSize - this.inFlight.size;
      // Claims are refilled in halves, not one by one: each claim is a statement over the waiting queue.
      if (room >= Math.ceil(this.batchSize / 2) || this.inFlight.size === 0) {
        try {
          claimed = await this.claim(room);
        } catch (error) {
          this.options.logger.error({ err: error }, 'mail worker: claiming failed');
        }
      }
      for (const message of claimed) {
        const sending = this.deliver(message).finally(() => {
          this.inFlight.delete(sending);
          this.wake();
        });
        this.inFlight.add(sending);
      }
      if (claimed.length === 0 && this.running) await this.sleep();
    }
  }

  private async sleep(): Promise<void> {
    let delay = this.pollMs;
    // With sends in flight, the next one to finish wakes the loop; only an idle worker asks the queue
    // when the next message is due (a statement over every waiting message).
    if (this.inFlight.size === 0) {
      try {
        const due = await this.options.outbox.nextDueAt();
        if (due) delay = Math.max(0, Math.min(delay, due.getTime() - this.options.clock.now().getTime()));
        // Something is due but every domain it goes to is paced: look again shortly.
        if (delay === 0) delay = 50;
      } catch {
        // The next loop logs database trouble; here a plain poll interval is the safe fallback.
      }
    }
    // A wake-up that came while the loop was claiming or asking the queue (a send ended, mail was
    // queued) found no sleeper: look again now rather than after the poll interval.
    if (this.woken) return;
    await new Promise<void>((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(resolve, delay);
    });
    clearTimeout(this.timer);
    this.wakeUp = undefined;
  }

  /** Hands an address the relay refused at submission to whoever marks it; a failure there is only logged. */
  private async addressRefused(message: OutboxMessage, reply: string): Promise<void> {
    try {
      await this.options.onAddressRefused?.(message.id, reply);
    } catch (error) {
      // The message is recorded failed already; the address is marked again by the next refusal.
      this.options.logger.error(
        { err: error, outboxMessageId: message.id },
        'mail worker: could not mark a refused address',
      );
    }
  }

  private async deliver(message: OutboxMessage): Promise<void> {
    const { outbox, sender, clock, logger, workerId } = this.options;
    const log = logger.child({ outboxMessageId: message.id, kind: message.kind, attempt: message.attempts });
    // A sent message stays held until its record is written (recordSent); any other outcome, from here.
    let recordingSent = false;
    // The return path it goes out with, when composed here: a refusal naming it is about us, not the recipient.
    let envelopeFrom: string | undefined;
    try {
      let content: RenderedContent | undefined;
      if (message.renderLanguage !== null) {
        // Rendered here, not in the request that queued it; again on each attempt, with the same Message-ID.
        // A worker wired without a renderer leaves it to another (a temporary failure, retried).
        if (!this.options.render) throw new Error('this worker renders no queued e-mails');
        content = await this.options.render(message);
        if (!content) {
          await outbox.finish(message.id, workerId, {
            status: 'failed',
            reply: 'not sent: nothing to render (its signature is gone or no longer counts)',
            at: clock.now(),
          });
          log.warn('mail worker: nothing to render; not sent');
          return;
        }
      }
      const ready = content ? { ...message, ...content } : message;
      const attachments = message.attachmentCount > 0 ? await outbox.attachmentsOf(message.id) : [];
      const composed = await sender.compose?.(ready, attachments);
      envelopeFrom = composed?.envelope.from;
      const sent = await this.gate.run(message.domain, () => {
        // A stopping worker starts no send: the claim was given back, another worker sends it once.
        if (this.abandoning || !this.held.has(message.id)) throw new SendAbandoned();
        this.held.set(message.id, 'sending');
        return sender.send(ready, attachments, composed);
      });
      // The send's place is free once the server has answered: recording joins the next batch of
      // records on its own, so the SMTP pool never waits for the database.
      const recording = this.recordSent({ id: message.id, ...sent }).then((recorded) => {
        if (!recorded)
          log.warn('mail worker: sent, but the claim had expired; another attempt may duplicate it');
        log.info('mail worker: sent');
        this.options.onFinished?.(message.id, 'sent');
      });
      recordingSent = true;
      this.recording.add(recording);
      void recording.finally(() => {
        this.recording.delete(recording);
        this.held.delete(message.id);
      });
    } catch (error) {
      if (error instanceof SendAbandoned) return;
      const outcome = classifySendError(error);
      const now = clock.now();
      try {
        if (outcome.kind === 'permanent' || shouldGiveUp(message, now, this.policy)) {
          await outbox.finish(message.id, workerId, { status: 'failed', reply: outcome.reply, at: now });
          log.warn({ reply: withoutAddresses(outcome.reply) }, 'mail worker: failed');
          if (outcome.kind === 'permanent' && refusesAddress(error, envelopeFrom))
            await this.addressRefused(message, outcome.reply);
          this.options.onFinished?.(message.id, 'failed');
        } else {
          const next = retryAt(message.attempts, now, this.policy, this.random(), outcome.reply);
          await outbox.finish(message.id, workerId, {
            status: 'retrying',
            reply: outcome.reply,
            at: now,
            nextAttemptAt: next,
          });
          const said = { reply: withoutAddresses(outcome.reply), retryAt: next };
          if (relayUnreachable(error))
            log.warn(said, 'mail worker: the SMTP relay (SMTP_URL) did not take the message; will retry');
          else log.info(said, 'mail worker: will retry');
        }
      } catch (recordError) {
        // The claim expires and the message is tried again: at-least-once, never lost.
        log.error({ err: recordError }, 'mail worker: could not record the outcome');
      }
    } finally {
      if (!recordingSent) this.held.delete(message.id);
    }
  }
}
