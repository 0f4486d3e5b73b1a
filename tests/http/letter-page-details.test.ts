import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SIGNING_FORM_LIMITS } from '../../server/signatures/signature-input.js';
import { createLetter, signingForm } from '../support/factories.js';
import { byId, innerHtml, mainOf, startTags, textOf, textsByClass } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { signAndConfirm } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

describe('details of the letter page', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('says "under 1%" rather than 0% once the first signatures are in', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { goal: 1000 });
    const visitor = new Visitor(t.app);
    expect((await visitor.get(`/letters/${slug}`)).text).toContain('0% of the goal');
    await signAndConfirm(t, visitor, slug);
    const page = await visitor.get(`/letters/${slug}`);
    expect(page.text).toContain('under 1% of the goal');
    expect(page.text).not.toContain('0% of the goal');
  });

  it('puts "Error:" first in the page title when the form comes back with mistakes', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { title: 'Protect them' });
    const visitor = new Visitor(t.app);
    expect((await visitor.get(`/letters/${slug}`)).text).toContain(
      '<title>Protect them · Undersigned</title>',
    );
    const refused = await visitor.submit(
      `/letters/${slug}`,
      `/letters/${slug}/sign`,
      signingForm({ email: 'nope' }),
    );
    expect(refused.status).toBe(422);
    expect(refused.text).toContain('<title>Error: Protect them · Undersigned</title>');
  });

  it('offers a jump to the form while the letter is open, and not once it is closed', async () => {
    const open = await createLetter(t.platform.db, t.clock.now());
    const closed = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const visitor = new Visitor(t.app);
    expect((await visitor.get(`/letters/${open.slug}`)).text).toContain('href="#sign"');
    expect((await visitor.get(`/letters/${closed.slug}`)).text).not.toContain('href="#sign"');
  });

  it('says that everyone who signed chose not to be listed, not that no one has signed, when all are counted only', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    for (const email of ['a@example.org', 'b@example.org', 'c@example.org'])
      await signAndConfirm(t, visitor, slug, { email, display: 'hidden' });

    const html = mainOf((await visitor.get(`/letters/${slug}`)).text);
    expect(textsByClass(html, 'stats__count')).toEqual(['3 signatures']);
    expect(html).not.toContain('No one has signed yet');
    expect(textsByClass(html, 'empty')).toEqual([
      '3 people have signed; they chose not to be listed by name.',
    ]);
    expect(html).not.toContain('Kim Ji-hoon');
  });

  it('lists the named signatories and no "no one" sentence once someone chose to be named', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug, { email: 'a@example.org', display: 'hidden' });
    await signAndConfirm(t, visitor, slug, {
      email: 'b@example.org',
      name: 'Park Seo-yeon',
      display: 'full',
    });

    const html = mainOf((await visitor.get(`/letters/${slug}`)).text);
    expect(textsByClass(html, 'signatory__name')).toEqual(['Park Seo-yeon']);
    expect(textsByClass(html, 'empty')).toEqual([]);
  });

  it('isolates a right-to-left name and organisation, so the line reads name, organisation (country)', async () => {
    // Without isolation, "מרים כהן-לוי, ארגון 42 (Israel)" showed the organisation before the name.
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug, {
      email: 'miriam@example.org',
      name: 'מרים כהן-לוי',
      organisation: 'ארגון 42',
      country: 'IL',
      display: 'full',
    });
    const html = mainOf((await visitor.get(`/letters/${slug}`)).text);
    const item = startTags(html, 'li').find((li) => innerHtml(html, li).includes('מרים'))!;
    const isolated = startTags(innerHtml(html, item), 'bdi').map((b) =>
      textOf(innerHtml(innerHtml(html, item), b)),
    );
    expect(isolated).toEqual(['מרים כהן-לוי', 'ארגון 42']);
  });

  it('says plainly that no one has signed a closed letter, without inviting a first name', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), { status: 'closed' });
    const html = mainOf((await new Visitor(t.app).get(`/letters/${slug}`)).text);
    expect(textsByClass(html, 'empty')).toEqual(['No one has signed this letter.']);
  });

  it('limits each field of the signing form to the length the input schema accepts', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const html = (await new Visitor(t.app).get(`/letters/${slug}`)).text;
    const shown = Object.fromEntries(
      Object.keys(SIGNING_FORM_LIMITS).map((field) => [
        field,
        Number(byId(html, `field-${field}`)?.attrs.maxlength),
      ]),
    );
    expect(shown).toEqual(SIGNING_FORM_LIMITS);
  });
});
