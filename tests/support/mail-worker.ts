import nodemailer, { type Transporter } from 'nodemailer';
import type { Db } from '../../server/db/database.js';
import type { Clock } from '../../server/lib/clock.js';
import { createLogger } from '../../server/lib/logger.js';
import { createMailSender } from '../../server/mail/mail-sender.js';
import type { OutboxRepository } from '../../server/outbox/outbox-repository.js';
import { OutboxWorker, type OutboxWorkerOptions } from '../../server/outbox/outbox-worker.js';

/** The platform's sender in every test (MAIL_FROM). */
export const MAIL_FROM = 'Undersigned <letters@undersigned.example.org>';

/**
 * A lease longer than any SMTP timeout of the test transports: tests that drive the worker by runOnce
 * run no heartbeat, so no claim may lapse during a send.
 */
export const LEASE_MS = 60_000;

/** A transport to an SMTP server of the test's on loopback: plain SMTP, no TLS; timeouts and the like on top. */
export function loopbackTransport(port: number, options: Record<string, number | boolean> = {}): Transporter {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...options });
}

/**
 * A mail worker as the outbox tests run it: silent, called worker-a, with the long lease and a fixed
 * jitter, sending from MAIL_FROM through `transport`. Any option can be set instead.
 */
export function testWorker(
  parts: { outbox: OutboxRepository; clock: Clock; transport: Transporter },
  options: Partial<OutboxWorkerOptions> = {},
): OutboxWorker {
  return new OutboxWorker({
    outbox: parts.outbox,
    sender: createMailSender(parts.transport, MAIL_FROM),
    clock: parts.clock,
    logger: createLogger('silent'),
    workerId: 'worker-a',
    leaseMs: LEASE_MS,
    random: () => 0.5,
    ...options,
  });
}

/** One outbox message as stored (its queue state, not its content). */
export function outboxRow(db: Db, id: number) {
  return db.selectFrom('outbox_messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}
