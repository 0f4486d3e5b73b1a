import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { openApiValidator, recordSentRound } from '../support/public-api.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, TEST_PUBLIC_URL, type TestPlatform } from '../support/test-platform.js';

const DAY = 86_400_000;

type Json = Record<string, unknown>;

/** The body of an API answer, parsed whatever its JSON media type (HAL answers are application/hal+json). */
function body(response: { text: string }): Json {
  return JSON.parse(response.text) as Json;
}

describe('the public API answers as its OpenAPI 3.1 document says', () => {
  let t: TestPlatform;
  let document: Json;
  /** Validates `value` against the document's schema `name` (JSON Schema 2020-12), returning Ajv's errors. */
  let validate: (name: string, value: unknown) => unknown[];
  let signed: string;
  let empty: string;
  let closed: string;
  let draft: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    const now = t.clock.now();
    ({ slug: signed } = await createLetter(t.platform.db, now, {
      texts: [
        { language: 'en', title: 'Protect them', summary: 'In English.', body: SIMPLE_LETTER_BODY },
        { language: 'ko', title: '보호하십시오', summary: '한국어로.', body: SIMPLE_LETTER_BODY },
      ],
    }));
    ({ slug: empty } = await createLetter(t.platform.db, now, { goal: null }));
    const closedLetter = await createLetter(t.platform.db, now, {
      status: 'closed',
      closesAt: new Date(now.getTime() - DAY),
    });
    closed = closedLetter.slug;
    ({ slug: draft } = await createLetter(t.platform.db, now, { status: 'draft' }));
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, signed, { email: 'full@example.org', name: 'Kim Ji-hoon' });
    await signAndConfirm(t, visitor, signed, {
      email: 'initials@example.org',
      name: 'Olena Petrenko',
      country: 'UA',
      display: 'initials',
    });
    await signAndConfirm(t, visitor, signed, {
      email: 'hidden@example.org',
      name: 'Hidden Person',
      display: 'hidden',
    });
    await recordSentRound(t.platform.db, closedLetter.id, new Date(now.getTime() - 2 * DAY), 0);
    // Past the count epoch in which the letters were first read: the answers below read them as they are now.
    t.clock.advance(5_000);

    ({ document, validate } = await openApiValidator(t.app));
  });
  afterAll(async () => {
    await t?.close();
  });

  it('is an OpenAPI 3.1 document whose every answer with a body has a schema', () => {
    expect(document.openapi).toMatch(/^3\.1\.\d+$/);
    const paths = document.paths as Record<string, Record<string, { responses: Record<string, Json> }>>;
    expect(Object.keys(paths).sort()).toEqual([
      '/api/openapi.json',
      '/api/v1/letters',
      '/api/v1/letters/{slug}',
      '/api/v1/letters/{slug}/commitments/{round}/consistency',
      '/api/v1/letters/{slug}/signatures',
    ]);
    for (const [path, operations] of Object.entries(paths))
      for (const [method, operation] of Object.entries(operations)) {
        expect(Object.keys(operation.responses), `${method} ${path}`).toContain('200');
        for (const [status, response] of Object.entries(operation.responses)) {
          if (status === '304') continue;
          const content = response.content as Record<string, { schema?: unknown }> | undefined;
          expect(content, `${method} ${path} ${status} has a body`).toBeDefined();
          for (const media of Object.values(content!))
            expect(media.schema, `${method} ${path} ${status}`).toBeDefined();
        }
      }
  });

  it('refuses an answer with a field it does not name (an e-mail address, say)', async () => {
    const letter = body(await request(t.app).get(`/api/v1/letters/${signed}`).expect(200));
    expect(validate('Letter', letter)).toEqual([]);
    expect(validate('Letter', { ...letter, email: 'full@example.org' })).not.toEqual([]);
    const page = body(await request(t.app).get(`/api/v1/letters/${signed}/signatures`).expect(200));
    const embedded = page._embedded as { 'osdi:signatures': Json[] };
    const withAddress = {
      ...page,
      _embedded: { 'osdi:signatures': [{ ...embedded['osdi:signatures'][0], email: 'full@example.org' }] },
    };
    expect(validate('SignatureList', withAddress)).not.toEqual([]);
  });

  it('lists the published letters a page at a time, each page valid, drafts never', async () => {
    const first = await request(t.app).get('/api/v1/letters?per_page=2').expect(200);
    expect(first.headers['content-type']).toBe('application/hal+json; charset=utf-8');
    const one = body(first);
    expect(validate('LetterList', one)).toEqual([]);
    expect(one).toMatchObject({ total_records: 3, total_pages: 2, page: 1, per_page: 2 });
    const links = one._links as Record<string, { href: string }>;
    expect(links.next!.href).toBe(`${TEST_PUBLIC_URL}/api/v1/letters?page=2&per_page=2`);
    expect(links.prev).toBeUndefined();

    const two = body(
      await request(t.app).get(new URL(links.next!.href).pathname + new URL(links.next!.href).search),
    );
    expect(validate('LetterList', two)).toEqual([]);
    expect((two._links as Json).next).toBeUndefined();
    expect((two._links as Record<string, { href: string }>).prev!.href).toBe(
      `${TEST_PUBLIC_URL}/api/v1/letters?per_page=2`,
    );
    const slugs = [one, two].flatMap((page) =>
      (page._embedded as { 'osdi:petitions': { slug: string }[] })['osdi:petitions'].map((p) => p.slug),
    );
    expect(slugs.sort()).toEqual([signed, empty, closed].sort());
    expect(slugs).not.toContain(draft);

    const all = body(await request(t.app).get('/api/v1/letters').expect(200));
    expect(validate('LetterList', all)).toEqual([]);
    // Past the last page: an empty page, still valid, that links back.
    const past = body(await request(t.app).get('/api/v1/letters?page=9').expect(200));
    expect(validate('LetterList', past)).toEqual([]);
    expect((past._embedded as { 'osdi:petitions': unknown[] })['osdi:petitions']).toEqual([]);
  });

  it('answers a letter with signatures, countries, recipients and deliveries, valid', async () => {
    const letter = body(await request(t.app).get(`/api/v1/letters/${signed}`).expect(200));
    expect(validate('Letter', letter)).toEqual([]);
    expect(letter).toMatchObject({
      identifiers: [`undersigned:${signed}`],
      title: 'Protect them',
      description: 'In English.',
      language: 'en',
      languages: ['en', 'ko'],
      total_signatures: 3,
      goal: 100,
      status: 'open',
      signing: 'open',
      // Three signatures, the one counted without its name (from KR) placed in no country.
      countries: [
        { country: 'KR', count: 1 },
        { country: 'UA', count: 1 },
      ],
      recipients: [
        {
          name: 'Embassy of Testland',
          title: 'Ambassador',
          institution: 'Embassy of Testland',
          country: 'KR',
        },
      ],
      deliveries: [],
    });
    expect((letter._links as Record<string, { href: string }>)['osdi:signatures']!.href).toBe(
      `${TEST_PUBLIC_URL}/api/v1/letters/${signed}/signatures`,
    );

    const delivered = body(await request(t.app).get(`/api/v1/letters/${closed}`).expect(200));
    expect(validate('Letter', delivered)).toEqual([]);
    expect(delivered).toMatchObject({
      status: 'closed',
      signing: 'closed',
      deliveries: [{ institution: 'Embassy of Testland', recipients: 1, signatures: 0 }],
    });

    const nothing = body(await request(t.app).get(`/api/v1/letters/${empty}`).expect(200));
    expect(validate('Letter', nothing)).toEqual([]);
    expect(nothing).toMatchObject({ total_signatures: 0, goal: null, countries: [], deliveries: [] });
  });

  it('pages through the public signatories by cursor, each page valid, to the end', async () => {
    const names: string[] = [];
    let next: string | undefined = `/api/v1/letters/${signed}/signatures?per_page=1`;
    let pages = 0;
    while (next) {
      const page = body(await request(t.app).get(next).expect(200));
      expect(validate('SignatureList', page)).toEqual([]);
      names.push(
        ...(page._embedded as { 'osdi:signatures': { name: string }[] })['osdi:signatures'].map(
          (s) => s.name,
        ),
      );
      const href = (page._links as Record<string, { href: string } | undefined>).next?.href;
      next = href ? href.slice(TEST_PUBLIC_URL.length) : undefined;
      pages += 1;
      expect(pages).toBeLessThan(5);
    }
    // Newest first; the counted-only supporter is not listed.
    expect(names).toEqual(['O. P.', 'Kim Ji-hoon']);

    const none = body(await request(t.app).get(`/api/v1/letters/${empty}/signatures`).expect(200));
    expect(validate('SignatureList', none)).toEqual([]);
    expect(none._embedded).toEqual({ 'osdi:signatures': [] });
    expect((none._links as Json).next).toBeUndefined();
  });

  it('answers each operation with the status, media type and schema its own entry in the document declares', async () => {
    // Each request is matched to its path template, and its answer validated against the schema that
    // operation declares for that status and media type (not a schema picked by the test): a document
    // that names the wrong schema, status or media type for an operation fails here.
    const operations = document.paths as Record<
      string,
      { get: { responses: Record<string, { content?: Record<string, { schema: unknown }> }> } }
    >;
    const requests: [string, string, number][] = [
      ['/api/v1/letters?per_page=2&page=2', '/api/v1/letters', 200],
      ['/api/v1/letters?lang=ko', '/api/v1/letters', 200],
      ['/api/v1/letters?page=0', '/api/v1/letters', 400],
      [`/api/v1/letters/${signed}?lang=ko`, '/api/v1/letters/{slug}', 200],
      [`/api/v1/letters/${closed}`, '/api/v1/letters/{slug}', 200],
      [`/api/v1/letters/${draft}`, '/api/v1/letters/{slug}', 404],
      [`/api/v1/letters/${signed}?lang=%3C`, '/api/v1/letters/{slug}', 400],
      [`/api/v1/letters/${signed}/signatures?per_page=1`, '/api/v1/letters/{slug}/signatures', 200],
      [`/api/v1/letters/${signed}/signatures?cursor=nope`, '/api/v1/letters/{slug}/signatures', 400],
      ['/api/v1/letters/no-such-letter/signatures', '/api/v1/letters/{slug}/signatures', 404],
      ['/api/openapi.json', '/api/openapi.json', 200],
    ];
    const schemaOf = (schema: unknown) =>
      (schema as { $ref?: string }).$ref?.replace('#/components/schemas/', '') ?? schema;
    for (const [path, template, status] of requests) {
      const response = await request(t.app).get(path);
      expect(response.status, path).toBe(status);
      const declared = operations[template]!.get.responses[String(status)];
      expect(declared, `${path}: ${status} is declared`).toBeDefined();
      const media = response.headers['content-type']!.split(';')[0]!;
      const content = declared!.content?.[media];
      expect(content, `${path}: ${media} is declared for ${status}`).toBeDefined();
      const schema = schemaOf(content!.schema);
      if (typeof schema === 'string') expect(validate(schema, body(response)), path).toEqual([]);
      else expect(schema, path).toEqual({ type: 'object' });
    }
  });

  it('answers errors in the one error shape, valid against the Error schema', async () => {
    for (const path of [
      `/api/v1/letters/${draft}`,
      '/api/v1/letters/no-such-letter',
      `/api/v1/letters/${draft}/signatures`,
      '/api/v1/nothing-here',
    ]) {
      const response = await request(t.app).get(path).set('Accept', 'text/html');
      expect(response.status, path).toBe(404);
      expect(response.headers['content-type'], path).toMatch(/^application\/json/);
      expect(validate('Error', body(response)), path).toEqual([]);
    }
    const bad = await request(t.app).get('/api/v1/letters?per_page=abc').expect(400);
    expect(validate('Error', body(bad))).toEqual([]);
  });
});
