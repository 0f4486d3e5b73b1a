import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { countryName } from '../../server/lib/countries.js';
import { createLetter } from '../support/factories.js';
import { byId, innerHtml, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

/** The signing form's country choices, group by group: [group label, [option texts]]. */
function countryGroups(html: string): [string, string[]][] {
  const select = byId(html, 'field-country');
  if (!select) throw new Error('no country field');
  const markup = innerHtml(html, select);
  const options = (part: string) =>
    [...part.matchAll(/<option value="([A-Z]{2})"[^>]*>([^<]*)<\/option>/g)].map((m) => textOf(m[2]!));
  const groups = [...markup.matchAll(/<optgroup label="([^"]*)">([\s\S]*?)<\/optgroup>/g)];
  return groups.length > 0 ? groups.map((g) => [textOf(g[1]!), options(g[2]!)]) : [['', options(markup)]];
}

describe("the signing form's country list", () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it("lists the recipients' countries first while the letter has no signatures", async () => {
    // The factory's letter is addressed to an embassy in Korea.
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const groups = countryGroups((await new Visitor(t.app).get(`/letters/${slug}`)).text);
    expect(groups.map(([label, names]) => [label, names.length > 1 ? 'many' : names])).toEqual([
      ['Countries of this letter', ['South Korea']],
      ['All countries', 'many'],
    ]);
    const names = groups[1]![1];
    expect(names).toEqual([...names].sort(new Intl.Collator('en').compare));
  });

  it('lists the countries most signatures come from first, then every other country once', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug, { email: 'a@example.org', country: 'UA' });
    await signAndConfirm(t, visitor, slug, { email: 'b@example.org', country: 'UA' });
    await signAndConfirm(t, visitor, slug, { email: 'c@example.org', country: 'KR' });
    const groups = countryGroups((await visitor.get(`/letters/${slug}`)).text);
    expect(groups.map(([label]) => label)).toEqual(['Countries of this letter', 'All countries']);
    expect(groups[0]![1]).toEqual(['Ukraine', 'South Korea']);
    const others = groups[1]![1];
    expect(others).not.toContain('Ukraine');
    expect(others).not.toContain('South Korea');
    expect(others).toEqual([...others].sort(new Intl.Collator('en').compare));
  });

  it("names and sorts the countries in the reader's language", async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug, { email: 'a@example.org', country: 'KR' });
    for (const language of ['ko', 'uk']) {
      const groups = countryGroups((await visitor.get(`/letters/${slug}?lang=${language}`)).text);
      expect(groups[0]![1]).toEqual([countryName('KR', language)]);
      const others = groups[1]![1];
      expect(others).toContain(countryName('UA', language));
      expect(others).toEqual([...others].sort(new Intl.Collator(language).compare));
    }
  });
});
