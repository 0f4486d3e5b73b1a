/**
 * The retention job in a process of its own, for the test that kills it half way
 * (tests/integration/privacy/retention.test.ts). The platform is wired as `npm start` wires it, on the
 * given database, and the job runs one batch at a time so that each committed batch can be reported.
 * Run with `npx tsx tests/support/retention-run.ts`.
 *
 * RETENTION_DATA_DIR   the data folder; the database is DATA_DIR/undersigned.sqlite (already migrated)
 * RETENTION_DATABASE_URL  a PostgreSQL database instead (already migrated), when the test runs on one
 * RETENTION_NOW        the moment the job runs at (ISO 8601)
 * RETENTION_PAUSE_MS   a pause after each batch (default 0)
 *
 * Prints "batch <n>" after each batch has committed (n: signatures in it) and "done <total>" at the end.
 */
import nodemailer from 'nodemailer';
import { loadConfig } from '../../server/config.js';
import { noPdf } from '../../server/deliveries/pdf-renderer.js';
import { ManualClock } from '../../server/lib/clock.js';
import { createLogger } from '../../server/lib/logger.js';
import { wire } from '../../server/wiring.js';

const dataDir = process.env.RETENTION_DATA_DIR;
const now = process.env.RETENTION_NOW;
const pauseMs = Number(process.env.RETENTION_PAUSE_MS ?? 0);
if (!dataDir || !now) {
  console.error('RETENTION_DATA_DIR and RETENTION_NOW are required');
  process.exit(2);
}

const config = loadConfig({
  NODE_ENV: 'test',
  DATA_DIR: dataDir,
  ...(process.env.RETENTION_DATABASE_URL ? { DATABASE_URL: process.env.RETENTION_DATABASE_URL } : {}),
  PUBLIC_URL: 'http://localhost:3000',
  LOG_LEVEL: 'silent',
  SECRET_KEY: 'test-secret-test-secret-test-secret-0123',
  MAIL_FROM: 'Undersigned <letters@undersigned.example.org>',
});
const platform = await wire(config, createLogger('silent'), {
  clock: new ManualClock(new Date(now)),
  withWorker: false,
  // Retention sends nothing; a transport that goes nowhere keeps the capture server from starting.
  transport: nodemailer.createTransport({ jsonTransport: true }),
  pdf: noPdf,
});

let total = 0;
for (;;) {
  const done = await platform.privacy.applyRetention({ maxBatches: 1 });
  if (done === 0) break;
  total += done;
  console.log(`batch ${done}`);
  if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
}
console.log(`done ${total}`);
await platform.shutdown();
