import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { createLetter, signingForm } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { sign, signatureLinks, lastMailTo, tokenOf } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const TOKEN = 'a-long-random-metrics-token-0123456789';

describe('/metrics', () => {
  let t: TestPlatform;
  afterEach(async () => {
    await t.close();
  });

  const scrape = (token = TOKEN) => request(t.app).get('/metrics').set('Authorization', `Bearer ${token}`);

  it('does not exist without METRICS_TOKEN', async () => {
    t = await createTestPlatform();
    expect((await request(t.app).get('/metrics')).status).toBe(404);
    expect((await scrape('anything-at-all-anything')).status).toBe(404);
  });

  it('answers only the right bearer token, and otherwise as any unknown page', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    // The page an unknown address gets, with the address it names (the language links come back to it).
    const unknown = (await request(t.app).get('/no-such-page')).text.replaceAll('no-such-page', 'metrics');
    for (const refused of [
      await request(t.app).get('/metrics'),
      await scrape(`${TOKEN}x`),
      await scrape(TOKEN.slice(0, -1)),
      await request(t.app).get('/metrics').set('Authorization', TOKEN),
      await request(t.app).get('/metrics').set('Authorization', `Basic ${TOKEN}`),
    ]) {
      expect(refused.status).toBe(404);
      expect(refused.text).toBe(unknown);
    }
    const scraped = await scrape();
    expect(scraped.status).toBe(200);
    expect(scraped.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(scraped.headers['cache-control']).toBe('no-store');
  });

  it('shows request latency by route pattern, signatures, the queue and the event loop', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await sign(visitor, slug);
    await sign(visitor, slug, { email: 'second@example.org', name: 'Second Signer' });
    t.clock.advance(90_000);

    const text = (await scrape()).text;
    expect(text).toMatch(
      /undersigned_http_request_duration_seconds_bucket\{le="[^"]+",route="\/letters\/:slug\/sign",method="POST",status_class="3xx"\} 2/,
    );
    expect(text).toMatch(
      /undersigned_http_request_duration_seconds_count\{route="\/letters\/:slug",method="GET",status_class="2xx"\} 2/,
    );
    expect(text).toContain('undersigned_signatures_received_total 2');
    expect(text).toContain('undersigned_signatures_confirmed 0');
    expect(text).toContain('undersigned_outbox_messages{status="queued"} 2');
    expect(text).toContain('undersigned_outbox_messages{status="failed"} 0');
    expect(text).toContain('undersigned_outbox_oldest_waiting_age_seconds 90');
    expect(text).toContain('undersigned_http_shed_total');
    expect(text).toContain('undersigned_shed_event_loop_lag_seconds');
    expect(text).toContain('nodejs_eventloop_lag_seconds');
    expect(text).toContain('process_cpu_seconds_total');
  });

  it('follows the queue as the worker sends, and confirmations as supporters confirm', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await sign(visitor, slug);
    await t.drainOutbox();
    const { confirm } = signatureLinks(lastMailTo(t, 'ji-hoon@example.org'));
    expect((await visitor.submit(confirm, confirm, {})).status).toBe(303);

    const text = (await scrape()).text;
    expect(text).toContain('undersigned_outbox_messages{status="queued"} 0');
    expect(text).toContain('undersigned_outbox_oldest_waiting_age_seconds 0');
    expect(text).toContain('undersigned_signatures_confirmed 1');
  });

  it('counts a route under a mount as one series, however the address spells the mount', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    for (const path of ['/admin/queue', '/ADMIN/queue', '/Admin/queue'])
      expect((await visitor.get(path)).status).toBe(200);

    const text = (await scrape()).text;
    expect(text).toMatch(
      /undersigned_http_request_duration_seconds_count\{route="\/admin\/queue",method="GET",status_class="2xx"\} 3/,
    );
    expect(text).not.toMatch(/route="\/(ADMIN|Admin)\//);
  });

  it('counts a refused request under its mount too: API and admin errors are not filed under a shorter route', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    expect((await request(t.app).get('/api/v1/letters/no-such-letter')).status).toBe(404);
    expect((await request(t.app).get('/api/v1/letters?per_page=abc')).status).toBe(400);
    expect((await request(t.app).options('/api/v1/letters')).status).toBe(204);
    expect((await visitor.get('/admin/letters/999999')).status).toBe(404);

    const text = (await scrape()).text;
    const count = (route: string, method: string, statusClass: string) =>
      new RegExp(
        `undersigned_http_request_duration_seconds_count\\{route="${route}",method="${method}",status_class="${statusClass}"\\} 1`,
      );
    expect(text).toMatch(count('/api/v1/letters/:slug', 'GET', '4xx'));
    expect(text).toMatch(count('/api/v1/letters', 'GET', '4xx'));
    expect(text).toMatch(count('/api/\\*', 'other', '2xx'));
    expect(text).toMatch(count('/admin/letters/:id', 'GET', '4xx'));
    expect(text).not.toMatch(/route="\/v1\//);
    expect(text).not.toMatch(/route="\/letters\/:id"/);
  });

  it('never shows an address, a name or a token, only route patterns', async () => {
    t = await createTestPlatform({ env: { METRICS_TOKEN: TOKEN } });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    const form = signingForm();
    await sign(visitor, slug);
    await t.drainOutbox();
    const { confirm, withdraw } = signatureLinks(lastMailTo(t, form.email!));
    await visitor.get(confirm);
    await visitor.get(withdraw);
    await visitor.get('/signatures/confirm/not-a-real-token-at-all');

    const text = (await scrape()).text;
    expect(text).toContain('route="/signatures/confirm/:token"');
    for (const secret of [
      form.email!,
      form.name!,
      tokenOf(confirm),
      tokenOf(withdraw),
      'not-a-real-token',
      TOKEN,
    ])
      expect(text).not.toContain(secret);
  });
});
