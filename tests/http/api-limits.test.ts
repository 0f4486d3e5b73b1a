import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { EventEmitter } from 'node:events';
import type { Response } from 'express';
import { LAG_SHED_MIN_ANSWERING, RequestsInFlight } from '../../server/http/overload.js';
import { createLetter } from '../support/factories.js';
import { openApiValidator } from '../support/public-api.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** Requests in flight as in a surge: others being answered, whom a late loop is shed for. */
function surge(): RequestsInFlight {
  const inFlight = new RequestsInFlight();
  for (let i = 0; i < LAG_SHED_MIN_ANSWERING; i += 1)
    inFlight.track('other', new EventEmitter() as unknown as Response);
  return inFlight;
}

describe('the public API is limited per client address', () => {
  let t: TestPlatform;
  let slug: string;
  let validate: (schema: string, value: unknown) => unknown[];
  beforeAll(async () => {
    t = await createTestPlatform({ env: { API_LIMIT: '3/60' } });
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
    // The document's read counts against the limit too: the window then moves past it.
    ({ validate } = await openApiValidator(t.app));
    t.clock.advance(61_000);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('answers past the limit with 429, Retry-After and a JSON error any site can read, then again after the window', async () => {
    for (const path of ['/api/v1/letters', `/api/v1/letters/${slug}`, `/api/v1/letters/${slug}/signatures`])
      expect((await request(t.app).get(path)).status, path).toBe(200);
    const refused = await request(t.app)
      .get(`/api/v1/letters/${slug}`)
      .set('Accept', 'text/html')
      .set('Accept-Language', 'uk')
      .set('Origin', 'https://campaign.example');
    expect(refused.status).toBe(429);
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    expect(refused.headers['cache-control']).toBe('no-store');
    const wait = Number(refused.headers['retry-after']);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    const error = (JSON.parse(refused.text) as { error: { status: number; code: string; message: string } })
      .error;
    expect(error).toMatchObject({ status: 429, code: 'too_many_requests' });
    expect(validate('Error', JSON.parse(refused.text))).toEqual([]);
    // In the language asked for, saying how long to wait.
    expect(error.message).toMatch(/[А-Яа-яІіЇїЄє]/);
    expect(error.message).toMatch(/\d/);
    // Another path is the same client: refused too. A page of the site is not counted with the API.
    expect((await request(t.app).get('/api/openapi.json')).status).toBe(429);
    expect((await request(t.app).get(`/letters/${slug}`)).status).toBe(200);

    t.clock.advance(61_000);
    expect((await request(t.app).get(`/api/v1/letters/${slug}`)).status).toBe(200);
  });

  it('sheds load under /api with a JSON 503 any site can read, whatever the client accepts', async () => {
    // The event loop's delay is injected (twice the limit: every new request is refused).
    const shedding = createApp({
      ...t.platform.appDeps,
      // Shedding on in this app only: the other test's app must not shed on a busy test machine.
      config: { ...t.config, overload: { maxLagMs: 50, maxInFlight: 128 } },
      load: { lag: { lagMs: () => 100 }, inFlight: surge() },
    });
    const refused = await request(shedding)
      .get(`/api/v1/letters/${slug}`)
      .set('Accept', 'text/html')
      .set('Origin', 'https://campaign.example');
    expect(refused.status).toBe(503);
    expect(refused.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(refused.headers['access-control-allow-origin']).toBe('*');
    expect(refused.headers['retry-after']).toBeDefined();
    expect(JSON.parse(refused.text)).toMatchObject({ error: { status: 503, code: 'overloaded' } });
    expect(validate('Error', JSON.parse(refused.text))).toEqual([]);
    // A page of the site is still refused as a page.
    const page = await request(shedding).get(`/letters/${slug}`).set('Accept', 'text/html');
    expect(page.status).toBe(503);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.headers['access-control-allow-origin']).toBeUndefined();
  });
});
