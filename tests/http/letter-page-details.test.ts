import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, signingForm } from '../support/factories.js';
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
});
