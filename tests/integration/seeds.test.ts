import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readSeedLetters, loadSeedLetters } from '../../seeds/seed-loader.js';
import { LIMITS } from '../../server/letters/letter-input.js';
import { checkLetterSizeForSave, checkLetterText } from '../../server/letters/letter-text-check.js';
import { renderLetter } from '../../server/letters/letter-text.js';
import { countryName } from '../../server/lib/countries.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const REQUIRED_SLUGS = [
  'freedom-to-choose-asylum',
  'coalition-letter-embassy-seoul',
  'unhcr-icrc-refugee-status',
  'third-path-resettlement',
  'legal-grounds-non-repatriation',
];

/** The languages every demo letter is written in: the platform's interface languages. */
const DEMO_LANGUAGES = ['en', 'ko', 'uk'];

/** Titles longer than this wrap onto a third line in the letter list and on cards. */
const CARD_TITLE_LIMIT = 90;

/** The merge fields and blocks a letter text uses, as written ("recipient.salutation", "#each signatories"). */
function mergeFieldsOf(body: string): string[] {
  return [...new Set([...body.matchAll(/\{\{\s*([^}]*?)\s*\}\}/g)].map((m) => m[1]!))].sort();
}

/** The numbered asks and bullet points of a letter text, counted: each translation asks the same things. */
function listItemsOf(body: string): number {
  return body.match(/^(\d+\.|-) /gm)?.length ?? 0;
}

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

  it('are each written in English, Korean and Ukrainian, in the script of each language', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      expect(Object.keys(seed.translations).sort(), seed.slug).toEqual([...DEMO_LANGUAGES].sort());
      expect(Object.keys(seed.bodies).sort(), seed.slug).toEqual([...DEMO_LANGUAGES].sort());
      for (const language of ['ko', 'uk']) {
        const { title, summary } = seed.translations[language]!;
        const script = language === 'ko' ? /[\uac00-\ud7a3]/ : /[іїєґ]/i;
        for (const text of [title, summary, seed.bodies[language]!]) {
          expect(text, `${seed.slug}.${language}`).toMatch(script);
          // No English sentence left behind untranslated.
          expect(text, `${seed.slug}.${language}`).not.toMatch(/\b(the|and|of|we|to)\b/i);
        }
      }
    }
  });

  it("pass the check an organizer's letter text gets when saved, in every language, up to the goal", () => {
    expect(seeds.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      for (const language of DEMO_LANGUAGES) {
        const body = seed.bodies[language]!;
        const where = `${seed.slug}.${language}`;
        expect(checkLetterText(body), where).toEqual({ ok: true });
        expect(body.length, where).toBeLessThanOrEqual(LIMITS.body);
        expect(checkLetterSizeForSave(body, language, seed.goal, countryName), where).toBeUndefined();
        const { title, summary } = seed.translations[language]!;
        expect(title.length, where).toBeLessThanOrEqual(Math.min(LIMITS.title, CARD_TITLE_LIMIT));
        expect(summary.length, where).toBeLessThanOrEqual(LIMITS.summary);
      }
    }
  });

  it('use the same merge fields and the same number of asks in every translation as in English', () => {
    expect(seeds.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const seed of seeds) {
      const english = seed.bodies.en!;
      expect(mergeFieldsOf(english), seed.slug).toContain('recipient.salutation');
      expect(mergeFieldsOf(english), seed.slug).toContain('#each signatories');
      for (const language of DEMO_LANGUAGES) {
        const body = seed.bodies[language]!;
        expect(mergeFieldsOf(body), `${seed.slug}.${language}`).toEqual(mergeFieldsOf(english));
        expect(listItemsOf(body), `${seed.slug}.${language}`).toBe(listItemsOf(english));
      }
    }
  });

  it('greet every recipient in English, Korean and Ukrainian, as each language addresses an official', () => {
    const recipients = seeds.flatMap((seed) => seed.recipients);
    expect(recipients.length).toBeGreaterThanOrEqual(REQUIRED_SLUGS.length);
    for (const recipient of recipients) {
      const salutations: Record<string, string> = {
        ...recipient.salutations,
        [recipient.language]: recipient.salutation,
      };
      expect(Object.keys(salutations).sort(), recipient.email).toEqual(
        expect.arrayContaining(DEMO_LANGUAGES),
      );
      expect(salutations.ko, recipient.email).toMatch(/^존경하는 .*께$/);
      expect(salutations.uk, recipient.email).toMatch(/^(Шановн|Ваша Високоповажносте)/);
      // The letter text adds the closing punctuation of its language ("," or "!"), never the salutation.
      for (const salutation of Object.values(salutations)) {
        expect(salutation, recipient.email).not.toMatch(/[,!.:]$/);
      }
    }
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

  it('shows each text of a seed letter opening with the salutation its recipient is greeted with in that language', async () => {
    const { default: request } = await import('supertest');
    const greetings = {
      en: 'Dear Mr President,',
      ko: '존경하는 우크라이나 대통령님께',
      uk: 'Шановний пане Президенте!',
    };
    for (const [language, greeting] of Object.entries(greetings)) {
      const page = await request(t.app).get(`/letters/freedom-to-choose-asylum?text=${language}`);
      expect(page.status).toBe(200);
      expect(page.text, language).toContain(greeting);
    }
  });
});
