import request from 'supertest';
import type { Response } from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../server/app.js';
import { createLetter, signingForm } from '../support/factories.js';
import { rowCounts } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/**
 * The signing lane (app.ts) answers the signing form's POST ahead of the chain, with the middleware of
 * the chain that can apply to it. Every answer it gives must be the one the same route gives in its usual
 * place: each request here goes to both, and status, headers and body must match.
 */

/** Headers that differ between two identical answers: the time, and the request limit's own count. */
const PER_ANSWER = new Set(['date', 'ratelimit', 'connection', 'keep-alive']);

function comparable(response: Response) {
  const headers = Object.fromEntries(
    Object.entries(response.headers).filter(([name]) => !PER_ANSWER.has(name)),
  );
  return {
    status: response.status,
    headers,
    // Both carry the request limit's headers; only the count left differs.
    limitHeaders: 'ratelimit' in response.headers && 'ratelimit-policy' in response.headers,
    body: response.text,
  };
}

interface Case {
  name: string;
  status: number;
  path: (slug: string) => string;
  /** The form's fields, or a raw body. */
  form?: Record<string, string>;
  /** It stores a signing: each app's gets an address of its own (of the same length). */
  stores?: true;
  raw?: { type: string; body: string };
  headers?: Record<string, string>;
  slug?: 'open' | 'closed' | 'unknown';
}

const SAME_ORIGIN = { 'Sec-Fetch-Site': 'same-origin', Accept: 'text/html' };

const CASES: Case[] = [
  {
    name: 'a valid signing',
    status: 303,
    stores: true,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm(),
  },
  {
    name: 'a valid signing in Ukrainian, by ?lang=',
    status: 303,
    stores: true,
    path: (s) => `/letters/${s}/sign?lang=uk`,
    form: signingForm(),
  },
  {
    name: 'a form without a name, the us_lang cookie saying Korean',
    status: 422,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm({ name: '' }),
    headers: { Cookie: 'us_lang=ko' },
  },
  {
    name: 'a form without the privacy box, Accept-Language Ukrainian, from the embed',
    status: 422,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm({ privacy: '', embed: '1' }),
    headers: { 'Accept-Language': 'uk-UA,uk;q=0.9' },
  },
  {
    name: 'the honeypot filled in',
    status: 303,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm({ website: 'https://spam.example' }),
  },
  {
    name: 'a post from another site',
    status: 403,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm(),
    headers: { 'Sec-Fetch-Site': 'cross-site' },
  },
  {
    name: 'an Origin of another site without Fetch Metadata',
    status: 403,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm(),
    headers: { 'Sec-Fetch-Site': '', Origin: 'https://evil.example' },
  },
  {
    // Not a form: nothing is read from it, so the form comes back with its fields missing.
    name: 'a JSON body',
    status: 422,
    path: (s) => `/letters/${s}/sign`,
    raw: { type: 'application/json', body: JSON.stringify(signingForm()) },
  },
  {
    name: 'a body over the limit',
    status: 413,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm({ organisation: 'x'.repeat(64 * 1024) }),
  },
  {
    name: 'a broken %-escape',
    status: 400,
    path: (s) => `/letters/${s}/sign`,
    raw: { type: 'application/x-www-form-urlencoded', body: 'name=Kim%ZZ&email=a%40example.org' },
  },
  {
    name: 'the path in capitals with a trailing slash',
    status: 303,
    stores: true,
    path: (s) => `/LETTERS/${s}/SIGN/`,
    form: signingForm(),
  },
  { name: 'an unknown letter', status: 404, path: () => '/letters/no-such-letter/sign', form: signingForm() },
  {
    name: 'a closed letter',
    status: 409,
    path: (s) => `/letters/${s}/sign`,
    form: signingForm(),
    slug: 'closed',
  },
];

describe('the signing lane', () => {
  let t: TestPlatform;
  let lane: ReturnType<typeof createApp>;
  let chain: ReturnType<typeof createApp>;
  let open: string;
  let closed: string;

  beforeAll(async () => {
    t = await createTestPlatform();
    lane = t.app;
    chain = createApp(t.platform.appDeps, { signingLane: false });
    open = (await createLetter(t.platform.db, t.clock.now())).slug;
    closed = (
      await createLetter(t.platform.db, t.clock.now(), { closesAt: new Date(t.clock.now().getTime() - 1000) })
    ).slug;
  });
  afterAll(async () => {
    await t.close();
  });

  const send = (app: ReturnType<typeof createApp>, c: Case, email: string) => {
    const slug = c.slug === 'closed' ? closed : open;
    const post = request(app)
      .post(c.path(slug))
      .set({ ...SAME_ORIGIN, ...c.headers });
    if (c.raw) return post.type(c.raw.type).send(c.raw.body);
    return post.type('form').send({ ...c.form, ...(c.stores ? { email } : {}) });
  };

  it.each(CASES)('answers $name as the chain does', async (c) => {
    const index = CASES.indexOf(c);
    const fromLane = await send(lane, c, `lane-${index}@example.org`);
    const fromChain = await send(chain, c, `main-${index}@example.org`);
    expect(fromLane.status, fromLane.text.slice(0, 300)).toBe(c.status);
    expect(comparable(fromLane)).toEqual(comparable(fromChain));
  });

  it('stores a signing it answers 303, and names its route in the metrics', async () => {
    const before = await rowCounts(t.platform.db);
    const response = await send(lane, CASES[0]!, 'stored-by-the-lane@example.org');
    expect(response.status).toBe(303);
    // The signature and its confirmation e-mail.
    expect(await rowCounts(t.platform.db)).toEqual({
      signatures: before.signatures + 1,
      outbox: before.outbox + 1,
    });
    const metrics = await t.platform.appDeps.metrics.render();
    expect(metrics).toMatch(
      /undersigned_http_request_duration_seconds_count\{[^}]*route="\/letters\/:slug\/sign"[^}]*status_class="3xx"[^}]*\} [1-9]/,
    );
  });
});
