import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDraft, organizerPlatform, postForm } from '../support/admin-forms.js';
import { byClass, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import type { TestPlatform } from '../support/test-platform.js';

/** The organizer's screens count signatures in the singular for one and in the plural for more. */
describe('the organizer screens count signatures by the rules of English', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let supporter: Visitor;
  let recipient: number;

  beforeEach(async () => {
    ({ t, visitor, supporter, recipient } = await organizerPlatform());
  });
  afterEach(async () => {
    await t.close();
  });

  const closePage = async (id: number) =>
    textOf(mainOf((await visitor.get(`/admin/letters/${id}/close`)).text));
  const versionNote = async (id: number) => {
    const html = (await visitor.get(`/admin/letters/${id}`)).text;
    const note = byClass(html, 'note')[0];
    return note ? textOf(innerHtml(html, note)) : '';
  };
  const chartDescription = async (id: number) => {
    const main = mainOf((await visitor.get('/admin')).text);
    const card = startTags(main, 'li').find((li) => innerHtml(main, li).includes(`/admin/letters/${id}`));
    const svg = innerHtml(main, card!);
    return textOf(innerHtml(svg, startTags(svg, 'desc')[0]!));
  };

  it('says "1 confirmed signature" for one, and "2 confirmed signatures" for two', async () => {
    const id = await createDraft(visitor, [recipient]);
    await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, []);
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;

    expect(await chartDescription(id)).toBe('No confirmed signatures in the last 30 days.');

    await signAndConfirm(t, supporter, slug, { email: 'one@example.org' });
    expect(await closePage(id)).toContain('The letter has 1 confirmed signature. You can reopen it');
    expect(await versionNote(id)).toBe('Version 1 · 1 signature that stands');
    expect(await chartDescription(id)).toMatch(
      /^1 confirmed signature in the last 30 days; the busiest day was .+ with 1\.$/,
    );

    await signAndConfirm(t, supporter, slug, { email: 'two@example.org' });
    expect(await closePage(id)).toContain('The letter has 2 confirmed signatures. You can reopen it');
    expect(await versionNote(id)).toBe('Version 1 · 2 signatures that stand');
    expect(await chartDescription(id)).toMatch(
      /^2 confirmed signatures in the last 30 days; the busiest day was .+ with 2\.$/,
    );
  });
});
