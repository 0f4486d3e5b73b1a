/**
 * The mail queue's throughput against nodemailer sending directly, in one run, to the same local SMTP
 * sink with the same pool settings; then a 100,000-message backlog drained by the worker. Results are
 * written between the markers in docs/performance.md. Run: npm run bench (or tsx bench/queue.bench.ts).
 * Not part of npm test. Target: the queue reaches at least 80 % of direct nodemailer.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import nodemailer, { type Transporter } from 'nodemailer';
import { openDatabase, type Db } from '../server/db/database.js';
import { migrateToLatest } from '../server/db/migrate.js';
import { newMessageId } from '../server/lib/ids.js';
import { createLogger } from '../server/lib/logger.js';
import { createMailSender } from '../server/mail/mail-sender.js';
import { PRIORITY, type RenderedOutboxMessage } from '../server/outbox/outbox.js';
import { OutboxRepository } from '../server/outbox/outbox-repository.js';
import { OutboxWorker } from '../server/outbox/outbox-worker.js';
import { systemClock } from '../server/lib/clock.js';
import { startSmtpSink } from './lib/platform.js';
import { median } from './lib/rounds.js';

const COMPARE_MESSAGES = Number(process.env.BENCH_COMPARE ?? 10_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const BACKLOG_MESSAGES = Number(process.env.BENCH_BACKLOG ?? 100_000);
const POOL = { pool: true, maxConnections: 5, maxMessages: Infinity } as const;
/** Sends in flight: the worker's batch size, and the same number of concurrent sendMail calls directly (8 per pool connection). */
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 40);
const DOMAINS = 500;
const FROM = 'Undersigned <letters@undersigned.example.org>';

const PARAGRAPH =
  'We ask that no North Korean soldier held as a prisoner of war is returned against his will, and that each is free to choose the country of his asylum. ';
const TEXT = PARAGRAPH.repeat(25);
const HTML = `<p>${PARAGRAPH.repeat(5)}</p>`.repeat(5);

function message(i: number): RenderedOutboxMessage {
  return {
    kind: 'letter-delivery',
    priority: PRIORITY.letter,
    signatureId: null,
    toAddress: `recipient-${i}@domain-${i % DOMAINS}.example.org`,
    subject: `Open letter ${i}`,
    textBody: TEXT,
    htmlBody: HTML,
  };
}

function transportTo(port: number): Transporter {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, ...POOL });
}

/** This process's user + system CPU in milliseconds (the queue, the worker and nodemailer all run in it). */
function cpuMs(): number {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** nodemailer alone: IN_FLIGHT concurrent sendMail calls over the pool; messages per second and CPU µs a message. */
async function direct(port: number, count: number): Promise<{ perSecond: number; cpuUs: number }> {
  const transport = transportTo(port);
  let next = 0;
  const cpuBefore = cpuMs();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < count) {
        const i = next++;
        const m = message(i);
        await transport.sendMail({
          from: FROM,
          to: m.toAddress,
          subject: m.subject,
          text: m.textBody,
          html: m.htmlBody,
          messageId: newMessageId('undersigned.example.org'),
        });
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  const cpuUs = ((cpuMs() - cpuBefore) * 1000) / count;
  transport.close();
  return { perSecond: count / seconds, cpuUs };
}

async function enqueue(db: Db, count: number): Promise<number> {
  const outbox = new OutboxRepository(db);
  const started = performance.now();
  const now = new Date();
  for (let start = 0; start < count; start += 1_000) {
    await db.transaction().execute(async (tx) => {
      const repository = outbox.with(tx);
      for (let i = start; i < Math.min(count, start + 1_000); i++) {
        await repository.enqueue(message(i), newMessageId('undersigned.example.org'), now);
      }
    });
  }
  return count / ((performance.now() - started) / 1000);
}

async function countSent(db: Db): Promise<number> {
  const row = await db
    .selectFrom('outbox_messages')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('status', '=', 'sent')
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** The worker's running loop drains `count` queued messages; returns messages per second and peak RSS. */
async function drain(
  db: Db,
  port: number,
  count: number,
): Promise<{ perSecond: number; peakRssMb: number; seconds: number; cpuUs: number }> {
  const transport = transportTo(port);
  const worker = new OutboxWorker({
    outbox: new OutboxRepository(db),
    sender: createMailSender(transport, FROM),
    clock: systemClock,
    logger: createLogger('silent'),
    workerId: 'bench',
    batchSize: Number(process.env.BENCH_WORKER_BATCH ?? IN_FLIGHT),
    pollMs: 20,
    // Many domains on one local sink: pacing real remote domains (1 a second by default) is not measured here.
    politeness: { connectionsPerDomain: 2, messagesPerSecond: 1_000 },
  });
  let peakRss = process.memoryUsage().rss;
  const cpuBefore = cpuMs();
  const started = performance.now();
  worker.start();
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
    if ((await countSent(db)) >= count) break;
  }
  const seconds = (performance.now() - started) / 1000;
  // Includes this loop's own count every 100 ms (a few statements a second, next to hundreds of sends).
  const cpuUs = ((cpuMs() - cpuBefore) * 1000) / count;
  await worker.stop();
  transport.close();
  return { perSecond: count / seconds, peakRssMb: peakRss / 1024 / 1024, seconds, cpuUs };
}

async function freshDatabase(dir: string, name: string): Promise<Db> {
  const { db } = openDatabase(path.join(dir, `${name}.sqlite`));
  await migrateToLatest(db);
  return db;
}

async function main(): Promise<void> {
  const log = (step: string) => process.env.BENCH_DEBUG && console.error(new Date().toISOString(), step);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-bench-queue-'));
  // Accepts every message and keeps nothing, in a process of its own: a real relay never takes this process's CPU.
  const sink = await startSmtpSink();
  try {
    // Warm up both paths once so neither pays for JIT and first connections.
    log('warm-up');
    await direct(sink.port, 500);
    log('direct');

    // Alternating rounds, medians: the two paths share the machine with whatever else runs on it.
    const directRates: number[] = [];
    const queueRates: number[] = [];
    const directCpu: number[] = [];
    const queueCpu: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      log(`round ${round + 1}: direct`);
      const sent = await direct(sink.port, COMPARE_MESSAGES);
      directRates.push(sent.perSecond);
      directCpu.push(sent.cpuUs);
      log(`round ${round + 1}: queue`);
      const compareDb = await freshDatabase(dir, `compare-${round}`);
      await enqueue(compareDb, COMPARE_MESSAGES);
      const drained = await drain(compareDb, sink.port, COMPARE_MESSAGES);
      queueRates.push(drained.perSecond);
      queueCpu.push(drained.cpuUs);
      await compareDb.destroy();
    }
    const directRate = median(directRates);
    const queued = { perSecond: median(queueRates) };
    log('backlog');
    const ratio = queued.perSecond / directRate;

    const backlogDb = await freshDatabase(dir, 'backlog');
    const enqueueRate = await enqueue(backlogDb, BACKLOG_MESSAGES);
    const backlog = await drain(backlogDb, sink.port, BACKLOG_MESSAGES);
    await backlogDb.destroy();

    const lines = [
      `Measured ${new Date().toISOString().slice(0, 10)} on ${os.cpus().length} cores (${os.cpus()[0]?.model.trim() ?? 'unknown CPU'}), Node ${process.version}.`,
      `Messages of ~4 KB (text and HTML) to ${DOMAINS} domains on one local smtp-server sink in its own process; nodemailer pool of ${POOL.maxConnections} connections, ${IN_FLIGHT} sends in flight, in both runs.`,
      '',
      '| run | messages | messages/s | CPU a message (median) | notes |',
      '|---|---|---|---|---|',
      `| nodemailer directly | ${ROUNDS} × ${COMPARE_MESSAGES.toLocaleString('en')} | ${Math.round(directRate).toLocaleString('en')} | ${Math.round(median(directCpu))} µs | the baseline (median of ${directRates.map((r) => Math.round(r)).join(', ')}) |`,
      `| through the queue (claim, send, record) | ${ROUNDS} × ${COMPARE_MESSAGES.toLocaleString('en')} | ${Math.round(queued.perSecond).toLocaleString('en')} | ${Math.round(median(queueCpu))} µs (direct ÷ queue ${(median(directCpu) / median(queueCpu)).toFixed(2)}) | **${Math.round(ratio * 100)} % of direct** (target ≥ 80 %; median of ${queueRates.map((r) => Math.round(r)).join(', ')}) |`,
      `| enqueue (1,000 per transaction) | ${BACKLOG_MESSAGES.toLocaleString('en')} | ${Math.round(enqueueRate).toLocaleString('en')} | | |`,
      `| backlog drained by the worker | ${BACKLOG_MESSAGES.toLocaleString('en')} | ${Math.round(backlog.perSecond).toLocaleString('en')} | ${Math.round(backlog.cpuUs)} µs | ${backlog.seconds.toFixed(1)} s, peak RSS ${Math.round(backlog.peakRssMb)} MB |`,
    ];
    const report = lines.join('\n');
    console.log(report);
    if (ratio < 0.8)
      console.log(`\nBelow target: the queue reached ${Math.round(ratio * 100)} % of direct nodemailer.`);

    const file = path.join(import.meta.dirname, '..', 'docs', 'performance.md');
    const begin = '<!-- queue-bench:begin -->';
    const end = '<!-- queue-bench:end -->';
    const current = readFileSync(file, 'utf8');
    if (current.includes(begin) && current.includes(end)) {
      const updated =
        current.slice(0, current.indexOf(begin) + begin.length) +
        '\n' +
        report +
        '\n' +
        current.slice(current.indexOf(end));
      writeFileSync(file, updated);
      console.log(`\nWritten to ${path.relative(process.cwd(), file)}.`);
    }
  } finally {
    await sink.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
