import { pino, type Logger } from 'pino';

export type { Logger };

/**
 * Structured logs. Letter bodies, e-mail addresses and tokens must never reach them: the redact list is a
 * second line of defence behind not logging them in the first place.
 */
export function createLogger(level: string): Logger {
  return pino({
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
  });
}
