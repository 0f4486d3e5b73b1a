import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { signedIn } from '../support/accounts.js';
import { createLetter } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

describe('pages with personal data are never cached', () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
    await createLetter(t.platform.db, t.clock.now());
  });
  afterEach(async () => {
    await t.close();
  });

  it('sends Cache-Control: no-store on the page that lists supporters, and on the admin pages around it', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    for (const path of [
      '/admin/signatures',
      '/admin/signatures?email=someone%40example.org',
      '/admin',
      '/admin/exports',
      '/account/password',
      '/admin/no-such-page',
    ]) {
      const response = await visitor.get(path);
      expect(response.status, path).toBeLessThan(500);
      expect(response.headers['cache-control'], path).toBe('no-store');
    }
  });

  it('sends Cache-Control: no-store with an export, even an empty one', async () => {
    const { visitor } = await signedIn(t.app, t.platform, 'admin');
    const response = await visitor.submit('/admin/exports', '/admin/exports', {
      letter: '',
      status: 'confirmed',
      country: '',
      from: '',
      to: '',
      consent: 'any',
      columns: 'name',
      // JSON Lines of no signature is an empty file: not a byte is written, yet it must not be kept either.
      format: 'jsonl',
    });
    expect(response.status).toBe(200);
    expect(response.text).toBe('');
    expect(response.headers['content-disposition']).toMatch(/^attachment/);
    expect(response.headers['cache-control']).toBe('no-store');
  });

  it('sends it on the login page and on the refusals anonymous visitors get', async () => {
    const visitor = new Visitor(t.app);
    for (const path of ['/login', '/admin/signatures']) {
      expect((await visitor.get(path)).headers['cache-control'], path).toBe('no-store');
    }
  });

  it('leaves public letter pages to the usual caching rules', async () => {
    const response = await new Visitor(t.app).get('/');
    expect(response.headers['cache-control'] ?? '').not.toContain('no-store');
  });
});
