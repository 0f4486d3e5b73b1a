import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

describe('/healthz, for load balancers and monitors', () => {
  let t: TestPlatform | undefined;
  afterEach(async () => {
    await t?.close().catch(() => {});
    t = undefined;
  });

  it('answers ok while the database answers, never from a cache', async () => {
    t = await createTestPlatform();
    const response = await request(t.app).get('/healthz');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ status: 'ok' });
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('answers 503 once the database no longer answers, so traffic goes to a process that can serve it', async () => {
    t = await createTestPlatform();
    // An operator walkthrough stopped PostgreSQL: every page answered 500 and /healthz still said ok.
    await t.platform.database.close();
    const response = await request(t.app).get('/healthz');
    expect(response.status).toBe(503);
    expect(response.body).toEqual({ status: 'unavailable', database: 'no answer' });
  });
});
