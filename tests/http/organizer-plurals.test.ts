import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createDraft, organizerPlatform, postForm } from '../support/admin-forms.js';
import { byClass, innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import type { TestPlatform } from '../support/test-platform.js';

/** The organizer's screens count signatures in the form the number takes in the reader's language. */
describe('the organizer screens count signatures by each language’s plural rules', () => {
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

  const closePage = async (id: number, lang = 'en') =>
    textOf(mainOf((await visitor.get(`/admin/letters/${id}/close?lang=${lang}`)).text));
  const versionNote = async (id: number, lang = 'en') => {
    const html = (await visitor.get(`/admin/letters/${id}?lang=${lang}`)).text;
    const note = byClass(html, 'note')[0];
    return note ? textOf(innerHtml(html, note)) : '';
  };
  /** The dashboard's card of letter `id`, as HTML. */
  const dashboardCard = async (id: number, lang = 'en') => {
    const main = mainOf((await visitor.get(`/admin?lang=${lang}`)).text);
    const card = startTags(main, 'li').find((li) => innerHtml(main, li).includes(`/admin/letters/${id}`));
    return innerHtml(main, card!);
  };
  const chartDescription = async (id: number, lang = 'en') => {
    const svg = await dashboardCard(id, lang);
    return textOf(innerHtml(svg, startTags(svg, 'desc')[0]!));
  };

  it('says "1 confirmed signature" for one, and "2 confirmed signatures" for two', async () => {
    const id = await createDraft(visitor, [recipient], { closes_at: '' });
    expect(await dashboardCard(id)).not.toContain('<svg');
    expect(textOf(await dashboardCard(id))).toContain(
      'Not published yet: signatures are collected once it is published.',
    );
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

  it('uses the Ukrainian one/few/many forms and the Korean single form on the same screens', async () => {
    const id = await createDraft(visitor, [recipient], { closes_at: '' });
    await postForm(visitor, `/admin/letters/${id}`, `/admin/letters/${id}/publish`, []);
    const slug = (await t.platform.repositories.letters.findById(id))!.slug;

    expect(await chartDescription(id, 'uk')).toBe('За останні 30 днів немає підтверджених підписів.');
    await signAndConfirm(t, supporter, slug, { email: 'one@example.org' });
    expect(await closePage(id, 'uk')).toContain('Лист має 1 підтверджений підпис.');
    expect(await versionNote(id, 'uk')).toBe('Версія 1 · 1 чинний підпис');
    expect(await chartDescription(id, 'uk')).toMatch(/^За останні 30 днів — 1 підтверджений підпис;/);
    expect(await closePage(id, 'ko')).toContain('이 편지의 확인된 서명은 1건입니다.');
    expect(await versionNote(id, 'ko')).toBe('버전 1 · 유효한 서명 1건');

    await signAndConfirm(t, supporter, slug, { email: 'two@example.org' });
    await signAndConfirm(t, supporter, slug, { email: 'three@example.org' });
    expect(await closePage(id, 'uk')).toContain('Лист має 3 підтверджені підписи.');
    expect(await versionNote(id, 'uk')).toBe('Версія 1 · 3 чинні підписи');
    expect(await chartDescription(id, 'uk')).toMatch(/^За останні 30 днів — 3 підтверджені підписи;/);
    expect(await chartDescription(id, 'ko')).toMatch(/^최근 30일 동안 확인된 서명 3건\./);
  });
});
