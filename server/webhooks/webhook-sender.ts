import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import {
  AddressRefused,
  checkedAddress,
  hostOf,
  systemResolver,
  urlProblem,
  type Resolver,
} from './webhook-address.js';
import { ATTEMPT_TIMEOUT_MS, excerptOf, type AttemptOutcome } from './webhook.js';

/** What one attempt came to. */
export interface SendResult {
  outcome: AttemptOutcome;
  statusCode: number | null;
  excerpt: string;
  durationMs: number;
}

/** Posts one signed webhook; never throws (every failure is a result the log shows). */
export type WebhookSender = (
  url: string,
  body: string,
  headers: Record<string, string>,
) => Promise<SendResult>;

/** How much of an answer is read at most: the log keeps an excerpt, the rest is not wanted. */
const READ_LIMIT_BYTES = 16 * 1024;

/**
 * The sender: one POST, no redirect followed (a 3xx is a failed attempt, like any non-2xx), a limit on
 * the whole attempt, and the SSRF guard at the moment of sending: the host is resolved once here, every
 * address checked, and the connection made to the checked address (http.request's `lookup` answers with
 * it), so a second resolution cannot swap in a private one. TLS still checks the certificate for the
 * name in the URL.
 */
export function createWebhookSender(options: {
  allowPrivate: boolean;
  timeoutMs?: number;
  resolve?: Resolver;
}): WebhookSender {
  const timeoutMs = options.timeoutMs ?? ATTEMPT_TIMEOUT_MS;
  const resolve = options.resolve ?? systemResolver;
  return async (target, body, headers) => {
    const started = Date.now();
    const result = (outcome: AttemptOutcome, statusCode: number | null, excerpt: string): SendResult => ({
      outcome,
      statusCode,
      excerpt: excerptOf(excerpt),
      durationMs: Date.now() - started,
    });
    if (urlProblem(target, options.allowPrivate) !== null)
      return result('refused-address', null, 'the address is not allowed for webhooks');
    const url = new URL(target);
    let checked: { address: string; family: number };
    try {
      checked = await checkedAddress(hostOf(url), options.allowPrivate, resolve);
    } catch (error) {
      return result(
        error instanceof AddressRefused && error.reason === 'unresolved'
          ? 'network-error'
          : 'refused-address',
        null,
        error instanceof Error ? error.message : 'refused',
      );
    }
    // Node asks this for the connection's address: it gets the one checked above, whatever DNS says now.
    const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
      if ((lookupOptions as { all?: boolean }).all)
        (callback as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [checked]);
      else callback(null, checked.address, checked.family);
    };
    return new Promise<SendResult>((done) => {
      let settled = false;
      const finish = (value: SendResult) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        done(value);
      };
      const request = (url.protocol === 'https:' ? https : http).request(
        url,
        {
          method: 'POST',
          lookup: pinned,
          agent: false,
          headers: {
            ...headers,
            'content-type': 'application/json',
            'content-length': String(Buffer.byteLength(body)),
            'user-agent': 'Undersigned-Webhooks/1',
          },
        },
        (response) => {
          const chunks: Buffer[] = [];
          let size = 0;
          response.on('data', (chunk: Buffer) => {
            if (size < READ_LIMIT_BYTES) chunks.push(chunk);
            size += chunk.length;
            if (size >= READ_LIMIT_BYTES) response.destroy();
          });
          const answered = () => {
            const status = response.statusCode ?? 0;
            const text = Buffer.concat(chunks).subarray(0, READ_LIMIT_BYTES).toString('utf8');
            finish(result(status >= 200 && status < 300 ? 'delivered' : 'http-error', status, text));
          };
          response.on('end', answered);
          response.on('close', answered);
          response.on('error', answered);
        },
      );
      const timer = setTimeout(() => {
        request.destroy(new Error('timed out'));
        finish(result('timeout', null, `no answer within ${timeoutMs / 1000} s`));
      }, timeoutMs);
      request.on('error', (error) => finish(result('network-error', null, error.message)));
      request.end(body);
    });
  };
}
