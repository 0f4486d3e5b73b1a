import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import type { UrlRefused } from '../../server/webhooks/webhook-service.js';
import { signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { textsByClass } from '../support/html.js';
import { csrfTokenIn, type Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** A public address that needs no DNS (this machine has none to the internet). */
const PUBLIC_URL = 'https://93.184.216.34/hooks/undersigned';

describe("a letter's webhook pages", () => {
  let t: TestPlatform;
  let owner: User;
  let ownerVisitor: Visitor;
  let strangerVisitor: Visitor;
  let letterId: number;
  const base = () => `/admin/letters/${letterId}/webhooks`;

  async function post(
    visitor: Visitor,
    action: string,
    fields: Record<string, string | string[]>,
    page = base(),
  ) {
    const form = await visitor.get(page);
    const body = new URLSearchParams();
    for (const [name, value] of Object.entries({ ...fields, _csrf: csrfTokenIn(form.text) }))
      for (const v of Array.isArray(value) ? value : [value]) body.append(name, v);
    return visitor.agent
      .post(action)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send(body.toString());
  }

  const endpoints = () => t.platform.db.selectFrom('webhook_endpoints').selectAll().orderBy('id').execute();

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: owner, visitor: ownerVisitor } = await signedIn(t.app, t.platform, 'organizer'));
    ({ visitor: strangerVisitor } = await signedIn(t.app, t.platform, 'organizer'));
    letterId = (await createLetter(t.platform.db, t.clock.now())).id;
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.id })
      .where('id', '=', letterId)
      .execute();
  });
  afterAll(async () => {
    await t?.close();
  });

  it('registers an endpoint and shows its secret once', async () => {
    const page = await ownerVisitor.get(base());
    expect(page.status).toBe(200);
    // The way back names the letter's page in words, not by its address's slug.
    expect(textsByClass(page.text, 'breadcrumbs')).toEqual(['Back to the letter']);
    const response = await post(ownerVisitor, base(), {
      url: PUBLIC_URL,
      events: ['signature.confirmed', 'letter.delivered'],
    });
    expect(response.status).toBe(201);
    const secret = /id="new-secret"[^>]*value="(whsec_[^"]+)"/.exec(response.text)?.[1];
    const [stored] = await endpoints();
    expect(secret).toBe(stored!.secret);
    expect(stored).toMatchObject({
      url: PUBLIC_URL,
      events: ',signature.confirmed,letter.delivered,',
      enabled: 1,
    });
    const again = await ownerVisitor.get(base());
    expect(again.text).toContain(PUBLIC_URL);
    expect(again.text).not.toContain(secret!);
    expect((await ownerVisitor.get(`${base()}/${stored!.id}`)).text).not.toContain(secret!);
  });

  it('registers nothing when the page that showed the secret is reloaded: the address is already registered', async () => {
    const url = 'https://93.184.216.34/hooks/reloaded';
    const first = await post(ownerVisitor, base(), { url, events: ['letter.published'] });
    expect(first.status).toBe(201);
    const before = await endpoints();
    expect(before.filter((endpoint) => endpoint.url === url)).toHaveLength(1);
    const response = await post(ownerVisitor, base(), { url, events: ['letter.published'] });
    expect(response.status).toBe(422);
    expect(response.text).toContain('id="field-url-error"');
    expect(response.text).toContain('This address is already registered for this letter.');
    expect(response.text).not.toMatch(/id="new-secret"/);
    expect(await endpoints()).toEqual(before);
    // Deleted again, so the tests after this one see the letter's first endpoint only.
    const added = before.find((endpoint) => endpoint.url === url)!;
    const href = `${base()}/${added.id}/delete`;
    expect((await post(ownerVisitor, href, {}, href)).status).toBe(303);
  });

  it('registers one endpoint when two forms with the same address arrive at the same instant', async () => {
    // On PostgreSQL both transactions would read the letter's endpoints before either had written its own.
    const url = 'https://93.184.216.34/hooks/twin-submits';
    const tries = await Promise.allSettled(
      [1, 2, 3].map(() =>
        t.platform.appDeps.webhooks.register(owner, letterId, { url, events: ['letter.published'] }),
      ),
    );
    expect(tries.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(
      tries.flatMap((outcome) =>
        outcome.status === 'rejected' ? [(outcome.reason as UrlRefused).reason] : [],
      ),
    ).toEqual(['registered', 'registered']);
    const registered = (await endpoints()).filter((endpoint) => endpoint.url === url);
    expect(registered).toHaveLength(1);
    // Deleted again, so the tests after this one see the letter's first endpoint only.
    const href = `${base()}/${registered[0]!.id}/delete`;
    expect((await post(ownerVisitor, href, {}, href)).status).toBe(303);
  });

  it('refuses private destinations, plain http and bad input with the form kept, storing nothing', async () => {
    const before = (await endpoints()).length;
    for (const [url, events, field] of [
      ['http://93.184.216.34/hooks', ['letter.published'], 'url'],
      ['https://127.0.0.1/hooks', ['letter.published'], 'url'],
      ['https://169.254.169.254/latest/meta-data/', ['letter.published'], 'url'],
      ['https://[::1]/hooks', ['letter.published'], 'url'],
      ['https://localhost/hooks', ['letter.published'], 'url'],
      ['https://10.0.0.8/hooks', ['letter.published'], 'url'],
      ['https://user:password@93.184.216.34/', ['letter.published'], 'url'],
      ['', ['letter.published'], 'url'],
      [`https://93.184.216.34/${'a'.repeat(2100)}`, ['letter.published'], 'url'],
      ['javascript:alert(1)', ['letter.published'], 'url'],
      [PUBLIC_URL, [], 'events'],
      [PUBLIC_URL, ['letter.published', 'user.deleted'], 'events'],
    ] as const) {
      const response = await post(ownerVisitor, base(), { url, events: [...events] });
      expect(response.status, url.slice(0, 60)).toBe(422);
      expect(response.text, url.slice(0, 60)).toContain(`id="field-${field}-error"`);
      if (url !== '' && url.length < 100)
        expect(response.text).toContain(`value="${url.replace(/&/g, '&amp;')}"`);
    }
    expect(await endpoints()).toHaveLength(before);
  });

  it("refuses another organizer's letter and endpoints with a 403", async () => {
    const [endpoint] = await endpoints();
    expect((await strangerVisitor.get(base())).status).toBe(403);
    expect((await strangerVisitor.get(`${base()}/${endpoint!.id}`)).status).toBe(403);
    const refused = await post(
      strangerVisitor,
      base(),
      { url: PUBLIC_URL, events: ['letter.published'] },
      '/admin',
    );
    expect(refused.status).toBe(403);
    const deleting = await post(strangerVisitor, `${base()}/${endpoint!.id}/delete`, {}, '/admin');
    expect(deleting.status).toBe(403);
    expect(await endpoints()).toHaveLength(1);
  });

  it('disables, enables, rotates and deletes after a confirmation page each', async () => {
    const [endpoint] = await endpoints();
    const href = `${base()}/${endpoint!.id}`;
    const confirm = await ownerVisitor.get(`${href}/disable`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain(`action="${href}/disable"`);
    expect((await endpoints())[0]!.enabled).toBe(1);
    expect((await post(ownerVisitor, `${href}/disable`, {}, `${href}/disable`)).status).toBe(303);
    expect((await endpoints())[0]!.enabled).toBe(0);
    expect((await post(ownerVisitor, `${href}/enable`, {}, `${href}/enable`)).status).toBe(303);
    expect((await endpoints())[0]!.enabled).toBe(1);

    const asking = await ownerVisitor.get(`${href}/rotate`);
    // The page carries a mark of the secret it saw (the start of its SHA-256), never the secret.
    const seen = /name="seen" value="([0-9a-f]{16})"/.exec(asking.text)?.[1];
    expect(seen).toBeDefined();
    expect(asking.text).not.toContain(endpoint!.secret);
    const rotated = await post(ownerVisitor, `${href}/rotate`, { seen: seen! }, `${href}/rotate`);
    expect(rotated.status).toBe(200);
    const secret = /id="new-secret"[^>]*value="(whsec_[^"]+)"/.exec(rotated.text)?.[1];
    const after = (await endpoints())[0]!;
    expect(after.secret).toBe(secret);
    expect(after.previous_secret).toBe(endpoint!.secret);
    // The page that showed the new secret reloaded sends the form again: nothing rotates twice (which
    // would drop the secret the receiver still uses, a day early, for one nobody copied).
    t.clock.advance(1_000);
    const again = await post(ownerVisitor, `${href}/rotate`, { seen: seen! }, `${href}/rotate`);
    expect(again.status).toBe(409);
    expect(again.text).toContain('This secret was changed after the page you sent this from was shown');
    expect(again.text).not.toMatch(/id="new-secret"/);
    expect((await endpoints())[0]).toMatchObject({ secret, previous_secret: endpoint!.secret });

    expect((await ownerVisitor.get(`${href}/nonsense`)).status).toBe(404);
    expect((await post(ownerVisitor, `${href}/delete`, {}, `${href}/delete`)).status).toBe(303);
    expect(await endpoints()).toEqual([]);
  });

  it('shows the delivery log newest first, 25 attempts a page', async () => {
    const registered = await post(ownerVisitor, base(), { url: PUBLIC_URL, events: ['letter.published'] });
    expect(registered.status).toBe(201);
    const [endpoint] = await endpoints();
    const now = t.clock.now().toISOString();
    const delivery = await t.platform.db
      .insertInto('webhook_deliveries')
      .values({
        endpoint_id: endpoint!.id,
        event_id: 'msg_test',
        event_type: 'letter.published',
        payload: '{}',
        status: 'failed',
        next_attempt_at: now,
        claimed_by: null,
        lease_expires_at: null,
        created_at: now,
        finished_at: now,
      })
      .returning('id')
      .executeTakeFirstOrThrow();
    for (let attempt = 1; attempt <= 30; attempt += 1)
      await t.platform.db
        .insertInto('webhook_attempts')
        .values({
          delivery_id: delivery.id,
          endpoint_id: endpoint!.id,
          attempt,
          at: now,
          status_code: 500,
          outcome: 'http-error',
          excerpt: `<b>answer ${attempt}</b>`,
        })
        .execute();
    const first = await ownerVisitor.get(`${base()}/${endpoint!.id}`);
    const rows = (html: string) => [...html.matchAll(/class="webhook-attempt"/g)].length;
    expect(rows(first.text)).toBe(25);
    expect(first.text).toContain('&lt;b&gt;answer 30&lt;/b&gt;');
    expect(first.text).not.toContain('<b>answer');
    const older = /href="([^"]*\?before(?:=|&#x3D;)\d+)"/.exec(first.text)?.[1];
    expect(older).toBeDefined();
    const second = await ownerVisitor.get(older!.replace('&#x3D;', '='));
    expect(rows(second.text)).toBe(5);
    expect(second.text).toContain('answer 1&lt;');
  });
});
