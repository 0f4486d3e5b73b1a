import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { createApp } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';
import { ManualClock } from '../../server/lib/clock.js';
import { createLogger } from '../../server/lib/logger.js';
import { wire, type Platform } from '../../server/wiring.js';
import { SmtpSink } from './smtp-sink.js';

export const TEST_PUBLIC_URL = 'http://localhost:3000';

export interface TestPlatform {
  app: ReturnType<typeof createApp>;
  platform: Platform;
  config: Config;
  sink: SmtpSink;
  clock: ManualClock;
  dataDir: string;
  /** Lets the mail worker send everything due now; returns how many it handled. */
  drainOutbox(): Promise<number>;
  close(): Promise<void>;
}

/**
 * A whole platform on a fresh SQLite file in a temporary folder, sending mail over real SMTP to a
 * sink on loopback. The worker does not run by itself: tests drain the outbox when they want mail.
 */
export async function createTestPlatform(options: { env?: Record<string, string> } = {}): Promise<TestPlatform> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-test-'));
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    PUBLIC_URL: TEST_PUBLIC_URL,
    LOG_LEVEL: 'silent',
    SECRET_KEY: 'test-secret-test-secret-test-secret-0123',
    MAIL_FROM: 'Undersigned <letters@undersigned.example.org>',
    ...options.env,
  });
  const sink = await new SmtpSink().start();
  const clock = new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
  const transport = nodemailer.createTransport({ host: '127.0.0.1', port: sink.port, secure: false, ignoreTLS: true });
  const platform = await wire(config, createLogger(process.env.TEST_LOG_LEVEL ?? 'silent'), { clock, transport, withWorker: true });
  const app = createApp(platform.appDeps);
  return {
    app,
    platform,
    config,
    sink,
    clock,
    dataDir,
    async drainOutbox() {
      let total = 0;
      for (let handled = await platform.worker!.runOnce(); handled > 0; handled = await platform.worker!.runOnce()) {
        total += handled;
      }
      return total;
    },
    async close() {
      await platform.shutdown();
      await sink.stop();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
