import type { RequestHandler } from 'express';
import type { Logger } from '../lib/logger.js';

/** Tokens in paths (signature links, erase links, invitations) are secrets: logs show the route, never the token. */
export function redactUrl(url: string): string {
  // Case-insensitive because Express routes are: /Signatures/Confirm/<token> reaches the confirm route.
  return url.replace(
    /(\/(?:signatures\/(?:confirm|withdraw|unsubscribe)|privacy\/erase|account\/invite|account\/reset)\/)[^/?#]+/i,
    '$1[token]',
  );
}

/**
 * One log line per request, written when its response is done: method, path (without the query string,
 * which carries what admins search for, and with tokens redacted), status and milliseconds; `error` level
 * for a 5xx, and "request aborted" when the client went away first. The same line pino-http wrote, made
 * without its per-request child logger: binding and serialising each request twice cost ~12 % of the CPU
 * of a cached page (profile of bench/pages.bench.ts).
 */
export function requestLog(logger: Logger, options: { ignore: (url: string) => boolean }): RequestHandler {
  // Each line is made here of fields that hold nothing personal (method, the path with its tokens
  // replaced, status, time), so the logger's redact list, the second line of defence for every other
  // line, is not walked for each request (~2 % of a cached page's CPU).
  const lines = logger.child({}, { redact: [] });
  return (req, res, next) => {
    if (options.ignore(req.url)) return next();
    const start = Date.now();
    const { method, url } = req;
    // A response emits 'close' once, after 'finish' or when its connection closes first.
    res.once('close', () => {
      const entry = {
        req: { method, url: redactUrl(url.split('?')[0]!) },
        res: { statusCode: res.statusCode },
        responseTime: Date.now() - start,
      };
      if (!res.writableFinished) lines.info(entry, 'request aborted');
      else if (res.statusCode >= 500) lines.error(entry, 'request errored');
      else lines.info(entry, 'request completed');
    });
    next();
  };
}
