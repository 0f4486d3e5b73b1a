import type { Server } from 'node:http';
import { ConfigError, loadConfig, type Config } from './config.js';
import { flushLogger, type Logger } from './lib/logger.js';

/**
 * A stop signal ends the process within this long, whatever hangs: process managers (systemd, Docker)
 * wait 10 s before SIGKILL, which would cut the database's close and the worker's release of its claims.
 */
export const SHUTDOWN_LIMIT_MS = 9_000;

/** How long requests in flight may take to finish on shutdown before their connections are cut. */
export const REQUEST_GRACE_MS = 5_000;

/** Loads the config or explains what is wrong with it and exits. */
export function configOrExit(): Config {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      console.error(error.message);
      process.exit(1);
    }
    throw error;
  }
}

/**
 * Runs `stop` once on SIGTERM or SIGINT, then writes out the logger's pending lines and exits; a second
 * signal or SHUTDOWN_LIMIT_MS forces the exit.
 */
export function onShutdownSignal(stop: () => Promise<void>, logger: Pick<Logger, 'flush'>): void {
  let stopping = false;
  const handler = (signal: string) => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`\n${signal}: finishing requests and mail in flight, then stopping…`);
    setTimeout(() => {
      console.error(`still stopping after ${SHUTDOWN_LIMIT_MS / 1000} s: exiting now`);
      process.exit(1);
    }, SHUTDOWN_LIMIT_MS).unref();
    // The logger writes asynchronously: exiting at once would drop the batch of lines still in flight.
    stop().then(
      () => flushLogger(logger).then(() => process.exit(0)),
      (error: unknown) => {
        console.error(error);
        return flushLogger(logger).then(() => process.exit(1));
      },
    );
  };
  process.on('SIGTERM', handler);
  process.on('SIGINT', handler);
}

/**
 * What the console says about captured mail at start: where to read it, and that reading it needs an
 * admin's login (the first admin's one-time password is printed just below when it was made now).
 */
export function mailboxNotice(
  config: Pick<Config, 'publicUrl' | 'smtpUrl'>,
  firstAdminCreated: boolean,
): string[] {
  if (config.smtpUrl) return [];
  return [
    `Mail is captured, not sent: read it at ${config.publicUrl}/admin/mailbox`,
    firstAdminCreated
      ? '  First log in there as the admin below, with the one-time password printed for it.'
      : '  First log in there as an admin (npm run user:create -- --email <address> --role admin makes one).',
  ];
}

/**
 * Stops accepting connections and resolves once every open one has closed: requests in flight finish,
 * and each keep-alive connection is closed as soon as it is idle (Node leaves one that was busy at
 * close() open until its keep-alive timeout). After `graceMs`, whatever is still open is cut.
 */
export function closeServer(server: Server, graceMs = REQUEST_GRACE_MS): Promise<void> {
  return new Promise((resolve) => {
    const sweep = setInterval(() => server.closeIdleConnections(), 100);
    const cut = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearInterval(sweep);
      clearTimeout(cut);
      resolve();
    });
    server.closeIdleConnections();
  });
}
