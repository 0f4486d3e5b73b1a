import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { createLetter, signingForm } from '../support/factories.js';
import { byId, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import { expectNoCsrfToken, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, rowCounts } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const DAY = 86_400_000;
const LETTER_NOT_FOUND =
  'We could not find that letter. It may have been removed, or the address may be mistyped.';
const CLOSED = 'This letter is closed and no longer accepts signatures.';
const NOT_YET_OPEN = 'This letter is not open for signatures yet.';

/** Whether a page carries the signing form or any of its fields. */
function hasSigningForm(html: string): boolean {
  const forms = startTags(html, 'form').filter((f) => f.attrs.action?.endsWith('/sign'));
  return forms.length > 0 || byId(html, 'field-email') !== undefined;
}

describe('letters that cannot be signed: unknown, drafts, closed and not yet open', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  /** An open letter, whose page gives the visitor a CSRF token for posting elsewhere. */
  let openSlug: string;

  beforeEach(async () => {
    t = await createTestPlatform();
    visitor = new Visitor(t.app);
    ({ slug: openSlug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  const postSign = (slug: string) =>
    visitor.submit(`/letters/${openSlug}`, `/letters/${slug}/sign`, signingForm());

  it('shows the 404 page for a letter that does not exist', async () => {
    const response = await visitor.get('/letters/no-such-letter');
    expectErrorPage(response, 404, ERROR_TITLES[404]);
    expect(textOf(mainOf(response.text))).toContain(LETTER_NOT_FOUND);
  });

  it('answers a signature for a letter that does not exist with the 404 page and stores nothing', async () => {
    const response = await postSign('no-such-letter');
    expectErrorPage(response, 404, ERROR_TITLES[404]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('shows the 404 page for the pages after signing of a letter that does not exist', async () => {
    for (const page of ['check-your-inbox', 'thank-you', 'withdrawn']) {
      expectErrorPage(await visitor.get(`/letters/no-such-letter/${page}`), 404, ERROR_TITLES[404]);
    }
  });

  it('shows the 404 page for odd letter addresses instead of failing', async () => {
    for (const path of [
      '/letters/%00',
      `/letters/${'x'.repeat(2000)}`,
      "/letters/'%20or%201=1--",
      '/letters/..%2F..%2Fetc%2Fpasswd',
    ]) {
      expectErrorPage(await visitor.get(path), 404, ERROR_TITLES[404]);
    }
  });

  it('answers a letter address with broken percent-encoding with 400, not 500', async () => {
    expectErrorPage(await visitor.get('/letters/%E0%A4%A'), 400, ERROR_TITLES[400]);
  });

  it('keeps a draft letter from the public: its page, its signing and the home page', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), {
      status: 'draft',
      title: 'A draft nobody may see',
    });
    expectErrorPage(await visitor.get(`/letters/${slug}`), 404, ERROR_TITLES[404]);
    expectErrorPage(await visitor.get(`/letters/${slug}/thank-you`), 404, ERROR_TITLES[404]);
    expectErrorPage(await visitor.get(`/letters/${slug}/check-your-inbox`), 404, ERROR_TITLES[404]);
    expectErrorPage(await postSign(slug), 404, ERROR_TITLES[404]);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
    const home = await visitor.get('/');
    expect(home.text).not.toContain('A draft nobody may see');
    expect(home.text).not.toContain(`/letters/${slug}`);
  });

  it('explains that a closed letter is closed and shows no signing form', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain(CLOSED);
    expect(hasSigningForm(page.text)).toBe(false);
  });

  it('refuses a signature on a closed letter with 409, the closed explanation, and stores nothing', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const response = await postSign(slug);
    expect(response.status).toBe(409);
    expect(textOf(mainOf(response.text))).toContain(CLOSED);
    expect(hasSigningForm(response.text)).toBe(false);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('treats a letter past its closing date as closed, with the date it closed', async () => {
    const closesAt = new Date(t.clock.now().getTime() - DAY);
    const { slug } = await createLetter(t.platform.db, t.clock.now(), {
      closesAt,
      opensAt: new Date(closesAt.getTime() - 30 * DAY),
    });
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    const text = textOf(mainOf(page.text));
    expect(text).toContain(CLOSED);
    expect(text).toContain('Signatures were collected until November 22, 2026.');
    expect(hasSigningForm(page.text)).toBe(false);
    const response = await postSign(slug);
    expect(response.status).toBe(409);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('gives the day a letter closed early as the day it closed, not its planned closing date', async () => {
    // Closed by hand weeks ahead of its date, it said "Closed on January 31, 2027" on December 7.
    const { id, slug } = await createLetter(t.platform.db, t.clock.now(), {
      closesAt: new Date('2027-01-31T00:00:00.000Z'),
    });
    await t.platform.db
      .updateTable('letters')
      .set({ status: 'closed', closed_at: t.clock.now().toISOString() })
      .where('id', '=', id)
      .execute();
    const today = 'November 23, 2026';
    const page = textOf(mainOf((await visitor.get(`/letters/${slug}`)).text));
    expect(page).toContain(`Signatures were collected until ${today}.`);
    expect(page).toContain(`Closed on ${today}`);
    const home = textOf(mainOf((await visitor.get('/')).text));
    expect(home).toContain(`Closed on ${today}`);
    for (const text of [page, home]) expect(text).not.toContain('January 31, 2027');
    // The admin's list of letters says the same in its "Closes" column.
    const { visitor: admin } = await signedIn(t.app, t.platform, 'admin');
    const list = textOf(mainOf((await admin.get('/admin/letters')).text));
    expect(list).toContain(today);
    expect(list).not.toContain('January 31, 2027');
    // So does the dashboard's card, saying it closed (it said "Closes January 31, 2027").
    const dashboard = mainOf((await admin.get('/admin')).text);
    const card = startTags(dashboard, 'li').find((li) =>
      innerHtml(dashboard, li).includes(`/admin/letters/${id}"`),
    )!;
    const facts = textOf(innerHtml(dashboard, card));
    expect(facts).toContain(`Closed ${today}`);
    expect(facts).not.toContain('January 31, 2027');
  });

  it('refuses a form opened before the closing time and sent after it', async () => {
    const closesAt = new Date(t.clock.now().getTime() + 60_000);
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { closesAt });
    const page = await visitor.get(`/letters/${slug}`);
    expect(hasSigningForm(page.text)).toBe(true);
    expectNoCsrfToken(page.text);
    t.clock.advance(2 * 60_000);
    const response = await visitor.agent
      .post(`/letters/${slug}/sign`)
      .type('form')
      .set('Accept', 'text/html')
      .send(signingForm());
    expect(response.status).toBe(409);
    expect(textOf(mainOf(response.text))).toContain(CLOSED);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('says a letter is not open yet, shows no form, and refuses signatures before it opens', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), {
      opensAt: new Date(t.clock.now().getTime() + 2 * DAY),
    });
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain(NOT_YET_OPEN);
    expect(hasSigningForm(page.text)).toBe(false);
    const response = await postSign(slug);
    expect(response.status).toBe(409);
    expect(textOf(mainOf(response.text))).toContain(NOT_YET_OPEN);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });

  it('shows a delivered letter as closed to new signatures', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'delivered' });
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.status).toBe(200);
    expect(textOf(mainOf(page.text))).toContain(CLOSED);
    expect(hasSigningForm(page.text)).toBe(false);
    expect((await postSign(slug)).status).toBe(409);
    expect(await rowCounts(t.platform.db)).toEqual({ signatures: 0, outbox: 0 });
  });
});
