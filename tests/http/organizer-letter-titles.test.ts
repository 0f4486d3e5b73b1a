import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '../../server/audit/audit-repository.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../support/factories.js';
import { innerHtml, mainOf, startTags, textOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { signedIn } from '../support/accounts.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const TITLES = { en: 'Protect the captured soldiers', ko: '포로가 된 병사들을 보호하십시오' };
const ENGLISH_ONLY = 'A letter in English only';

/**
 * The organizer's lists title each letter in the reader's interface language when the letter has a text
 * in it, else in its primary language, marked with that language so it is read out in its own.
 */
describe("the organizer's lists of letters, in the reader's language", () => {
  let t: TestPlatform;
  let admin: Visitor;
  let bilingual: number;
  let englishOnly: number;
  let untranslated: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ visitor: admin } = await signedIn(t.app, t.platform, 'admin'));
    const text = (language: keyof typeof TITLES) => ({
      language,
      title: TITLES[language],
      summary: 'A test letter.',
      body: SIMPLE_LETTER_BODY,
    });
    ({ id: bilingual } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [text('en'), text('ko')],
    }));
    ({ id: englishOnly } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [{ ...text('en'), title: ENGLISH_ONLY }],
    }));
    // A Korean text begun but not translated yet: stored with an empty title.
    ({ id: untranslated } = await createLetter(t.platform.db, t.clock.now(), {
      texts: [
        { ...text('en'), title: 'Not translated yet' },
        { ...text('ko'), title: '' },
      ],
    }));
  });
  afterAll(async () => {
    await t?.close();
  });

  /** Each link to a letter's editor on a page: its text and its lang attribute. */
  const titlesOn = async (path: string) => {
    const main = mainOf((await admin.get(path)).text);
    const links = startTags(main, 'a').filter((a) => /^\/admin\/letters\/\d+$/.test(a.attrs.href ?? ''));
    return new Map(
      links.map((a) => [
        Number(a.attrs.href!.split('/').pop()),
        { text: textOf(innerHtml(main, a)), lang: a.attrs.lang },
      ]),
    );
  };

  it.each(['/admin', '/admin/letters'])(
    '%s: Korean for a Korean reader where the letter has it, else English marked as such',
    async (page) => {
      const korean = await titlesOn(`${page}?lang=ko`);
      expect(korean.get(bilingual)).toEqual({ text: TITLES.ko, lang: undefined });
      expect(korean.get(englishOnly)).toEqual({ text: ENGLISH_ONLY, lang: 'en' });
      expect(korean.get(untranslated)).toEqual({ text: 'Not translated yet', lang: 'en' });

      const english = await titlesOn(`${page}?lang=en`);
      expect(english.get(bilingual)).toEqual({ text: TITLES.en, lang: undefined });
      expect(english.get(englishOnly)).toEqual({ text: ENGLISH_ONLY, lang: undefined });

      // A language the letter has no text in: its primary language's title.
      const ukrainian = await titlesOn(`${page}?lang=uk`);
      expect(ukrainian.get(bilingual)).toEqual({ text: TITLES.en, lang: 'en' });
    },
  );

  it("names the audit log's letters by the same rule", async () => {
    const audit = new AuditRepository(t.platform.db);
    for (const id of [bilingual, englishOnly])
      await audit.record(
        { actor: 'platform', action: 'letter-saved', targetType: 'letter', targetId: id },
        t.clock.now(),
      );
    // An export names its letter by its web address: the same title for it.
    const slug = (await t.platform.repositories.letters.findById(bilingual))!.slug;
    await audit.record(
      { actor: 'platform', action: 'export', targetType: 'letter', targetId: slug },
      t.clock.now(),
    );
    const subjects = async (language: string) => {
      const main = mainOf((await admin.get(`/admin/audit?lang=${language}`)).text);
      return startTags(main, 'a')
        .filter((a) => /^\/admin\/letters\/\d+$/.test(a.attrs.href ?? ''))
        .map((a) => ({
          id: Number(a.attrs.href!.split('/').pop()),
          text: textOf(innerHtml(main, a)),
          lang: a.attrs.lang,
        }));
    };
    expect(await subjects('ko')).toEqual([
      { id: bilingual, text: TITLES.ko, lang: undefined },
      { id: englishOnly, text: ENGLISH_ONLY, lang: 'en' },
      { id: bilingual, text: TITLES.ko, lang: undefined },
    ]);
    expect(await subjects('uk')).toEqual([
      { id: bilingual, text: TITLES.en, lang: 'en' },
      { id: englishOnly, text: ENGLISH_ONLY, lang: 'en' },
      { id: bilingual, text: TITLES.en, lang: 'en' },
    ]);
  });

  it("heads the editor with the letter's title by the same rule", async () => {
    const heading = async (id: number, language: string) => {
      const main = mainOf((await admin.get(`/admin/letters/${id}?lang=${language}`)).text);
      const h1 = innerHtml(main, startTags(main, 'h1')[0]!);
      return { text: textOf(h1), lang: startTags(h1, 'span')[0]?.attrs.lang };
    };
    expect(await heading(bilingual, 'ko')).toEqual({ text: `편집: ${TITLES.ko}`, lang: undefined });
    expect(await heading(bilingual, 'en')).toEqual({ text: `Edit: ${TITLES.en}`, lang: undefined });
    // A title in another language than the page's is marked with it, so it is read out in its own.
    expect(await heading(untranslated, 'ko')).toEqual({ text: '편집: Not translated yet', lang: 'en' });
  });

  it("lists the export form's letters by the same rule", async () => {
    const form = (await admin.get('/admin/exports?lang=ko')).text;
    const options = startTags(form, 'option').map((o) => textOf(innerHtml(form, o)));
    expect(options).toContain(TITLES.ko);
    expect(options).not.toContain(TITLES.en);
  });
});
