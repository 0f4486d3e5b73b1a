import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import request from 'supertest';
import { openDatabase } from '../../server/db/database.js';
import { COUNT_EPOCH_MS, PageCache } from '../../server/pages/page-cache.js';
import { signedIn } from '../support/accounts.js';
import { createLetter, signingForm } from '../support/factories.js';
import { startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { captureStatements } from '../support/statement-capture.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The figure the letter page shows as its count ("1 signature", "2 signatures"). */
function shownCount(html: string): string {
  return /(\d+) signatures?/.exec(textOf(html))?.[1] ?? 'none';
}

/** Whether a response may be kept by a shared cache (a CDN) or a browser. */
function publiclyCacheable(headers: Record<string, string | undefined>): boolean {
  return (headers['cache-control'] ?? '').includes('public');
}

describe('anonymous public pages are cacheable', () => {
  let t: TestPlatform;
  let slug: string;
  let id: number;
  beforeEach(async () => {
    t = await createTestPlatform();
    ({ slug, id } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  it('answers home, letter and privacy pages with an ETag, a short public Cache-Control and what they vary by', async () => {
    for (const path of ['/', `/letters/${slug}`, '/privacy']) {
      const response = await new Visitor(t.app).get(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.etag, path).toMatch(/^"[\w-]+"$/);
      expect(response.headers['cache-control'], path).toBe('public, max-age=1, stale-while-revalidate=2');
      expect(response.headers.vary, path).toBe('Cookie, Accept-Language');
      expect(response.headers['set-cookie'], path).toBeUndefined();
    }
  });

  it('answers 304 without a body to a conditional request for the page it already has', async () => {
    const first = await new Visitor(t.app).get(`/letters/${slug}`);
    const again = await new Visitor(t.app).get(`/letters/${slug}`).set('If-None-Match', first.headers.etag!);
    expect(again.status).toBe(304);
    expect(again.text ?? '').toBe('');
    expect(again.headers.etag).toBe(first.headers.etag);
    const other = await new Visitor(t.app).get(`/letters/${slug}`).set('If-None-Match', '"something-else"');
    expect(other.status).toBe(200);
    // A list, a weak comparison and `*` match too, as HTTP says; a reload asking for no cache gets the page.
    const etag = first.headers.etag!;
    for (const header of [`"a", ${etag}`, `W/${etag}`, '*'])
      expect(
        (await new Visitor(t.app).get(`/letters/${slug}`).set('If-None-Match', header)).status,
        header,
      ).toBe(304);
    const reload = await new Visitor(t.app)
      .get(`/letters/${slug}`)
      .set('If-None-Match', etag)
      .set('Cache-Control', 'max-age=0, no-cache');
    expect(reload.status).toBe(200);
    expect(reload.headers['content-length']).toBe(String(Buffer.byteLength(reload.text)));
  });

  it('serves a kept page with the same body and every security header of the first answer', async () => {
    const first = await new Visitor(t.app).get(`/letters/${slug}`);
    const kept = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(kept.text).toBe(first.text);
    expect(kept.headers.etag).toBe(first.headers.etag);
    for (const header of [
      'content-security-policy',
      'x-content-type-options',
      'x-frame-options',
      'referrer-policy',
      'cross-origin-opener-policy',
      'content-language',
      'content-type',
    ])
      expect(kept.headers[header], header).toBe(first.headers[header]);
    const head = await request(t.app).head(`/letters/${slug}`);
    expect(head.status).toBe(200);
    expect(head.headers.etag).toBe(first.headers.etag);
  });

  it('renders a page once for the readers who miss it together, and gives each of them that page', async () => {
    const letters = t.platform.appDeps.letters;
    const page = letters.page.bind(letters);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const renders = vi.spyOn(letters, 'page').mockImplementation(async (...args) => {
      await gate;
      return page(...args);
    });
    const readers = Array.from({ length: 4 }, () =>
      request(t.app)
        .get(`/letters/${slug}`)
        .then((r) => r),
    );
    await vi.waitFor(() => expect(renders).toHaveBeenCalled());
    // Time for the other readers to arrive and miss while the first rendering waits.
    await new Promise((resolve) => setTimeout(resolve, 200));
    open();
    const answers = await Promise.all(readers);
    expect(renders).toHaveBeenCalledTimes(1);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.text).toBe(answers[0]!.text);
      expect(answer.headers.etag).toBe(answers[0]!.headers.etag);
    }
  });

  it('lets the readers who waited render for themselves when the first rendering was not kept', async () => {
    const letters = t.platform.appDeps.letters;
    const page = letters.page.bind(letters);
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    let calls = 0;
    vi.spyOn(letters, 'page').mockImplementation(async (...args) => {
      if (++calls > 1) return page(...args);
      await gate;
      throw new Error('the database went away for a moment');
    });
    const first = request(t.app)
      .get(`/letters/${slug}`)
      .then((r) => r);
    await vi.waitFor(() => expect(calls).toBe(1));
    const others = Array.from({ length: 3 }, () =>
      request(t.app)
        .get(`/letters/${slug}`)
        .then((r) => r),
    );
    await new Promise((resolve) => setTimeout(resolve, 200));
    open();
    expect((await first).status).toBe(500);
    for (const answer of await Promise.all(others)) expect(answer.status).toBe(200);
  });

  it('shows a confirmed signature on the letter page at once, the count moving with it', async () => {
    expect(shownCount((await new Visitor(t.app).get(`/letters/${slug}`)).text)).toBe('0');
    await signAndConfirm(t, new Visitor(t.app), slug, { name: 'Kim Ji-hoon', display: 'full' });
    const after = (await new Visitor(t.app).get(`/letters/${slug}`)).text;
    expect(shownCount(after)).toBe('1');
    expect(textOf(after)).toContain('Kim Ji-hoon');
  });

  it('renders again within the count epoch what the letter row does not say (a text, a delivery)', async () => {
    const first = await new Visitor(t.app).get(`/letters/${slug}`);
    // Written behind the app's back, as another process would: the letter's row does not change.
    await t.platform.db.updateTable('letter_texts').set({ title: 'A title changed elsewhere' }).execute();
    t.clock.advance(COUNT_EPOCH_MS / 2);
    const within = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(within.headers.etag).toBe(first.headers.etag);
    t.clock.advance(COUNT_EPOCH_MS);
    const next = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(textOf(next.text)).toContain('A title changed elsewhere');
    expect(next.headers.etag).not.toBe(first.headers.etag);
  });

  it("shows a count another process wrote to the same database: at once on SQLite, once the write mark's poll sees it on PostgreSQL", async () => {
    expect(shownCount((await new Visitor(t.app).get(`/letters/${slug}`)).text)).toBe('0');
    const mark = t.platform.database.writeMark();
    // Another connection, as another process on the database would have (issue 13): on SQLite its
    // commit moves data_version for this one at once; on PostgreSQL the mark's poll sees it within
    // POSTGRES_WRITE_POLL_MS. Either way a remembered stamp is dropped once the mark has moved.
    const other = openDatabase(t.config.database);
    try {
      await other.db.updateTable('letters').set({ signature_count: 7 }).where('id', '=', id).execute();
    } finally {
      await other.close();
    }
    if (t.platform.database.dialect === 'postgres')
      for (let waited = 0; t.platform.database.writeMark() === mark && waited < 10_000; waited += 20)
        await sleep(20);
    expect(t.platform.database.writeMark()).not.toBe(mark);
    expect(shownCount((await new Visitor(t.app).get(`/letters/${slug}`)).text)).toBe('7');
  });

  it('answers a kept letter page without reading a table while nothing was written', async () => {
    await new Visitor(t.app).get(`/letters/${slug}`);
    const capture = captureStatements();
    try {
      const hit = await new Visitor(t.app).get(`/letters/${slug}`);
      expect(hit.status).toBe(200);
      const reads = capture.statements().map((s) => s.sql);
      expect(reads.filter((sql) => /\bfrom\s+"?(letters|signatures|letter_\w+)\b/i.test(sql))).toEqual([]);
    } finally {
      capture.stop();
    }
    // A write in this process (its own commits leave data_version alone) is seen at once too.
    await t.platform.db.updateTable('letters').set({ signature_count: 3 }).where('id', '=', id).execute();
    expect(shownCount((await new Visitor(t.app).get(`/letters/${slug}`)).text)).toBe('3');
  });

  it('shows a letter closed by its organizer at once', async () => {
    const before = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(startTags(before.text, 'form').length).toBeGreaterThan(0);
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const closed = await admin.submit(`/admin/letters/${id}/close`, `/admin/letters/${id}/close`, {});
    expect(closed.status).toBe(303);
    const after = await new Visitor(t.app).get(`/letters/${slug}`);
    expect(after.headers.etag).not.toBe(before.headers.etag);
    expect(startTags(after.text, 'form').filter((f) => f.attrs.action?.includes('/sign'))).toEqual([]);
  });

  it('keeps each interface language and text apart', async () => {
    const lang = async (req: request.Test) => startTags((await req).text, 'html')[0]!.attrs.lang;
    const path = `/letters/${slug}`;
    expect(await lang(request(t.app).get(path).set('Accept-Language', 'ko'))).toBe('ko');
    expect(await lang(request(t.app).get(path).set('Accept-Language', 'uk'))).toBe('uk');
    expect(await lang(request(t.app).get(path).set('Cookie', 'us_lang=ko'))).toBe('ko');
    expect(await lang(request(t.app).get(path))).toBe('en');
    expect(await lang(request(t.app).get(`${path}?lang=uk`).set('Accept-Language', 'ko'))).toBe('uk');
    expect(await lang(request(t.app).get('/').set('Accept-Language', 'ko'))).toBe('ko');
    expect(await lang(request(t.app).get('/'))).toBe('en');
    // A page chosen by its address depends on nothing else: it says so.
    const chosen = await request(t.app).get(`${path}?lang=uk`);
    expect(chosen.headers.vary).toBeUndefined();
  });

  it('keys a page by the language its cookie chooses, however the cookie is written', async () => {
    const lang = async (req: request.Test) => startTags((await req).text, 'html')[0]!.attrs.lang;
    const path = `/letters/${slug}`;
    for (const cookie of ['us_lang="uk"', 'us_lang=%75k']) {
      expect(
        await lang(request(t.app).get(path).set('Cookie', cookie).set('Accept-Language', 'en')),
        cookie,
      ).toBe('uk');
      // The next reader without the cookie gets the English page, not the one kept for the cookie.
      expect(await lang(request(t.app).get(path).set('Accept-Language', 'en')), cookie).toBe('en');
    }
  });

  it('never lets one address stand for another, nor keeps pages for made-up variants', async () => {
    const path = `/letters/${slug}`;
    // An encoded value that reads like two parameters: another page than the two parameters' own.
    const real = await request(t.app).get(`${path}?text=ko&lang=uk`);
    const lookalike = await request(t.app).get(`${path}?text=ko%26lang%3Duk`);
    expect(startTags(real.text, 'html')[0]!.attrs.lang).toBe('uk');
    expect(startTags(lookalike.text, 'html')[0]!.attrs.lang).toBe('en');
    expect(lookalike.headers.etag).not.toBe(real.headers.etag);
    // Values that name no variant the page has are answered, but not kept.
    const before = t.platform.appDeps.pageCache.size().entries;
    for (const query of ['?text=zz', '?lang=xx', '?lang=ko-KR', `?text=${'k'.repeat(4_000)}`]) {
      expect((await request(t.app).get(`${path}${query}`)).status, query).toBeLessThan(500);
    }
    expect(t.platform.appDeps.pageCache.size().entries).toBe(before);
  });

  it('never lets a browser or proxy keep an error page, a form with errors, a notice, or a logged-in page', async () => {
    const missing = await new Visitor(t.app).get('/letters/no-such-letter');
    expect(missing.status).toBe(404);
    expect(publiclyCacheable(missing.headers)).toBe(false);

    const refused = await new Visitor(t.app).submit(
      `/letters/${slug}`,
      `/letters/${slug}/sign`,
      signingForm({ email: 'not an address' }),
    );
    expect(refused.status).toBe(422);
    expect(publiclyCacheable(refused.headers)).toBe(false);

    const unknownQuery = await new Visitor(t.app).get(`/letters/${slug}?done=signed`);
    expect(publiclyCacheable(unknownQuery.headers)).toBe(false);

    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    for (const path of ['/admin', `/admin/letters/${id}`, '/login']) {
      const response = await admin.get(path);
      expect(response.headers['cache-control'], path).toBe('no-store');
    }
  });
});

describe('the page cache', () => {
  const page = (size: number) => ({
    headers: {},
    notModifiedHeaders: {},
    etag: '"x"',
    body: Buffer.alloc(size),
  });

  it('evicts the least recently used page past its number of entries', () => {
    const cache = new PageCache({ maxEntries: 2, maxBytes: 1_000 });
    cache.set('a', page(10));
    cache.set('b', page(10));
    cache.get('a');
    cache.set('c', page(10));
    expect(cache.get('b')).toBeUndefined();
    expect(cache.get('a')).toBeDefined();
    expect(cache.get('c')).toBeDefined();
    expect(cache.size()).toEqual({ entries: 2, bytes: 20 });
  });

  it('evicts past its bytes, and never keeps a page larger than all of them', () => {
    const cache = new PageCache({ maxEntries: 10, maxBytes: 100 });
    cache.set('a', page(60));
    cache.set('b', page(60));
    expect(cache.get('a')).toBeUndefined();
    expect(cache.size()).toEqual({ entries: 1, bytes: 60 });
    cache.set('huge', page(101));
    expect(cache.get('huge')).toBeUndefined();
    cache.set('b', page(30));
    expect(cache.size()).toEqual({ entries: 1, bytes: 30 });
  });
});
