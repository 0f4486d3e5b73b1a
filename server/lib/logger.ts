import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Letter bodies, e-mail addresses and tokens must never reach them: the redact list is a
 * second line of defence behind not logging them in the first place.
 */
export function createLogger(level: string): Logger {
  return pino(
    {
      level,
      redact: {
        paths: [
          'email',
          '*.email',
          'to',
          '*.to',
          'token',
          '*.token',
          'req.headers.cookie',
          'res.headers["set-cookie"]',
        ],
        censor: '[redacted]',
      },
    },
    // Written asynchronously, 4 kB (some 25 request lines) at a time and at least every second: a busy
    // server makes one write for many requests instead of a blocking write per line (~4 % of a cached
    // page's CPU), and a quiet one shows each line within a second. A stop signal waits for flushLogger
    // before exiting (pino's own flush at exit skips a batch whose write is in flight); a process killed
    // outright (SIGKILL) loses at most that second.
    pino.destination({ dest: 1, sync: false, minLength: 4096, periodicFlush: 1000 }),
  );
}

/**
 * Resolves once the lines logged so far have been written (or writing them failed: a closed stdout must
 * not keep the process from exiting).
 */
export function flushLogger(logger: Pick<Logger, 'flush'>): Promise<void> {
  return new Promise((resolve) => logger.flush(() => resolve()));
}
