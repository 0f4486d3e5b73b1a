import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSeedLetters, loadSeedLetters } from '../../seeds/seed-loader.js';
import { renderLetter } from '../../server/letters/letter-text.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const REQUIRED_SLUGS = [
  'freedom-to-choose-asylum',
  'coalition-letter-embassy-seoul',
  'unhcr-icrc-refugee-status',
  'third-path-resettlement',
  'legal-grounds-non-repatriation',
];

describe('the demo letters in seeds/', () => {
  const seeds = readSeedLetters();

  it('include the five letters the first campaigns are modelled on', () => {
    expect(seeds.map((s) => s.slug)).toEqual(expect.arrayContaining(REQUIRED_SLUGS));
  });

  it('give every letter a title, summary, recipients, goal and closing period', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      expect(seed.translations[seed.primaryLanguage], seed.slug).toBeDefined();
      expect(seed.recipients.length, seed.slug).toBeGreaterThan(0);
      expect(seed.goal, seed.slug).toBeGreaterThan(0);
      expect(seed.closesInDays, seed.slug).toBeGreaterThan(0);
    }
  });

  it('address recipients only at reserved example domains', () => {
    expect(seeds.flatMap((seed) => seed.recipients).length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      for (const recipient of seed.recipients) {
        expect(recipient.email, seed.slug).toMatch(/@([a-z0-9-]+\.)*example\.(org|com|net)$/i);
      }
    }
  });

  it('have a Korean text beside the English for at least one letter', () => {
    const bilingual = seeds.filter((s) => s.bodies.en && s.bodies.ko);
    expect(bilingual.length).toBeGreaterThan(0);
    for (const seed of bilingual) expect(seed.bodies.ko).toMatch(/[\uac00-\ud7a3]/);
  });

  it('render for every recipient in every language with the documented merge fields only', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      expect(Object.keys(seed.bodies), seed.slug).toContain(seed.primaryLanguage);
      expect(seed.recipients.length, seed.slug).toBeGreaterThan(0);
      for (const [language, body] of Object.entries(seed.bodies)) {
        for (const recipient of seed.recipients) {
          const rendered = renderLetter(body, {
            recipient: {
              name: recipient.name,
              title: recipient.title,
              organisation: recipient.organisation,
              salutation: recipient.salutation,
            },
            letter: { title: seed.translations[language]!.title },
            date: '23 November 2026',
            signatureCount: '1,234',
            countries: [{ name: 'South Korea', count: '1,000' }],
            signatories: [{ name: 'K. J.-H.', country: 'South Korea' }],
            organisations: [{ name: 'Citizens' }],
          });
          expect(rendered.text, `${seed.slug}.${language}`).toContain(recipient.salutation);
          expect(rendered.text).toContain('K. J.-H.');
          expect(rendered.text).not.toMatch(/\{\{|\}\}/);
        }
      }
    }
  });
});

describe('loading the demo letters', () => {
  let t: TestPlatform;
  beforeAll(async () => {
    t = await createTestPlatform();
  });
  afterAll(async () => {
    await t.close();
  });

  it('opens every seed letter from now until its closing period ends, and is idempotent', async () => {
    const now = t.clock.now();
    const created = await loadSeedLetters(t.platform.db, now);
    expect(created.sort()).toEqual(
      readSeedLetters()
        .map((s) => s.slug)
        .sort(),
    );
    expect(await loadSeedLetters(t.platform.db, now)).toEqual([]);
    expect(await t.platform.repositories.letters.count()).toBe(created.length);

    const letter = await t.platform.repositories.letters.findBySlug('freedom-to-choose-asylum');
    expect(letter?.status).toBe('open');
    expect(letter?.opensAt?.toISOString()).toBe(now.toISOString());
    expect(letter!.closesAt!.getTime()).toBeGreaterThan(now.getTime());
  });

  it('shows each seed letter on the home page and on its own page', async () => {
    const { default: request } = await import('supertest');
    const home = await request(t.app).get('/');
    for (const seed of readSeedLetters()) {
      expect(home.text).toContain(`/letters/${seed.slug}`);
      const page = await request(t.app).get(`/letters/${seed.slug}`);
      expect(page.status).toBe(200);
    }
    const korean = await request(t.app).get('/letters/freedom-to-choose-asylum?lang=ko');
    expect(korean.text).toMatch(/lang="ko"/);
    expect(korean.text).toMatch(/[\uac00-\ud7a3]/);
  });
});
