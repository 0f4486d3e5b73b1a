import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { byClass, innerHtml, textOf } from '../support/html.js';
import { Visitor } from '../support/http.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

describe("the links between a letter's texts", () => {
  let t: TestPlatform;
  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  it('name each language in itself, as a label: English · 한국어 · Українська', async () => {
    const { slug } = await createLetter(t.platform.db, t.clock.now(), {
      texts: ['en', 'ko', 'uk'].map((language) => ({
        language,
        title: `Title ${language}`,
        summary: 'Summary.',
        body: SIMPLE_LETTER_BODY,
      })),
    });
    const html = (await new Visitor(t.app).get(`/letters/${slug}`)).text;
    const [links] = byClass(html, 'languages');
    expect(links, 'the letter offers its texts').toBeDefined();
    expect(textOf(innerHtml(html, links!))).toContain('English · 한국어 · Українська');
  });
});
