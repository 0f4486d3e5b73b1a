import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createApp } from '../../server/app.js';
import { loadConfig, type Config } from '../../server/config.js';
import { ManualClock, type Clock } from '../../server/lib/clock.js';
import { createLogger, type Logger } from '../../server/lib/logger.js';
import { noPdf } from '../../server/deliveries/pdf-renderer.js';
import { wire, type Platform } from '../../server/wiring.js';
import { loopbackTransport, MAIL_FROM } from './mail-worker.js';
import { SmtpSink } from './smtp-sink.js';
import { zoneResolver } from './dns.js';
import { freshDatabase, migratedSqliteFile, testDialect, type FreshDatabase } from './test-database.js';

export const TEST_PUBLIC_URL = 'http://localhost:3000';

export interface TestPlatformOptions<C extends Clock> {
  /**
   * Where mail goes. 'sink' (the default): over real SMTP to an SmtpSink on loopback, read as `sink`.
   * 'capture': no transport is passed to wire, so, as `npm start` without SMTP_URL, mail goes to the
   * embedded capture server, which writes .eml files to DATA_DIR/mailbox.
   */
  mail?: 'sink' | 'capture';
  /** Environment on top of the test defaults (NODE_ENV, DATA_DIR, PUBLIC_URL, LOG_LEVEL, SECRET_KEY, MAIL_FROM). */
  env?: Record<string, string>;
  /** The platform's clock; by default a ManualClock at 2026-11-23T10:00Z that only the test moves. */
  clock?: C;
  /** Render PDFs with Chromium (off by default: letters go without the attachment). */
  pdf?: boolean;
  /**
   * With 'sink' mail: send through the transport the platform builds itself from SMTP_URL (pointed at
   * the sink), with DKIM when `env` sets it, rather than through a plain test transport.
   */
  relay?: boolean;
  /** Hears every interface text a language lacks, or finds only in English. */
  onMissingKey?: (language: string, key: string) => void;
  /** The platform's logger (tests that read what it logs); by default silent, or TEST_LOG_LEVEL. */
  logger?: Logger;
  /** The DNS TXT records replies' DKIM keys are read from (name → record); by default none. */
  dnsTxt?: Record<string, string>;
}

/** A platform whose mail goes to the embedded capture server. */
export interface CaptureTestPlatform<C extends Clock = ManualClock> {
  app: ReturnType<typeof createApp>;
  platform: Platform;
  config: Config;
  clock: C;
  dataDir: string;
  /** Runs the delivery jobs once: creates due rounds and compiles them into queued mail. */
  compileDeliveries(): Promise<number>;
  /** Lets the mail worker send everything due now; returns how many it handled. */
  drainOutbox(): Promise<number>;
  close(): Promise<void>;
}

/** A platform whose mail goes to an SmtpSink. */
export interface TestPlatform<C extends Clock = ManualClock> extends CaptureTestPlatform<C> {
  sink: SmtpSink;
}

/**
 * A second platform on the same database, configuration and clock, as another web process would be: its
 * own connections, services, caches and app, without a mail worker. The caller shuts its platform down.
 */
export async function platformBeside(
  t: Pick<CaptureTestPlatform<Clock>, 'config' | 'clock'>,
): Promise<{ platform: Platform; app: ReturnType<typeof createApp> }> {
  const platform = await wire(t.config, createLogger('silent'), {
    clock: t.clock,
    withWorker: false,
    pdf: noPdf,
  });
  return { platform, app: createApp(platform.appDeps) };
}

/**
 * A whole platform on a fresh database (TEST_DATABASE: an SQLite file in a temporary folder, or a
 * PostgreSQL database of its own, dropped on close), with the mail worker wired in. The
 * worker does not run by itself: tests drain the outbox when they want mail (or start it).
 */
export function createTestPlatform<C extends Clock = ManualClock>(
  options: TestPlatformOptions<C> & { mail: 'capture' },
): Promise<CaptureTestPlatform<C>>;
export function createTestPlatform<C extends Clock = ManualClock>(
  options?: TestPlatformOptions<C> & { mail?: 'sink' },
): Promise<TestPlatform<C>>;
export async function createTestPlatform(
  options: TestPlatformOptions<Clock> = {},
): Promise<TestPlatform<Clock> | CaptureTestPlatform<Clock>> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-test-'));
  const clock = options.clock ?? new ManualClock(new Date('2026-11-23T10:00:00.000Z'));
  let sink: SmtpSink | undefined;
  let config: Config;
  let platform: Platform;
  // On SQLite the platform opens its file in DATA_DIR itself, as `npm start` does (a copy of the run's
  // migrated template, which its migrations find up to date).
  let database: FreshDatabase | undefined;
  try {
    if (testDialect() === 'postgres') database = await freshDatabase(dataDir);
    // The sink starts first: a relay test's SMTP_URL names its port.
    sink = options.mail === 'capture' ? undefined : await new SmtpSink().start();
    ({ config, platform } = await startPlatform(options, dataDir, clock, sink, database?.env ?? {}));
  } catch (error) {
    // A refused configuration (the start-up checks' own tests) leaves no listener, database or folder behind.
    await sink?.stop();
    await database?.remove();
    rmSync(dataDir, { recursive: true, force: true });
    throw error;
  }
  const app = createApp(platform.appDeps);
  return {
    app,
    platform,
    config,
    clock,
    dataDir,
    ...(sink ? { sink } : {}),
    async compileDeliveries() {
      await platform.deliveries.triggerDue();
      return platform.roundCompiling.compilePending();
    },
    async drainOutbox() {
      let total = 0;
      for (
        let handled = await platform.worker!.runOnce();
        handled > 0;
        handled = await platform.worker!.runOnce()
      ) {
        total += handled;
      }
      return total;
    },
    async close() {
      await platform.shutdown();
      await sink?.stop();
      await database?.remove();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Loads the test configuration over `options.env` and wires a platform on it, mail going to `sink`. */
async function startPlatform(
  options: TestPlatformOptions<Clock>,
  dataDir: string,
  clock: Clock,
  sink: SmtpSink | undefined,
  databaseEnv: Record<string, string>,
): Promise<{ config: Config; platform: Platform }> {
  const relay = sink && options.relay ? { SMTP_URL: `smtp://127.0.0.1:${sink.port}` } : {};
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    PUBLIC_URL: TEST_PUBLIC_URL,
    LOG_LEVEL: 'silent',
    SECRET_KEY: 'test-secret-test-secret-test-secret-0123',
    MAIL_FROM,
    // Tests send many messages to example.org; real politeness (1 a second) is tested on its own.
    MAIL_DOMAIN_RATE: '1000',
    // Tests sign many times from one address (supertest's) while the clock stands still; the signing
    // limits themselves are tested with their real defaults (tests/http/signing-limits.test.ts).
    SIGNING_LIMIT_BURST: '100000/60',
    SIGNING_LIMIT_SUSTAINED: '100000/300',
    // A busy test machine must not shed the tests' requests; the shedding tests inject the lag they need.
    OVERLOAD_MAX_LAG_MS: '0',
    ...databaseEnv,
    ...relay,
    ...options.env,
  });
  // A new SQLite file starts as a copy of the run's migrated template instead of being migrated by wire
  // (which still runs the migrations, and finds none to do); a file a test put there is left as it is.
  const file = config.databasePath;
  if (config.database.dialect === 'sqlite' && existsSync(path.dirname(file)) && !existsSync(file))
    await migratedSqliteFile(file);
  const transport = sink && !options.relay ? loopbackTransport(sink.port) : undefined;
  const logger = options.logger ?? createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
  const platform = await wire(config, logger, {
    clock,
    withWorker: true,
    ...(transport ? { transport } : {}),
    // Chromium takes a second to start: only the tests about PDFs ask for it.
    ...(options.pdf ? {} : { pdf: noPdf }),
    ...(options.onMissingKey ? { onMissingKey: options.onMissingKey } : {}),
    // Never the network: replies' keys come from the test's own zone.
    dnsResolver: zoneResolver(options.dnsTxt),
  });
  return { config, platform };
}
