import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { recordSentRound } from '../support/public-api.js';
import { sign, signAndConfirm } from '../support/signing.js';
import { onEveryStatement } from '../support/statement-capture.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

type Json = Record<string, unknown>;

const body = (response: { text: string }): Json => JSON.parse(response.text) as Json;

/** What no API answer may ever hold: supporters' addresses, and what a supporter chose not to show. */
const PRIVATE = [
  // addresses: every supporter's, and the recipients' (the letter's factory gives them example.org ones)
  '@',
  'example.org',
  'shown.supporter',
  'olena.private',
  'secret.escapee',
  // the counted-only supporter's name, whole and in parts
  'Secret Escapee',
  'Secret',
  'Escapee',
  // the initials supporter's full name, and the organisation only a full name is shown with
  'Olena',
  'Petrenko',
  'Kyiv Relief',
  'Relief Coordinator',
  // the counted-only supporter's organisation; a supporter who never confirmed
  'Hidden Shelter',
  'Pending Person',
];

describe('the public API shows only what is public, to any site, cached, and refuses bad input', () => {
  let t: TestPlatform;
  let slug: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    const now = t.clock.now();
    const letter = await createLetter(t.platform.db, now, {
      texts: [
        { language: 'en', title: 'Protect them', summary: 'In English.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '보호하십시오', summary: '한국어로.', body: SIMPLE_LETTER_BODY },
      ],
    });
    slug = letter.slug;
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug, {
      email: 'shown.supporter@example.org',
      name: 'Kim Ji-hoon',
      organisation: 'Seoul Aid',
      title: 'Caseworker',
    });
    await signAndConfirm(t, visitor, slug, {
      email: 'olena.private@example.org',
      name: 'Olena Petrenko',
      country: 'UA',
      organisation: 'Kyiv Relief',
      title: 'Relief Coordinator',
      display: 'initials',
    });
    await signAndConfirm(t, visitor, slug, {
      email: 'secret.escapee@example.org',
      name: 'Secret Escapee',
      organisation: 'Hidden Shelter',
      display: 'hidden',
    });
    await sign(visitor, slug, { email: 'pending@example.org', name: 'Pending Person' });
    await recordSentRound(t.platform.db, letter.id, now, 3);
    t.clock.advance(5_000);
  });
  afterAll(async () => {
    await t?.close();
  });

  it('never answers a supporter address, a counted-only name or a name beyond what its supporter chose', async () => {
    const bodies: string[] = [];
    const get = async (path: string, headers: Record<string, string> = {}) => {
      const response = await request(t.app).get(path).set(headers);
      bodies.push(response.text);
      return response;
    };
    await get('/api/openapi.json');
    for (const lang of ['', '?lang=ko', '?lang=uk'])
      for (const path of ['/api/v1/letters', `/api/v1/letters/${slug}`]) await get(`${path}${lang}`);
    await get(`/api/v1/letters/${slug}`, { 'Accept-Language': 'ko' });
    // Every page of signatories, one at a time and all at once.
    let next: string | undefined = `/api/v1/letters/${slug}/signatures?per_page=1`;
    const listed: unknown[] = [];
    while (next) {
      const page = body(await get(next));
      listed.push(...(page._embedded as { 'osdi:signatures': unknown[] })['osdi:signatures']);
      next = (page._links as Record<string, { href: string } | undefined>).next?.href.slice(
        TEST_PUBLIC_URL.length,
      );
    }
    await get(`/api/v1/letters/${slug}/signatures?per_page=100`);
    await get('/api/v1/letters/no-such-letter');
    await get('/api/v1/letters?per_page=abc');

    expect(listed).toEqual([
      { name: 'O. P.', country: 'UA', organisation: '', title: '' },
      // Named in full with title and organisation, as the privacy notice says they appear.
      { name: 'Kim Ji-hoon', country: 'KR', organisation: 'Seoul Aid', title: 'Caseworker' },
    ]);
    expect(bodies.length).toBeGreaterThan(10);
    for (const text of bodies) for (const secret of PRIVATE) expect(text).not.toContain(secret);
    // The counted-only supporter is counted all the same.
    expect(body(await get(`/api/v1/letters/${slug}`)).total_signatures).toBe(3);
  });

  it('lets any site read it (CORS, no credentials), answers preflights, and sets no cookie', async () => {
    for (const path of [
      `/api/v1/letters/${slug}?lang=ko`,
      '/api/v1/letters',
      '/api/openapi.json',
      '/api/v1/nope',
    ]) {
      const response = await request(t.app)
        .get(path)
        .set('Origin', 'https://campaign.example')
        .set('Cookie', 'us_lang=uk; us_visitor=abc');
      expect(response.headers['access-control-allow-origin'], path).toBe('*');
      expect(response.headers['access-control-allow-credentials'], path).toBeUndefined();
      expect(response.headers['set-cookie'], path).toBeUndefined();
    }
    const preflight = await request(t.app)
      .options(`/api/v1/letters/${slug}`)
      .set('Origin', 'https://campaign.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'if-none-match');
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-origin']).toBe('*');
    expect(preflight.headers['access-control-allow-methods']).toContain('GET');
    expect(preflight.headers['access-control-allow-headers']?.toLowerCase()).toContain('if-none-match');
    expect(preflight.headers['set-cookie']).toBeUndefined();

    const post = await request(t.app).post('/api/v1/letters').set('Origin', 'https://campaign.example');
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe('GET, HEAD, OPTIONS');
    expect(body(post)).toMatchObject({ error: { status: 405, code: 'method_not_allowed' } });
  });

  it('answers in the letter language asked for by ?lang= or Accept-Language, and says which', async () => {
    const korean = await request(t.app).get(`/api/v1/letters/${slug}?lang=ko`).expect(200);
    expect(body(korean)).toMatchObject({ title: '보호하십시오', description: '한국어로.', language: 'ko' });
    expect(korean.headers.vary).toMatch(/Accept-Language/);
    const header = await request(t.app)
      .get(`/api/v1/letters/${slug}`)
      .set('Accept-Language', 'fr;q=0.9, ko-KR;q=0.8, en;q=0.1')
      .expect(200);
    expect(body(header)).toMatchObject({ language: 'ko', languages: ['en', 'ko'] });
    // A language the letter lacks: its primary language.
    expect(body(await request(t.app).get(`/api/v1/letters/${slug}?lang=ja`).expect(200))).toMatchObject({
      language: 'en',
      title: 'Protect them',
    });
    const list = body(await request(t.app).get('/api/v1/letters').set('Accept-Language', 'ko').expect(200));
    expect((list._embedded as { 'osdi:petitions': Json[] })['osdi:petitions'][0]).toMatchObject({
      language: 'ko',
      browser_url: `${TEST_PUBLIC_URL}/letters/${slug}?text=ko`,
    });
  });

  it('is cacheable: ETag, public Cache-Control with stale-while-revalidate, 304 on If-None-Match', async () => {
    for (const path of [`/api/v1/letters/${slug}`, '/api/v1/letters', `/api/v1/letters/${slug}/signatures`]) {
      const first = await request(t.app).get(path).expect(200);
      expect(first.headers['cache-control'], path).toMatch(
        /^public, max-age=\d+, stale-while-revalidate=\d+$/,
      );
      const etag = first.headers.etag!;
      expect(etag, path).toMatch(/^"[^"]+"$/);
      const again = await request(t.app).get(path).set('If-None-Match', etag);
      expect(again.status, path).toBe(304);
      expect(again.text, path).toBe('');
      expect(again.headers['access-control-allow-origin'], path).toBe('*');
      const other = await request(t.app).get(path).set('If-None-Match', '"something-else"');
      expect(other.status, path).toBe(200);
    }
    // Errors are kept by no one.
    const missing = await request(t.app).get('/api/v1/letters/no-such-letter').expect(404);
    expect(missing.headers['cache-control']).toBe('no-store');
  });

  it('reads a hot letter from the database once per count epoch, and shows a new count in the next', async () => {
    const path = `/api/v1/letters/${slug}`;
    const before = await request(t.app).get(path).expect(200);
    const statements: string[] = [];
    const stop = onEveryStatement((sql) => statements.push(sql));
    try {
      for (let i = 0; i < 5; i++) await request(t.app).get(path).expect(200);
    } finally {
      stop();
    }
    // The request limit counts each request (limit_counters); nothing reads the letter again.
    expect(
      statements.filter((sql) =>
        /\b(letters|letter_texts|signatures|deliveries|letter_recipients)\b/.test(sql),
      ),
    ).toEqual([]);
    expect(statements.length).toBeGreaterThan(0);

    await signAndConfirm(t, new Visitor(t.app), slug, {
      email: 'late.supporter@example.org',
      name: 'Late Comer',
    });
    t.clock.advance(2_000);
    const after = await request(t.app).get(path).set('If-None-Match', before.headers.etag!).expect(200);
    expect(body(after).total_signatures).toBe(4);
    expect(after.headers.etag).not.toBe(before.headers.etag);
  });

  it('refuses hostile input with a 4xx in JSON that says what was wrong, never a 500 or an HTML page', async () => {
    const cases: [string, number, string | undefined][] = [
      ['/api/v1/letters?page=-1', 400, 'page'],
      ['/api/v1/letters?page=0', 400, 'page'],
      ['/api/v1/letters?page=1.5', 400, 'page'],
      ['/api/v1/letters?page=99999999999999999999', 400, 'page'],
      ['/api/v1/letters?per_page=100000', 400, 'per_page'],
      ['/api/v1/letters?per_page=abc', 400, 'per_page'],
      ['/api/v1/letters?per_page=', 400, 'per_page'],
      ['/api/v1/letters?page=1&page=2', 400, 'page'],
      ['/api/v1/letters?lang=%3Cscript%3E', 400, 'lang'],
      [`/api/v1/letters/${slug}?lang=${'x'.repeat(5000)}`, 400, 'lang'],
      [`/api/v1/letters/${slug}/signatures?per_page=0`, 400, 'per_page'],
      [`/api/v1/letters/${slug}/signatures?cursor=not-a-cursor`, 400, 'cursor'],
      [`/api/v1/letters/${slug}/signatures?cursor=${'A'.repeat(300)}`, 400, 'cursor'],
      [`/api/v1/letters/${slug}/signatures?cursor=%00`, 400, 'cursor'],
      ['/api/v1/letters/%ED%95%9C%EA%B8%80', 404, undefined],
      ['/api/v1/letters/..', 404, undefined],
      ['/api/v1/letters/..%2F..%2Fadmin', 404, undefined],
      ['/api/v1/letters/%2e%2e/signatures', 404, undefined],
      // Broken percent-encoding: Express's router refuses it.
      ['/api/v1/letters/%E0%A4%A', 400, undefined],
      ['/api/v1/letters/a%00b', 404, undefined],
      [`/api/v1/letters/${'a'.repeat(5000)}`, 404, undefined],
      ['/api/../admin', 404, undefined],
      ['/api', 404, undefined],
    ];
    for (const [path, status, parameter] of cases) {
      const response = await request(t.app).get(path).set('Accept', 'text/html');
      expect(response.status, path).toBe(status);
      expect(response.headers['content-type'], path).toMatch(/^application\/json/);
      const error = body(response).error as { status: number; code: string; message: string };
      expect(error.status, path).toBe(status);
      expect(error.message, path).not.toMatch(/^api\.|errors\./);
      if (parameter) expect(error.message, path).toContain(parameter);
    }
    // A real cursor, altered by one character, is refused.
    const first = body(await request(t.app).get(`/api/v1/letters/${slug}/signatures?per_page=1`).expect(200));
    const cursor = new URL((first._links as Record<string, { href: string }>).next!.href).searchParams.get(
      'cursor',
    )!;
    const altered = `${cursor.slice(0, 10)}${cursor[10] === 'A' ? 'B' : 'A'}${cursor.slice(11)}`;
    const refused = await request(t.app).get(`/api/v1/letters/${slug}/signatures?cursor=${altered}`);
    expect(refused.status).toBe(400);
    // A cursor gives nothing away: no date, no id in sight.
    expect(Buffer.from(cursor, 'base64url').toString('latin1')).not.toMatch(/20\d\d-|"/);
    // The message is in the language asked for.
    const korean = await request(t.app).get('/api/v1/letters?per_page=abc').set('Accept-Language', 'ko');
    expect((body(korean).error as { message: string }).message).toBe(
      'per_page 매개변수는 1부터 100까지의 정수여야 합니다.',
    );
  });
});
