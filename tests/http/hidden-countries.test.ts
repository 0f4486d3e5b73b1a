/**
 * A supporter who chooses not to be shown is counted, and placed in no country: figures by country are
 * public (the letter page's form, the public API, the letter's merge field, the delivered annex), and one
 * hidden signer from a country nobody named comes from would stand out there ("North Korea: 1").
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createAccount } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { byId, innerHtml, startTags } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm, storedCount } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const HIDDEN = { name: 'Ri Chol', email: 'ri@example.org', country: 'KP', display: 'hidden' };
const NAMED = { name: 'Kim Ji-hoon', email: 'kim@example.org', country: 'KR', display: 'full' };
const INITIALS = { name: 'Olena Kovalenko', email: 'olena@example.org', country: 'UA', display: 'initials' };

describe('a signature counted without its name is placed in no country', () => {
  let t: TestPlatform;
  let letter: { id: number; slug: string };

  beforeEach(async () => {
    t = await createTestPlatform();
    letter = await createLetter(t.platform.db, t.clock.now());
  });
  afterEach(async () => {
    await t.close();
  });

  const countries = () => t.platform.repositories.letters.countryCounts(letter.id);

  /** The countries the signing form offers first, as those of the letter's signatories. */
  async function featured(): Promise<string[]> {
    const page = await new Visitor(t.app).get(`/letters/${letter.slug}`);
    const select = byId(page.text, 'field-country')!;
    const group = startTags(innerHtml(page.text, select), 'optgroup')[0];
    if (!group) return [];
    const inner = innerHtml(page.text, select);
    const first = inner.slice(0, inner.indexOf('</optgroup>'));
    // The first option asks to choose: no country.
    return startTags(first, 'option')
      .map((o) => o.attrs.value!)
      .filter((code) => code !== '');
  }

  it('counts it in the total, and in no country anywhere public', async () => {
    for (const who of [HIDDEN, NAMED, INITIALS])
      await signAndConfirm(t, new Visitor(t.app), letter.slug, who);

    expect(await storedCount(t, letter.slug)).toBe(3);
    expect(await countries()).toEqual([
      { code: 'KR', count: 1 },
      { code: 'UA', count: 1 },
    ]);
    expect((await featured()).sort()).toEqual(['KR', 'UA']);
    const api = await new Visitor(t.app)
      .get(`/api/v1/letters/${letter.slug}`)
      .set('Accept', 'application/json');
    expect(api.status).toBe(200);
    expect(api.text).toContain('"KR"');
    expect(api.text).not.toContain('"KP"');
    expect((api.body as { total_signatures: number }).total_signatures).toBe(3);
  });

  it('keeps the figures right as signatures leave: a withdrawal, an erasure', async () => {
    const links = await signAndConfirm(t, new Visitor(t.app), letter.slug, HIDDEN);
    await signAndConfirm(t, new Visitor(t.app), letter.slug, NAMED);
    await signAndConfirm(t, new Visitor(t.app), letter.slug, INITIALS);

    // The hidden one withdraws: the total falls, no country moves.
    const supporter = new Visitor(t.app);
    expect((await supporter.submit(links.withdraw, links.withdraw, {})).status).toBe(303);
    expect(await storedCount(t, letter.slug)).toBe(2);
    expect(await countries()).toEqual([
      { code: 'KR', count: 1 },
      { code: 'UA', count: 1 },
    ]);

    // Kim's address is erased: the signature still counts, no longer shown, so in no country.
    await t.platform.privacy.erase(NAMED.email, await createAccount(t.platform, 'admin'));
    expect(await storedCount(t, letter.slug)).toBe(2);
    expect(await countries()).toEqual([{ code: 'UA', count: 1 }]);

    // A moderator invalidating the erased one moves the total only: no country goes below what it holds.
    const erased = await t.platform.db
      .selectFrom('signatures')
      .select('id')
      .where('country', '=', 'KR')
      .executeTakeFirstOrThrow();
    await t.platform.appDeps.moderation.invalidate(
      await createAccount(t.platform, 'admin'),
      erased.id,
      'test',
    );
    expect(await storedCount(t, letter.slug)).toBe(1);
    expect(await countries()).toEqual([{ code: 'UA', count: 1 }]);
    // The counters agree with the rows, by the one rule.
    const recount = await t.platform.db
      .selectFrom('signatures')
      .select(['country', (eb) => eb.fn.countAll<number>().as('n')])
      .where('letter_id', '=', letter.id)
      .where('status', '=', 'confirmed')
      .where('display', '!=', 'hidden')
      .groupBy('country')
      .execute();
    expect(recount.map((r) => ({ code: r.country, count: Number(r.n) }))).toEqual(await countries());
  });
});
