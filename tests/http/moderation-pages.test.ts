import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODERATION_PAGE_SIZE } from '../../server/signatures/moderation-service.js';
import { signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { startTags, textById, textsByClass } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('moderation pages through a long list', () => {
  let t: TestPlatform;
  let admin: Visitor;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
    const letter = await createLetter(t.platform.db, t.clock.now());
    for (let n = 0; n < MODERATION_PAGE_SIZE + 5; n++)
      await storeSignature(t.platform.db, SECRET, letter.id, {
        name: `Supporter ${n}`,
        email: `supporter-${n}@example.org`,
        status: 'confirmed',
        country: 'KR',
        createdAt: new Date(Date.UTC(2026, 10, 1, 0, n)).toISOString(),
      });
  });
  afterAll(async () => {
    await t?.close();
  });

  const link = (html: string, id: string) => startTags(html, 'a').find((a) => a.attrs.id === id)?.attrs.href;

  it('leads on and back, says which page it is, and keeps the filters both ways', async () => {
    const first = await admin.get('/admin/signatures?country=KR');
    expect(first.status).toBe(200);
    expect(link(first.text, 'previous-page')).toBeUndefined();
    expect(textsByClass(first.text, 'note')).toContain('Page 1');
    const next = link(first.text, 'next-page');
    expect(next).toBe('/admin/signatures?country=KR&page=1');

    const second = await admin.get(next!);
    expect(textsByClass(second.text, 'note')).toContain('Page 2');
    expect(link(second.text, 'next-page')).toBeUndefined();
    // "More" alone led on and never back.
    expect(link(second.text, 'previous-page')).toBe('/admin/signatures?country=KR');
    expect(textById(second.text, 'previous-page')).toBe('Previous page');
  });
});
