import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { byClass, hrefsIn, innerHtml, startTags, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DAY = 86_400_000;
const OPEN = 45;
const CLOSED = 15;

/** The titles of the cards on a home page, in order. */
function cardTitles(html: string): string[] {
  return byClass(html, 'card').map((card) => textOf(innerHtml(html, card)).split(' ')[0]!);
}

/** The page list's navigation: its text and links. */
function pagination(html: string): { text: string; hrefs: string[] } | undefined {
  const nav = startTags(html, 'nav').find((tag) => tag.attrs.class === 'pagination');
  if (!nav) return undefined;
  const inner = innerHtml(html, nav);
  return { text: textOf(inner), hrefs: hrefsIn(inner) };
}

describe('the home page lists letters a page at a time', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
    const now = t.clock.now();
    // Titles without spaces, numbered in the order the list shows them (open first, same closing date).
    for (let i = 1; i <= OPEN; i++)
      await createLetter(t.platform.db, now, { title: `Open-${String(i).padStart(2, '0')}` });
    for (let i = 1; i <= CLOSED; i++)
      await createLetter(t.platform.db, now, {
        title: `Closed-${String(i).padStart(2, '0')}`,
        status: 'closed',
        closesAt: new Date(now.getTime() - DAY),
      });
  });
  afterEach(async () => {
    await t.close();
  });

  it('shows 20 letters on each of 3 pages for 60 letters, open ones first, every letter once', async () => {
    const pages = [];
    for (const path of ['/', '/?page=2', '/?page=3']) {
      const response = await new Visitor(t.app).get(path);
      expect(response.status, path).toBe(200);
      pages.push(cardTitles(response.text));
    }
    expect(pages.map((p) => p.length)).toEqual([20, 20, 20]);
    expect(pages.flat()).toEqual([
      ...Array.from({ length: OPEN }, (_, i) => `Open-${String(i + 1).padStart(2, '0')}`),
      ...Array.from({ length: CLOSED }, (_, i) => `Closed-${String(i + 1).padStart(2, '0')}`),
    ]);
  });

  it('links the pages without JavaScript: next from the first, previous from the last, where it is said', async () => {
    const first = (await new Visitor(t.app).get('/')).text;
    expect(pagination(first)).toEqual({ text: 'Page 1 of 3 Next page', hrefs: ['/?page=2'] });
    const middle = (await new Visitor(t.app).get('/?page=2')).text;
    expect(pagination(middle)?.hrefs).toEqual(['/', '/?page=3']);
    const last = (await new Visitor(t.app).get('/?page=3')).text;
    expect(pagination(last)).toEqual({ text: 'Previous page Page 3 of 3', hrefs: ['/?page=2'] });
    expect(startTags(last, 'nav').find((n) => n.attrs.class === 'pagination')?.attrs['aria-label']).toBe(
      'Pages of letters',
    );
    expect(textOf(last)).toContain('Closed letters');
    // The last page holds open and closed letters; "no open letters" is never said under a later page.
    expect(textOf(last)).not.toContain('There are no open letters');
    expect(/<title>([^<]*)<\/title>/.exec(last)?.[1]).toBe('Open letters, page 3 of 3 · Undersigned');
  });

  it('keeps the interface language an address chose on the page links', async () => {
    const korean = (await new Visitor(t.app).get('/?lang=ko')).text;
    expect(pagination(korean)).toEqual({
      text: '3페이지 중 1페이지 다음 페이지',
      hrefs: ['/?page=2&lang=ko'],
    });
  });

  it('answers a page past the last with a 404 that says so, and a page number that is not one with a 400', async () => {
    const past = await new Visitor(t.app).get('/?page=4');
    expect(past.status).toBe(404);
    expect(textOf(past.text)).toContain('There is no such page of letters.');
    for (const bad of ['0', '-1', 'abc', '01', '1.0', '2e1', '9999999', ''])
      expect((await new Visitor(t.app).get(`/?page=${bad}`)).status, bad).toBe(400);
    expect((await new Visitor(t.app).get('/?page=1&page=2')).status).toBe(400);
    const invalid = await new Visitor(t.app).get('/?page=abc');
    expect(textOf(invalid.text)).toContain('The page number in the address is not valid.');
    expect(invalid.headers['cache-control'] ?? '').not.toContain('public');
  });

  it('keeps each page apart in the page cache, with its own ETag', async () => {
    const one = await new Visitor(t.app).get('/?page=1');
    const two = await new Visitor(t.app).get('/?page=2');
    const twoAgain = await new Visitor(t.app).get('/?page=2');
    expect(two.headers['cache-control']).toBe('public, max-age=1, stale-while-revalidate=2');
    expect(twoAgain.text).toBe(two.text);
    expect(twoAgain.headers.etag).toBe(two.headers.etag);
    expect(one.headers.etag).not.toBe(two.headers.etag);
    expect(cardTitles(one.text)[0]).toBe('Open-01');
    expect(cardTitles(two.text)[0]).toBe('Open-21');
  });
});

describe('the home page with few letters', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('has no page links on its only page, and page 1 exists when no letter is public', async () => {
    expect(pagination((await new Visitor(t.app).get('/?page=1')).text)).toBeUndefined();
    expect((await new Visitor(t.app).get('/?page=2')).status).toBe(404);
    await createLetter(t.platform.db, t.clock.now());
    const home = (await new Visitor(t.app).get('/')).text;
    expect(byClass(home, 'card')).toHaveLength(1);
    expect(pagination(home)).toBeUndefined();
  });
});
