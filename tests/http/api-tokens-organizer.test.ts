import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { tokenHash } from '../../server/api/token.js';
import { signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { byId, hrefsIn, innerHtml, textOf } from '../support/html.js';
import { csrfTokenIn, type Visitor } from '../support/http.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const API = (slug: string) => `/api/v1/organizer/letters/${slug}/signatures`;

/** Supporters of organizer A's letter: one agreed to updates, one did not, one chose to be counted only. */
const SUPPORTERS = [
  { name: 'Kim Consenting', email: 'consenting@example.org', consent: true, display: 'full' as const },
  { name: 'Lee Silent', email: 'not-consenting@example.org', consent: false, display: 'initials' as const },
  { name: 'Park Hidden', email: 'hidden@example.org', consent: false, display: 'hidden' as const },
];

describe('organizer API tokens', () => {
  let t: TestPlatform;
  let ownerA: User;
  let visitorA: Visitor;
  let visitorB: Visitor;
  const letterA = { id: 0, slug: 'letter-of-a' };
  const letterB = { id: 0, slug: 'letter-of-b' };

  /** Creates a token through the page as the visitor would; returns the token read from the page. */
  async function createToken(visitor: Visitor, name: string, lifetime = '90'): Promise<string> {
    const page = await visitor.get('/admin/api-tokens');
    const response = await visitor.agent
      .post('/admin/api-tokens')
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ name, lifetime, _csrf: csrfTokenIn(page.text) });
    expect(response.status).toBe(201);
    expect(response.headers['cache-control']).toContain('no-store');
    const token = /id="new-token"[^>]*value="(ust_[A-Za-z0-9_-]+)"/.exec(response.text)?.[1];
    expect(token, 'the page shows the new token').toBeDefined();
    return token!;
  }

  /** Posts the revoke form of token `id` with the CSRF token of `formPage`'s HTML. */
  const revoke = (visitor: Visitor, id: number, formPage: string) =>
    visitor.agent
      .post(`/admin/api-tokens/${id}/revoke`)
      .type('form')
      .set('Sec-Fetch-Site', 'same-origin')
      .send({ _csrf: csrfTokenIn(formPage) });

  const read = (slug: string, token?: string) => {
    const call = request(t.app).get(API(slug));
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  };

  const lines = (text: string) =>
    text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: ownerA, visitor: visitorA } = await signedIn(t.app, t.platform, 'organizer'));
    const b = await signedIn(t.app, t.platform, 'organizer');
    visitorB = b.visitor;
    letterA.id = (await createLetter(t.platform.db, t.clock.now(), { slug: letterA.slug })).id;
    letterB.id = (await createLetter(t.platform.db, t.clock.now(), { slug: letterB.slug })).id;
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: ownerA.id })
      .where('id', '=', letterA.id)
      .execute();
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: b.user.id })
      .where('id', '=', letterB.id)
      .execute();
    for (const s of SUPPORTERS)
      await storeSignature(t.platform.db, SECRET, letterA.id, {
        ...s,
        status: 'confirmed',
        country: 'KR',
        createdAt: '2026-11-20T10:00:00.000Z',
      });
    await storeSignature(t.platform.db, SECRET, letterB.id, {
      name: 'Supporter of B',
      email: 'b-supporter@example.org',
      consent: true,
      status: 'confirmed',
      country: 'UA',
      createdAt: '2026-11-20T10:00:00.000Z',
    });
  });
  afterAll(async () => {
    await t?.close();
  });

  it('shows a new token once, stores only its hash, and reads the letter with addresses only of supporters who agreed to updates', async () => {
    const token = await createToken(visitorA, 'CRM sync');
    // Stored hashed: the token itself is in no table, the audit log included.
    const stored = await t.platform.db.selectFrom('api_tokens').selectAll().execute();
    expect(stored).toHaveLength(1);
    expect(stored[0]!.token_hash).toBe(tokenHash(token));
    for (const table of ['api_tokens', 'audit_events', 'sessions'] as const) {
      const rows = await t.platform.db.selectFrom(table).selectAll().execute();
      expect(JSON.stringify(rows), table).not.toContain(token);
      expect(JSON.stringify(rows), table).not.toContain(token.slice(12));
    }
    // Shown once: the list afterwards has its name and first characters, never the token.
    const list = await visitorA.get('/admin/api-tokens');
    expect(list.text).toContain('CRM sync');
    expect(list.text).toContain(stored[0]!.prefix);
    expect(list.text).not.toContain(token);

    const response = await read(letterA.slug, token);
    expect(response.status).toBe(200);
    expect(response.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    // Not the public API: no other site's script may read it, and no cache may keep it.
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    expect(response.headers['cache-control']).toBe('no-store');
    const rows = lines(response.text);
    expect(rows).toHaveLength(3);
    const byEmail = rows.map((r) => r.email);
    expect(byEmail.filter((e) => e !== null)).toEqual(['consenting@example.org']);
    // The others' addresses, and full names they did not choose to show, are nowhere in the answer.
    expect(response.text).not.toContain('not-consenting@example.org');
    expect(response.text).not.toContain('hidden@example.org');
    expect(response.text).not.toContain('Lee Silent');
    expect(response.text).not.toContain('Park Hidden');
    expect(rows.map((r) => r.public_name).sort()).toEqual(['', 'Kim Consenting', 'L. S.'].sort());

    // Its use is shown on the list, and audited as an export through a token.
    const used = await t.platform.db
      .selectFrom('api_tokens')
      .select('last_used_at')
      .executeTakeFirstOrThrow();
    expect(used.last_used_at).toBe(t.clock.now().toISOString());
    const exportEntry = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(JSON.parse(exportEntry.details)).toMatchObject({
      via: 'api-token',
      addresses: 'consented',
      rows: 3,
    });
    const created = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'api-token-created')
      .executeTakeFirstOrThrow();
    expect(created.actor_user_id).toBe(ownerA.id);
  });

  it('never places a supporter counted only by a country filter, nor gives an address its owner never confirmed', async () => {
    // A security review found three ways round the letter page's rule: `?country=KP` listed the hidden
    // signer's row (without its country, but under the filter); a withdrawn hidden signer who had agreed
    // to updates came with its country; and a pending signature gave the address whoever signed typed.
    const letterC = await createLetter(t.platform.db, t.clock.now(), { slug: 'letter-of-a-too' });
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: ownerA.id })
      .where('id', '=', letterC.id)
      .execute();
    const at = '2026-11-21T10:00:00.000Z';
    const store = (s: Parameters<typeof storeSignature>[3]) =>
      storeSignature(t.platform.db, SECRET, letterC.id, s);
    await store({
      name: 'Hidden From KP',
      email: 'kp-hidden@example.org',
      status: 'confirmed',
      country: 'KP',
      createdAt: at,
      display: 'hidden',
    });
    await store({
      name: 'Withdrawn From KP',
      email: 'kp-withdrawn@example.org',
      status: 'withdrawn',
      country: 'KP',
      createdAt: at,
      display: 'hidden',
      consent: true,
    });
    await store({
      name: 'Shown From KP',
      email: 'kp-shown@example.org',
      status: 'confirmed',
      country: 'KP',
      createdAt: at,
      display: 'initials',
    });
    await store({
      name: 'Typed By Someone',
      email: 'victim@example.org',
      status: 'pending',
      country: 'KR',
      createdAt: at,
      consent: true,
    });
    const token = await createToken(visitorA, 'Country check');
    const every = 'status=confirmed&status=pending&status=withdrawn';

    const underKp = await request(t.app)
      .get(`${API(letterC.slug)}?${every}&country=KP`)
      .set('Authorization', `Bearer ${token}`);
    expect(underKp.status).toBe(200);
    expect(lines(underKp.text).map((r) => [r.status, r.public_name, r.country])).toEqual([
      ['confirmed', 'S. F. K.', 'KP'],
    ]);

    const all = await request(t.app)
      .get(`${API(letterC.slug)}?${every}`)
      .set('Authorization', `Bearer ${token}`);
    const rows = lines(all.text);
    expect(rows).toHaveLength(4);
    // The hidden and the withdrawn hidden signer: counted, from nowhere.
    expect(rows.filter((r) => r.display === 'hidden').map((r) => [r.status, r.country, r.email])).toEqual([
      ['confirmed', '', null],
      ['withdrawn', '', null],
    ]);
    // Agreed to updates, but nobody confirmed that the address is theirs.
    expect(rows.find((r) => r.status === 'pending')?.email).toBeNull();
    expect(all.text).not.toContain('victim@example.org');
  });

  it("refuses a token of organizer A on organizer B's letter with a 403, and an unknown letter with a 404, in JSON", async () => {
    const token = await createToken(visitorA, 'reader');
    const other = await read(letterB.slug, token).set('Accept', 'text/html');
    expect(other.status).toBe(403);
    expect(other.headers['content-type']).toMatch(/^application\/json/);
    expect(other.body.error.code).toBe('letter_forbidden');
    expect(other.text).not.toContain('b-supporter@example.org');
    const missing = await read('no-such-letter', token);
    expect(missing.status).toBe(404);
    expect(missing.body.error.status).toBe(404);
  });

  it('refuses bad filters with a 400 in JSON, and bad token forms with the form kept', async () => {
    const token = await createToken(visitorA, 'filters');
    for (const query of ['status=bogus', 'country=XX', 'from=2026-13-45', 'consent=maybe']) {
      const response = await request(t.app)
        .get(`${API(letterA.slug)}?${query}`)
        .set('Authorization', `Bearer ${token}`);
      expect(response.status, query).toBe(400);
      expect(response.body.error.code).toBe('invalid_filter');
    }
    const consenting = await request(t.app)
      .get(`${API(letterA.slug)}?consent=yes`)
      .set('Authorization', `Bearer ${token}`);
    expect(lines(consenting.text)).toHaveLength(1);

    const page = await visitorA.get('/admin/api-tokens');
    const before = await t.platform.db.selectFrom('api_tokens').select('id').execute();
    for (const [name, lifetime, field] of [
      ['', '90', 'name'],
      ['x'.repeat(81), '90', 'name'],
      ['line\nbreak', '90', 'name'],
      ['<script>alert(1)</script>', '7', 'lifetime'],
    ] as const) {
      const response = await visitorA.agent
        .post('/admin/api-tokens')
        .type('form')
        .set('Accept', 'text/html')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ name, lifetime, _csrf: csrfTokenIn(page.text) });
      expect(response.status).toBe(422);
      expect(response.text).toContain(`id="field-${field}-error"`);
      expect(response.text).not.toContain('<script>alert(1)</script>');
    }
    expect(await t.platform.db.selectFrom('api_tokens').select('id').execute()).toHaveLength(before.length);
  });
  it('creates nothing when the page that showed a token is reloaded: the form again, saying a working token has that name', async () => {
    await createToken(visitorA, 'Reloaded page');
    const page = await visitorA.get('/admin/api-tokens');
    const count = async () =>
      (await t.platform.db.selectFrom('api_tokens').select('id').where('revoked_at', 'is', null).execute())
        .length;
    const before = await count();
    // A reload sends the same form again; another case of the same name is the same name.
    for (const name of ['Reloaded page', 'RELOADED PAGE']) {
      const response = await visitorA.agent
        .post('/admin/api-tokens')
        .type('form')
        .set('Accept', 'text/html')
        .set('Sec-Fetch-Site', 'same-origin')
        .send({ name, lifetime: '30', _csrf: csrfTokenIn(page.text) });
      expect(response.status).toBe(409);
      expect(textOf(innerHtml(response.text, byId(response.text, 'field-name-error')!))).toContain(
        `You already have a working token called “${name}”. If you did not copy it, revoke it below`,
      );
      expect(response.text).not.toMatch(/value="ust_/);
      expect(byId(response.text, 'field-name')!.attrs.value).toBe(name);
    }
    expect(await count()).toBe(before);
    // Once revoked, the name is free again.
    const { id } = await t.platform.db
      .selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'Reloaded page')
      .executeTakeFirstOrThrow();
    expect((await revoke(visitorA, id, page.text)).status).toBe(303);
    await createToken(visitorA, 'Reloaded page');
  });

  it('creates one token when two forms with the same name arrive at the same instant', async () => {
    // Two tabs, or a double click that the browser sent twice: on PostgreSQL both transactions would read
    // the account's tokens before either had written its own.
    const tries = await Promise.allSettled(
      [1, 2, 3].map(() =>
        t.platform.appDeps.apiTokens.create(ownerA, { name: 'Twin submits', lifetime: 30 }),
      ),
    );
    const refused = tries.filter((outcome) => outcome.status === 'rejected');
    expect(tries.filter((outcome) => outcome.status === 'fulfilled')).toHaveLength(1);
    expect(refused.map((outcome) => (outcome.reason as { code?: string }).code)).toEqual([
      'token_name_taken',
      'token_name_taken',
    ]);
    const named = await t.platform.db
      .selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'Twin submits')
      .execute();
    expect(named).toHaveLength(1);
  });

  it('lists every other account’s working token for an admin, who revokes a leaked one from there', async () => {
    const leaked = await createToken(visitorA, 'leaked laptop');
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const page = await admin.get('/admin/api-tokens');
    const others = textOf(innerHtml(page.text, byId(page.text, 'other-api-tokens')!));
    expect(others).toContain('leaked laptop');
    expect(others).toContain(ownerA.email);
    // Organizers see their own tokens only: no section of others'.
    expect((await visitorB.get('/admin/api-tokens')).text).not.toContain('other-api-tokens');

    const { id } = await t.platform.db
      .selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'leaked laptop')
      .executeTakeFirstOrThrow();
    expect(hrefsIn(innerHtml(page.text, byId(page.text, 'other-api-tokens')!))).toContain(
      `/admin/api-tokens/${id}/revoke`,
    );
    const confirm = await admin.get(`/admin/api-tokens/${id}/revoke`);
    const revoked = await revoke(admin, id, confirm.text);
    expect(revoked.status).toBe(303);
    expect((await read(letterA.slug, leaked)).status).toBe(401);
    // Revoked, it leaves the list of tokens that work.
    const after = await admin.get('/admin/api-tokens');
    expect(after.text).not.toContain('leaked laptop');
  });

  it('answers 401 in JSON for a missing, malformed, unknown, revoked or expired token', async () => {
    // In the language asked for: the organizer API is mounted before the pages' language middleware.
    const korean = await read(letterA.slug).set('Accept-Language', 'ko');
    expect(korean.status).toBe(401);
    expect((korean.body as { error: { message: string } }).error.message).toBe(
      '이 API에는 유효한 토큰이 필요합니다. 폐기되거나 만료되지 않은 토큰을 Authorization: Bearer <토큰> 형식으로 보내십시오.',
    );
    const ukrainian = await request(t.app).get(`${API(letterA.slug)}?lang=uk`);
    expect((ukrainian.body as { error: { message: string } }).error.message).toContain(
      'Для цього API потрібен дійсний токен',
    );
    for (const header of [
      undefined,
      'Bearer',
      'Basic dXNlcjpwYXNz',
      `Bearer ust_${'x'.repeat(43)}`,
      'Bearer ' + 'y'.repeat(5000),
    ]) {
      const call = request(t.app).get(API(letterA.slug));
      const response = header === undefined ? await call : await call.set('Authorization', header);
      expect(response.status, String(header).slice(0, 30)).toBe(401);
      expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
      expect(response.body.error.code).toBe('token_invalid');
    }

    // Revoked through its confirmation page: it stops working at once.
    const token = await createToken(visitorA, 'to revoke');
    expect((await read(letterA.slug, token)).status).toBe(200);
    const { id } = await t.platform.db
      .selectFrom('api_tokens')
      .select('id')
      .where('name', '=', 'to revoke')
      .executeTakeFirstOrThrow();
    // Another organizer can neither see nor revoke it.
    expect((await visitorB.get(`/admin/api-tokens/${id}/revoke`)).status).toBe(403);
    const confirmPage = await visitorB.get('/admin/api-tokens');
    const refused = await revoke(visitorB, id, confirmPage.text);
    expect(refused.status).toBe(403);
    expect((await read(letterA.slug, token)).status).toBe(200);

    const confirm = await visitorA.get(`/admin/api-tokens/${id}/revoke`);
    expect(confirm.status).toBe(200);
    expect(confirm.text).toContain('action="/admin/api-tokens/' + id + '/revoke"');
    const revoked = await revoke(visitorA, id, confirm.text);
    expect(revoked.status).toBe(303);
    expect((await read(letterA.slug, token)).status).toBe(401);
    const entries = (
      await t.platform.db
        .selectFrom('audit_events')
        .selectAll()
        .where('action', '=', 'api-token-revoked')
        .execute()
    ).filter((entry) => (JSON.parse(entry.details) as { tokenId: number }).tokenId === id);
    expect(entries).toHaveLength(1);
    expect(JSON.parse(entries[0]!.details)).toMatchObject({ tokenId: id, name: 'to revoke' });

    // Expired (last: the clock moves past the sessions' lifetime): a 30-day token works on day 29 and not on day 31.
    const shortLived = await createToken(visitorA, 'short', '30');
    t.clock.advance(29 * 86_400_000);
    expect((await read(letterA.slug, shortLived)).status).toBe(200);
    t.clock.advance(2 * 86_400_000);
    expect((await read(letterA.slug, shortLived)).status).toBe(401);
  });
});
