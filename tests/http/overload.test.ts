import { EventEmitter } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Response } from 'express';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import {
  KEPT_ALIVE_BODY_BYTES,
  LAG_SHED_MIN_ANSWERING,
  RequestsInFlight,
} from '../../server/http/overload.js';
import { fixedT, INTERFACE_LANGUAGES } from '../../server/lib/i18n.js';
import { createLetter, signingForm } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { rowCounts } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const METRICS_TOKEN = 'metrics-token-for-the-overload-tests';

/** A response that stays open until the test closes it: a signing admitted and still being answered. */
function heldResponse(): EventEmitter {
  return new EventEmitter();
}

/**
 * Writes `raw` on a new connection and reads one answer's head; `serverEnded` settles when the server
 * ends the connection (the caller ends its own side with `close`).
 */
async function rawExchange(port: number, raw: string) {
  const socket = net.connect(port, '127.0.0.1');
  socket.on('error', () => undefined);
  const serverEnded = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  let received = '';
  const head = await new Promise<string>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('latin1');
      const at = received.indexOf('\r\n\r\n');
      if (at >= 0) resolve(received.slice(0, at + 2));
    });
    socket.write(raw);
  });
  return { head, serverEnded, close: () => socket.destroy() };
}

describe('load shedding', () => {
  let t: TestPlatform;
  let lagMs: number;
  let inFlight: RequestsInFlight;
  let others: EventEmitter[];
  let app: ReturnType<typeof createApp>;
  let slug: string;

  beforeEach(async () => {
    t = await createTestPlatform({
      env: { OVERLOAD_MAX_LAG_MS: '50', OVERLOAD_MAX_IN_FLIGHT: '2', METRICS_TOKEN },
    });
    lagMs = 0;
    inFlight = new RequestsInFlight();
    // Others being answered, as in a surge: a late loop is shed for only then (LAG_SHED_MIN_ANSWERING).
    others = Array.from({ length: LAG_SHED_MIN_ANSWERING }, heldResponse);
    for (const res of others) inFlight.track('other', res as unknown as Response);
    // The event loop's delay and the requests in flight are injected: no real load in a test.
    app = createApp({ ...t.platform.appDeps, load: { lag: { lagMs: () => lagMs }, inFlight } });
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers as usual while the event loop keeps up', async () => {
    lagMs = 50;
    const page = await request(app).get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    expect(page.headers['retry-after']).toBeUndefined();
  });

  it('refuses new requests with a translated 503 page, Retry-After and no-store once the loop lags', async () => {
    // Twice the limit: every new request is refused (below it, a share that grows with the lag).
    lagMs = 100;
    const asked = {
      en: (r: request.Test) => r,
      ko: (r: request.Test) => r.query({ lang: 'ko' }),
      uk: (r: request.Test) => r.set('Cookie', 'us_lang=uk'),
    };
    for (const language of INTERFACE_LANGUAGES) {
      const t503 = fixedT(t.platform.i18n, language);
      const refused = await asked[language](request(app).get(`/letters/${slug}`).set('Accept', 'text/html'));
      expect(refused.status).toBe(503);
      expect(refused.headers['retry-after']).toBe('5');
      expect(refused.headers['cache-control']).toBe('no-store');
      expect(refused.headers['content-language']).toBe(language);
      expect(refused.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(refused.text).toContain(`<html lang="${language}">`);
      // Laid out for a phone's width, in the site's style (the stylesheet is never refused).
      expect(refused.text).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
      expect(refused.text).toContain('<link rel="stylesheet" href="/assets/styles.css">');
      expect(refused.headers['content-security-policy']).toContain("style-src 'self'");
      expect(refused.text).toContain(t503('errors.titles.503'));
      // A page only read: nothing sent is said to be lost (a form's refusal says so, below).
      expect(refused.text).toContain(t503('errors.overloadedRead'));
      expect(refused.text).not.toContain(t503('errors.overloaded'));
      expect(refused.headers['set-cookie']).toBeUndefined();
    }
    const korean = await request(app).get('/').set('Accept-Language', 'ko-KR,ko;q=0.9');
    expect(korean.status).toBe(503);
    expect(korean.headers['content-language']).toBe('ko');
  });

  it('reads the language cookie as the pages do: quoted or URI-encoded', async () => {
    lagMs = 1_000;
    for (const cookie of ['us_lang="uk"', 'us_lang=%75k', 'other=1; us_lang=uk; us_lang=ko']) {
      const refused = await request(app).get('/').set('Cookie', cookie);
      expect(refused.status).toBe(503);
      expect(refused.headers['content-language']).toBe('uk');
    }
  });

  it('refuses in the one error shape to a client that asks for JSON', async () => {
    lagMs = 1_000;
    const refused = await request(app).get('/').set('Accept', 'application/json');
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect(refused.body).toEqual({
      error: {
        status: 503,
        code: 'overloaded',
        message: fixedT(t.platform.i18n, 'en')('errors.overloadedRead'),
      },
    });
  });

  it('admits a lone visitor however late the loop: with no one else being answered, refusing helps no one', async () => {
    lagMs = 10_000;
    for (const res of others.slice(1)) res.emit('close');
    // One other request in flight: the page and a signing are answered as usual.
    expect((await request(app).get(`/letters/${slug}`)).status).toBe(200);
    const visitor = new Visitor(app);
    const signed = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(signed.status).toBe(303);
    // A surge again: others being answered, and the same request is refused.
    for (const res of others.slice(1)) inFlight.track('other', res as unknown as Response);
    expect((await request(app).get(`/letters/${slug}`)).status).toBe(503);
  });

  it('refuses a signing before its body is read, and stores nothing', async () => {
    lagMs = 1_000;
    // A body past the form limit would be a 413 if it were read at all.
    const refused = await request(app)
      .post(`/letters/${slug}/sign`)
      .type('form')
      .send({ ...signingForm(), filler: 'x'.repeat(100_000) });
    expect(refused.status).toBe(503);
    // A form's refusal says what was sent was not saved.
    expect(refused.text).toContain(fixedT(t.platform.i18n, 'en')('errors.overloaded'));
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('keeps the connection after refusing a small form, drops its body, and answers the next request on it', async () => {
    lagMs = 1_000;
    const server = http.createServer(app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const port = (server.address() as AddressInfo).port;
      const form = new URLSearchParams(signingForm()).toString();
      const post =
        `POST /letters/${slug}/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
        `Content-Length: ${form.length}\r\n\r\n${form}`;
      const socket = net.connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      let received = '';
      const answers = (n: number) =>
        new Promise<string[]>((resolve) => {
          const check = () => {
            const heads = received.match(/HTTP\/1\.1 [\s\S]*?\r\n\r\n/g) ?? [];
            if (heads.length >= n) resolve(heads);
          };
          socket.on('data', (chunk: Buffer) => {
            received += chunk.toString('latin1');
            check();
          });
          // A server that closed the connection answers no more: what came is all there is.
          socket.once('end', () => resolve(received.match(/HTTP\/1\.1 [\s\S]*?\r\n\r\n/g) ?? []));
        });
      const two = answers(2);
      // Two refused signings on one connection: the second is read as a request, so the first's body was dropped.
      socket.write(post + post);
      const heads = await two;
      socket.destroy();

      expect(heads.map((h) => h.split('\r\n')[0])).toEqual([
        'HTTP/1.1 503 Service Unavailable',
        'HTTP/1.1 503 Service Unavailable',
      ]);
      expect(heads[0]).toMatch(/\r\nConnection: keep-alive\r\n/i);
      expect(heads[0]).toMatch(/\r\nRetry-After: \d+\r\n/i);
      expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('closes the connection after refusing a request with a large or chunked body, so the body is never read', async () => {
    lagMs = 1_000;
    const server = http.createServer(app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const port = (server.address() as AddressInfo).port;
      // Only the head and a few bytes of a long body are sent: the server must not wait for the rest.
      const withLength = await rawExchange(
        port,
        `POST /letters/${slug}/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
          'Content-Length: 1000000\r\n\r\nname=a',
      );
      expect(withLength.head).toMatch(/^HTTP\/1\.1 503 /);
      expect(withLength.head).toMatch(/\r\nConnection: close\r\n/i);
      // The server ends the connection without waiting for the 999,994 bytes never sent.
      await withLength.serverEnded;

      const chunked = await rawExchange(
        port,
        `POST /letters/${slug}/sign HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nname=a\r\n`,
      );
      expect(chunked.head).toMatch(/^HTTP\/1\.1 503 /);
      expect(chunked.head).toMatch(/\r\nConnection: close\r\n/i);
      await chunked.serverEnded;

      // A body past the kept-alive limit, even one sent whole, is not read either.
      const large = 'name=' + 'a'.repeat(KEPT_ALIVE_BODY_BYTES);
      const whole = await rawExchange(
        port,
        `POST /letters/${slug}/sign HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
          `Content-Length: ${large.length}\r\n\r\n${large}`,
      );
      expect(whole.head).toMatch(/\r\nConnection: close\r\n/i);
      await whole.serverEnded;

      // A request without a body leaves nothing to read: its connection is kept for the next request.
      const get = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(get.head).toMatch(/^HTTP\/1\.1 503 /);
      expect(get.head).toMatch(/\r\nConnection: keep-alive\r\n/i);
      get.close();
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it("keeps answering the health check, the metrics and the pages' own files when it refuses everything else", async () => {
    lagMs = 1_000;
    expect((await request(app).get(`/letters/${slug}`)).status).toBe(503);
    expect((await request(app).get('/healthz')).status).toBe(200);
    // A page answered a moment ago still gets its stylesheet and scripts.
    for (const file of ['/assets/styles.css', '/assets/proof-of-work.js'])
      expect((await request(app).get(file)).status, file).toBe(200);
    const scrape = await request(app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(scrape.status).toBe(200);
    expect(scrape.text).toContain('undersigned_shed_event_loop_lag_seconds');
  });

  it('caps the signings in flight, refuses only signings past the cap, and counts every refusal', async () => {
    const held = [heldResponse(), heldResponse()];
    for (const res of held) inFlight.track('signing', res as unknown as Response);

    const visitor = new Visitor(app);
    const refused = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(refused.status).toBe(503);
    expect(refused.headers['retry-after']).toBe('5');
    expect((await visitor.get(`/letters/${slug}`)).status).toBe(200);

    held[0]!.emit('close');
    const admitted = await visitor.submit(`/letters/${slug}`, `/letters/${slug}/sign`, signingForm());
    expect(admitted.status).toBe(303);
    // The admitted signing is answered and no longer counted; the one still held is.
    expect(inFlight.count('signing')).toBe(1);

    const scrape = await request(app).get('/metrics').set('Authorization', `Bearer ${METRICS_TOKEN}`);
    expect(scrape.text).toContain('undersigned_http_shed_total{kind="signing"} 1');
  });

  it('never cuts off a signing it admitted, however loaded the process becomes while it is answered', async () => {
    const server = http.createServer(app).listen(0, '127.0.0.1');
    try {
      await new Promise((resolve) => server.once('listening', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      // A browser's visit first: the page's cookies and, while the form carries one, its CSRF token.
      const page = await fetch(`${base}/letters/${slug}`);
      const html = await page.text();
      const cookie = page.headers
        .getSetCookie()
        .map((c) => c.split(';')[0])
        .join('; ');
      const token = /name="_csrf" value="([^"]+)"/.exec(html)?.[1];
      const body = new URLSearchParams({ ...signingForm(), ...(token ? { _csrf: token } : {}) }).toString();

      const answer = new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
        const req = http.request(`${base}/letters/${slug}/sign`, {
          method: 'POST',
          headers: {
            'Content-Type': 'application/x-www-form-urlencoded',
            'Content-Length': Buffer.byteLength(body),
            Cookie: cookie,
            Origin: base,
            'Sec-Fetch-Site': 'same-origin',
          },
        });
        req.on('response', (res) => {
          res.resume();
          resolve({ status: res.statusCode!, location: res.headers.location });
        });
        req.on('error', reject);
        // Half the body: the request is admitted on its headers and waits for the rest.
        req.write(body.slice(0, 20));
        const rest = () => {
          if (inFlight.count('signing') === 0) return setTimeout(rest, 5);
          lagMs = 10_000;
          req.end(body.slice(20));
        };
        rest();
      });

      expect(await answer).toEqual({ status: 303, location: `/letters/${slug}/check-your-inbox` });
      expect((await rowCounts(t.platform.db)).signatures).toBe(1);
      expect(inFlight.count('signing')).toBe(0);
      // A new request meets the load the admitted one was spared.
      expect((await fetch(`${base}/letters/${slug}`)).status).toBe(503);
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
