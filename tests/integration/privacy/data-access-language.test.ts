import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createI18n } from '../../../server/lib/i18n.js';
import { createLetter, signingForm } from '../../support/factories.js';
import { Visitor } from '../../support/http.js';
import { lastMailTo, signatureLinks } from '../../support/signing.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const i18n = createI18n();
const KIM = { name: 'Kim Ji-hoon', email: 'ji-hoon.kim@example.org', country: 'KR' };
const TEXTS = ['en', 'ko', 'uk'].map((language) => ({
  language,
  title: `Title ${language}`,
  summary: 'A test letter.',
  body: '{{recipient.salutation}}',
}));

describe("a supporter's data-access answer", () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  async function signOn(slug: string, lang: string): Promise<void> {
    const visitor = new Visitor(t.app);
    const page = `/letters/${slug}?lang=${lang}&text=${lang}`;
    const response = await visitor.submit(page, `/letters/${slug}/sign?lang=${lang}&text=${lang}`, {
      ...signingForm(KIM),
      language: lang,
    });
    expect(response.status).toBe(303);
    await t.drainOutbox();
  }

  async function askForData(): Promise<string | undefined> {
    const before = t.sink.messages.length;
    const asker = new Visitor(t.app);
    expect((await asker.submit('/privacy/access', '/privacy/access', { email: KIM.email })).status).toBe(200);
    await t.drainOutbox();
    return t.sink.messages.slice(before).at(-1)?.parsed.subject;
  }

  it('is written in the language the supporter used last, by time, not in that of the newest signature row', async () => {
    const first = await createLetter(t.platform.db, t.clock.now(), { slug: 'first-letter', texts: TEXTS });
    const second = await createLetter(t.platform.db, t.clock.now(), { slug: 'second-letter', texts: TEXTS });
    await signOn(first.slug, 'uk');
    const { withdraw } = signatureLinks(lastMailTo(t, KIM.email));
    t.clock.advance(60_000);
    await signOn(second.slug, 'en');
    // Kim withdraws from the first letter and, a day later, signs it again on Korean pages: the older
    // row now holds the language used last.
    expect((await new Visitor(t.app).submit(withdraw, withdraw, {})).status).toBe(303);
    t.clock.advance(86_400_000);
    await signOn(first.slug, 'ko');

    expect(await askForData()).toBe(i18n.getFixedT('ko')('emails.data-access.subject'));
  });
});
