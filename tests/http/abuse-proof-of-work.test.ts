import { solveChallenge, type Challenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { Visitor } from '../support/http.js';
import { sign, signAndConfirm, signatureRows, storedCount } from '../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

// Several signings from one test client in a minute: the signing limits are not what these tests are about.
const ROOMY_LIMITS = { SIGNING_LIMIT_BURST: '100/60', SIGNING_LIMIT_SUSTAINED: '100/300' };

/** Fetches a challenge from the endpoint the widget uses and solves it with altcha-lib's own solver. */
async function solvedProof(t: TestPlatform): Promise<string> {
  const response = await request(t.app).get('/altcha/challenge');
  expect(response.status).toBe(200);
  const challenge = response.body as Challenge;
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('the challenge was not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

const reasons = (value: string | null) => (value ? value.split(',') : []);

describe('proof of work on the signing form', () => {
  let t: TestPlatform;
  let slug: string;
  beforeEach(async () => {
    t = await createTestPlatform({ env: ROOMY_LIMITS });
    ({ slug } = await createLetter(t.platform.db, t.clock.now()));
  });
  afterEach(async () => {
    await t.close();
  });

  it('puts the widget inside the signing form, with every file from our own origin', async () => {
    const page = await new Visitor(t.app).get(`/letters/${slug}`);
    const form = page.text.slice(
      page.text.indexOf(`action="/letters/${slug}/sign"`),
      page.text.indexOf('</form>'),
    );
    expect(form).toContain('<altcha-widget challenge="/altcha/challenge" name="altcha"');
    expect(form).toContain('<script type="module" src="/assets/altcha/altcha.js"></script>');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    for (const [file, type] of [
      ['/assets/altcha/altcha.js', /javascript/],
      ['/assets/altcha/pbkdf2-worker.js', /javascript/],
      ['/assets/altcha/altcha.css', /text\/css/],
      ['/assets/proof-of-work.js', /javascript/],
    ] as const) {
      const asset = await request(t.app).get(file);
      expect(asset.status, file).toBe(200);
      expect(asset.headers['content-type'], file).toMatch(type);
    }
    expect((await request(t.app).get('/assets/altcha/package.json')).status).toBe(404);
    expect((await request(t.app).get('/assets/altcha/constructor')).status).toBe(404);
  });

  it("speaks the page's language: the widget's own words in Korean and Ukrainian, never English", async () => {
    for (const [language, label] of [
      ['ko', '저는 로봇이 아닙니다'],
      ['uk', 'Я не робот'],
      ['en', "I'm not a robot"],
    ] as const) {
      const page = await new Visitor(t.app).get(`/letters/${slug}?lang=${language}`);
      expect(page.text, language).toContain(`language="${language}"`);
      expect(page.text, language).toContain(
        `<script type="module" src="/assets/altcha/i18n-${language}.js"></script>`,
      );
      const words = await request(t.app).get(`/assets/altcha/i18n-${language}.js`);
      expect(words.status, language).toBe(200);
      expect(words.headers['content-type'], language).toMatch(/javascript/);
      expect(words.text, language).toContain(label);
      expect(words.text, language).toContain(`$altcha.i18n.set("${language}"`);
    }
    expect((await request(t.app).get('/assets/altcha/i18n-de.js')).status).toBe(404);
  });

  it('hands out a fresh signed challenge that no cache may keep', async () => {
    const first = await request(t.app).get('/altcha/challenge');
    const second = await request(t.app).get('/altcha/challenge');
    expect(first.status).toBe(200);
    expect(first.headers['cache-control']).toBe('no-store');
    const a = first.body as Challenge;
    const b = second.body as Challenge;
    expect(a.signature).toMatch(/^[0-9a-f]{64}$/);
    expect(a.parameters.nonce).not.toBe(b.parameters.nonce);
    // Short-lived: it expires within the next half hour.
    expect(a.parameters.expiresAt! * 1000).toBeGreaterThan(Date.now());
    expect(a.parameters.expiresAt! * 1000).toBeLessThan(Date.now() + 30 * 60_000);
  });

  it('stores a signature with a solved challenge with nothing to say about it', async () => {
    await sign(new Visitor(t.app), slug, { altcha: await solvedProof(t) });
    const [row] = await signatureRows(t.platform.db);
    expect(reasons(row!.suspect_reasons)).toEqual([]);
    expect(reasons(row!.review_reasons)).toEqual([]);
  });

  it('answers a replayed solution like any other, and stores it silenced as proof-replayed', async () => {
    const proof = await solvedProof(t);
    const first = await sign(new Visitor(t.app), slug, { altcha: proof, email: 'first@example.org' });
    const replay = await sign(new Visitor(t.app), slug, { altcha: proof, email: 'second@example.org' });
    expect(replay.status).toBe(first.status);
    expect(replay.headers.location).toBe(first.headers.location);
    const [original, replayed] = await signatureRows(t.platform.db);
    expect(reasons(original!.suspect_reasons)).toEqual([]);
    expect(reasons(replayed!.suspect_reasons)).toContain('proof-replayed');
  });

  it('stores a forged solution silenced as proof-invalid', async () => {
    const proof = JSON.parse(Buffer.from(await solvedProof(t), 'base64').toString()) as {
      challenge: Challenge;
      solution: { counter: number; derivedKey: string };
    };
    // Made easier after signing: the server's signature no longer matches the parameters.
    proof.challenge.parameters.cost = 1;
    await sign(new Visitor(t.app), slug, { altcha: Buffer.from(JSON.stringify(proof)).toString('base64') });
    const [row] = await signatureRows(t.platform.db);
    expect(reasons(row!.suspect_reasons)).toContain('proof-invalid');
  });

  it('flags a signature sent without JavaScript for review, and still counts it once confirmed', async () => {
    const visitor = new Visitor(t.app);
    await signAndConfirm(t, visitor, slug);
    const [row] = await signatureRows(t.platform.db);
    expect(reasons(row!.suspect_reasons)).toEqual([]);
    expect(reasons(row!.review_reasons)).toContain('no-proof-of-work');
    expect(row!.status).toBe('confirmed');
    expect(await storedCount(t, slug)).toBe(1);
  });
});

describe('with proof of work switched off (PROOF_OF_WORK=0, benchmarks only)', () => {
  let t: TestPlatform;
  afterEach(async () => {
    await t.close();
  });

  it('shows no widget, makes no challenge, and flags nothing', async () => {
    t = await createTestPlatform({ env: { ...ROOMY_LIMITS, PROOF_OF_WORK: '0' } });
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    const visitor = new Visitor(t.app);
    expect((await visitor.get(`/letters/${slug}`)).text).not.toContain('altcha-widget');
    expect((await request(t.app).get('/altcha/challenge')).status).toBe(404);
    await sign(visitor, slug);
    const [row] = await signatureRows(t.platform.db);
    expect(reasons(row!.review_reasons)).toEqual([]);
  });
});
