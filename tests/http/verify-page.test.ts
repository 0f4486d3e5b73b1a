import { readFileSync } from 'node:fs';
import path from 'node:path';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INTERFACE_LANGUAGES } from '../../server/lib/i18n.js';
import { projectRoot } from '../../server/lib/paths.js';
import { byId, mainOf, startTags, textById, textOf } from '../support/html.js';
import { expectNoCsrfToken } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

// /verify serves a check that runs in the browser (tests/browser/verify.test.ts drives it): here, what
// the server answers: the same page for everyone, no receipt ever asked for, every text translated,
// a plain explanation and the algorithm without JavaScript, cacheable like the other public pages.

describe('/verify and its algorithm', () => {
  const missing: string[] = [];
  let t: TestPlatform;
  beforeAll(async () => {
    t = await createTestPlatform({ onMissingKey: (language, key) => missing.push(`${language}:${key}`) });
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a page that says the check needs JavaScript and links the algorithm; the tool waits for the script', async () => {
    const response = await request(t.app).get('/verify').expect(200);
    const html = response.text;
    const main = mainOf(html);
    expect(textById(html, 'verify-needs-js')).toContain('needs JavaScript');
    expect(byId(html, 'verify-needs-js')!.attrs.hidden).toBeUndefined();
    expect(byId(html, 'verify-tool')!.attrs.hidden).toBe('');
    expect(startTags(main, 'a').map((a) => a.attrs.href)).toContain('/verify/how');
    // One script, from this origin, as a module; nothing inline, no style attribute (the CSP forbids both).
    const scripts = startTags(html, 'script');
    expect(scripts.map((s) => s.attrs)).toEqual([{ type: 'module', src: '/assets/verify.js' }]);
    expect(html).not.toMatch(/<script(?![^>]*\ssrc=)[^>]*>/);
    expect(html).not.toMatch(/\sstyle=/);
    expect(response.headers['content-security-policy']).toContain("script-src 'self'");
    expect(response.headers['set-cookie']).toBeUndefined();
    expectNoCsrfToken(html);
  });

  it('labels every field and gives the results a live region that is not colour alone', async () => {
    const html = (await request(t.app).get('/verify').expect(200)).text;
    const labelled = new Set(startTags(html, 'label').map((l) => l.attrs.for));
    const fields = [...startTags(html, 'input'), ...startTags(html, 'textarea')];
    expect(fields.length).toBeGreaterThanOrEqual(8);
    for (const field of fields) expect(labelled, field.attrs.id).toContain(field.attrs.id);
    for (const id of ['receipt-result', 'consistency-result']) {
      expect(byId(html, id)!.attrs.role).toBe('status');
      expect(byId(html, id)!.attrs['aria-live']).toBe('polite');
    }
    // The verdict's words come with the page: "Valid" / "Not valid", not a green or red mark.
    expect(byId(html, 'verify-tool')!.attrs['data-t-valid-heading']).toBe('Valid');
    expect(byId(html, 'verify-tool')!.attrs['data-t-invalid-heading']).toBe('Not valid');
  });

  it.each([...INTERFACE_LANGUAGES])(
    'is written in %s, the script’s texts too, with their {placeholders} left for it',
    async (language) => {
      missing.length = 0;
      const html = (await request(t.app).get(`/verify?lang=${language}`).expect(200)).text;
      const how = (await request(t.app).get(`/verify/how?lang=${language}`).expect(200)).text;
      expect(missing).toEqual([]);
      const tool = byId(html, 'verify-tool')!;
      const texts = Object.entries(tool.attrs).filter(([name]) => name.startsWith('data-t-'));
      expect(texts.length).toBeGreaterThanOrEqual(30);
      for (const [name, value] of texts) expect(value.trim(), name).not.toBe('');
      expect(tool.attrs['data-t-valid']).toMatch(/\{round\}.*|\{letter\}/);
      for (const placeholder of ['{round}', '{letter}', '{total}', '{root}'])
        expect(tool.attrs['data-t-valid']).toContain(placeholder);
      expect(tool.attrs['data-t-invalid-size']).toContain('{receiptTotal}');
      // No raw key and no English left on the other languages' pages.
      expect(textOf(mainOf(html))).not.toMatch(/verify\.\w/);
      if (language !== 'en') {
        expect(textOf(mainOf(html))).not.toContain('Check a receipt');
        expect(textOf(mainOf(how))).not.toContain('How to check a receipt yourself');
      }
      expect(startTags(how, 'html')[0]!.attrs.lang).toBe(language);
    },
  );

  it('shows the algorithm without JavaScript: both checks as code, and links the full text', async () => {
    const response = await request(t.app).get('/verify/how?lang=ko').expect(200);
    const main = mainOf(response.text);
    expect(startTags(main, 'script')).toEqual([]);
    expect(textOf(main)).toContain('영수증을 직접 확인하는 방법');
    expect(textOf(main)).toContain('r = SHA-256(0x01 ‖ p ‖ r)');
    expect(textOf(main)).toContain('valid if fr == earlier root and sr == later root and sn == 0');
    // Links keep the language the address chose.
    expect(startTags(main, 'a').map((a) => a.attrs.href)).toEqual(
      expect.arrayContaining(['/verify/verification.md', '/verify?lang=ko']),
    );
  });

  it('serves docs/verification.md as plain text, the same bytes, never run as a page', async () => {
    const response = await request(t.app).get('/verify/verification.md').expect(200);
    expect(response.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(response.headers['x-content-type-options']).toBe('nosniff');
    expect(response.headers['cache-control']).toBe('public, max-age=300');
    expect(response.text).toBe(readFileSync(path.join(projectRoot, 'docs', 'verification.md'), 'utf8'));
  });

  it('is cached like the other public pages: an ETag, 304 on a match, a short public Cache-Control', async () => {
    for (const page of ['/verify', '/verify/how', '/verify?lang=uk']) {
      const first = await request(t.app).get(page).expect(200);
      expect(first.headers.etag, page).toMatch(/^"[\w-]+"$/);
      expect(first.headers['cache-control'], page).toBe('public, max-age=1, stale-while-revalidate=2');
      await request(t.app).get(page).set('If-None-Match', first.headers.etag!).expect(304);
    }
    // The two languages are two pages.
    const en = await request(t.app).get('/verify?lang=en');
    const uk = await request(t.app).get('/verify?lang=uk');
    expect(en.headers.etag).not.toBe(uk.headers.etag);
  });

  it('answers hostile addresses with the same page, reflecting nothing of them', async () => {
    const hostile = encodeURIComponent('"><script>alert(1)</script>');
    for (const page of [
      `/verify?letter=${hostile}&round=${hostile}`,
      `/verify?receipt=${hostile}`,
      `/verify?letter=${'a'.repeat(4000)}&round=-1`,
      `/verify/how?text=${hostile}`,
    ]) {
      const response = await request(t.app).get(page).expect(200);
      expect(response.text, page).not.toContain('<script>alert');
      // (The language switcher's links carry the address back, encoded; the page itself carries none of it.)
      expect(mainOf(response.text), page).not.toContain('a'.repeat(100));
      expect(mainOf(response.text), page).not.toContain('alert');
    }
    await request(t.app).get('/verify/verification.md/x').expect(404);
    await request(t.app).post('/verify').type('form').send({ receipt: '{}' }).expect(404);
  });

  it('serves the page’s scripts from this origin as JavaScript', async () => {
    for (const script of ['/assets/verify.js', '/assets/verify-check.js']) {
      const response = await request(t.app).get(script).expect(200);
      expect(response.headers['content-type'], script).toMatch(/^(text|application)\/javascript/);
    }
  });
});
