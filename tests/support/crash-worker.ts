/**
 * A mail worker in a process of its own, for the crash test (tests/integration/outbox/worker-crash.test.ts),
 * which kills it with SIGKILL at random moments. The real worker, repository and pooled nodemailer
 * transport, pointed at the test's SMTP sink, with a short lease so that a dead worker's claims come
 * back within the test. Run with `node --import tsx tests/support/crash-worker.ts`.
 *
 * CRASH_DATABASE   the SQLite file or the PostgreSQL URL (already migrated)
 * CRASH_SMTP_PORT  the sink's port on 127.0.0.1
 * CRASH_LEASE_MS   how long a claim holds (default 1500); every SMTP timeout is shorter
 *
 * Prints "ready" once the worker runs; SIGTERM stops it gracefully.
 */
import { openDatabase } from '../../server/db/database.js';
import { systemClock } from '../../server/lib/clock.js';
import { createLogger } from '../../server/lib/logger.js';
import { createCaptureTransport, createMailSender } from '../../server/mail/mail-sender.js';
import { OutboxRepository } from '../../server/outbox/outbox-repository.js';
import { OutboxWorker } from '../../server/outbox/outbox-worker.js';

const file = process.env.CRASH_DATABASE;
const port = Number(process.env.CRASH_SMTP_PORT);
const leaseMs = Number(process.env.CRASH_LEASE_MS ?? 1_500);
if (!file || !port) {
  console.error('CRASH_DATABASE and CRASH_SMTP_PORT are required');
  process.exit(2);
}

const timeouts = {
  connectionTimeout: Math.floor(leaseMs / 3),
  greetingTimeout: Math.floor(leaseMs / 3),
  socketTimeout: Math.floor((leaseMs * 2) / 3),
};
const database = openDatabase(
  /^postgres(ql)?:/.test(file)
    ? { dialect: 'postgres', url: file, poolSize: 3 }
    : { dialect: 'sqlite', path: file },
);
const { db } = database;
const transport = createCaptureTransport(port, { poolConnections: 8, timeouts });
const worker = new OutboxWorker({
  outbox: new OutboxRepository(db),
  sender: createMailSender(transport, 'Undersigned <letters@undersigned.example.org>'),
  clock: systemClock,
  logger: createLogger(process.env.CRASH_LOG_LEVEL ?? 'silent'),
  workerId: `crash-worker-${process.pid}`,
  leaseMs,
  batchSize: 20,
  pollMs: 100,
  // Quick retries, so refused attempts come back within the test; no giving up during it.
  policy: { baseDelayMs: 100, maxDelayMs: 1_000, giveUpAfterMs: 3_600_000 },
  // Permissive: the crash test is about claims and leases, not about pacing.
  politeness: { connectionsPerDomain: 20, messagesPerSecond: 10_000 },
});
worker.start();
console.log('ready');

process.once('SIGTERM', () => {
  void worker
    .stop()
    .then(() => transport.close())
    .then(() => database.close())
    .then(() => process.exit(0));
});
