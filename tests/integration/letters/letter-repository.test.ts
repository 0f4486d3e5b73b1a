import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isUniqueViolation } from '../../../server/db/dialect.js';
import { isComplete } from '../../../server/letters/letter.js';
import { LetterRepository } from '../../../server/letters/letter-repository.js';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';
import { createLetter } from '../../support/factories.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');

describe('LetterRepository', () => {
  let t: TestDatabase;
  let letters: LetterRepository;
  beforeEach(async () => {
    t = await createTestDatabase();
    letters = new LetterRepository(t.db);
  });
  afterEach(async () => {
    await t.close();
  });

  it('creates a letter with its first version, texts and recipients, and finds it by slug', async () => {
    const recipients = new RecipientRepository(t.db);
    const first = await recipients.findOrCreate(
      {
        name: 'Embassy A',
        title: 'Ambassador',
        organisation: 'Embassy A',
        country: 'KR',
        email: 'a@example.org',
        language: 'ko',
        salutation: 'Dear Ambassador',
      },
      NOW,
    );
    const second = await recipients.findOrCreate(
      {
        name: 'Ministry B',
        title: 'Minister',
        organisation: 'Ministry B',
        country: 'UA',
        email: 'b@example.org',
        language: 'uk',
        salutation: 'Dear Minister',
      },
      NOW,
    );
    const id = await t.db.transaction().execute((tx) =>
      letters.with(tx).create(
        {
          slug: 'protect-the-soldiers',
          status: 'open',
          primaryLanguage: 'en',
          sponsor: 'Coalition',
          goal: 5000,
          opensAt: NOW,
          closesAt: new Date('2026-12-31T00:00:00.000Z'),
          texts: [
            {
              language: 'uk',
              title: 'Захистіть',
              summary: 'Лист',
              body: 'Шановний {{recipient.salutation}}',
            },
            { language: 'en', title: 'Protect', summary: 'A letter', body: '{{recipient.salutation}},' },
            { language: 'ko', title: '보호하라', summary: '서한', body: '{{recipient.salutation}}님' },
          ],
          recipientIds: [second, first],
        },
        NOW,
      ),
    );

    const letter = await letters.findBySlug('protect-the-soldiers');
    expect(letter).toEqual({
      id,
      slug: 'protect-the-soldiers',
      status: 'open',
      primaryLanguage: 'en',
      sponsor: 'Coalition',
      goal: 5000,
      opensAt: NOW,
      closesAt: new Date('2026-12-31T00:00:00.000Z'),
      closedAt: null,
      currentVersionId: expect.any(Number),
      signatureCount: 0,
      ownerId: null,
      closeOnGoal: false,
      organisations: [],
      reviewRequestedAt: null,
      publishedAt: NOW,
      pendingEditAt: null,
      returned: null,
      embedOrigins: [],
    });
    expect(await letters.findById(id)).toEqual(letter);

    const texts = await letters.textsOfVersion(letter!.currentVersionId);
    expect(texts.map((x) => x.language)).toEqual(['en', 'ko', 'uk']);
    expect(texts.find((x) => x.language === 'ko')).toEqual({
      language: 'ko',
      title: '보호하라',
      summary: '서한',
      body: '{{recipient.salutation}}님',
    });

    const byLetter = await letters.recipientsOfLetters([id]);
    expect(byLetter.get(id)!.map((r) => r.name)).toEqual(['Ministry B', 'Embassy A']);
    // Each with its salutations as the directory reads them, one per language.
    expect(byLetter.get(id)!.map((r) => r.salutations)).toEqual([
      { uk: 'Dear Minister' },
      { ko: 'Dear Ambassador' },
    ]);
    expect(byLetter.get(id)!.map((r) => r.salutations)).toEqual([
      (await recipients.findById(second))!.salutations,
      (await recipients.findById(first))!.salutations,
    ]);
  });

  it('finds nothing for an unknown slug', async () => {
    await createLetter(t.db, NOW, { slug: 'known' });
    expect(await letters.findBySlug('unknown')).toBeUndefined();
    expect(await letters.findBySlug('KNOWN')).toBeUndefined();
  });

  it('refuses a second letter with the same slug', async () => {
    await createLetter(t.db, NOW, { slug: 'same' });
    // Refused by the unique index, in the words of either database (SQLite's UNIQUE, PostgreSQL's 23505).
    const refusal: unknown = await createLetter(t.db, NOW, { slug: 'same' }).then(
      () => 'stored',
      (error: unknown) => error,
    );
    expect(isUniqueViolation(refusal)).toBe(true);
    expect(await letters.count()).toBe(1);
  });

  it('reads the texts of several versions in one call', async () => {
    const a = await createLetter(t.db, NOW, { title: 'Letter A' });
    const b = await createLetter(t.db, NOW, { title: 'Letter B' });
    const [va, vb] = await Promise.all([letters.findById(a.id), letters.findById(b.id)]);
    const texts = await letters.textsOfVersions([va!.currentVersionId, vb!.currentVersionId]);
    expect(texts.get(va!.currentVersionId)!.map((x) => x.title)).toEqual(['Letter A']);
    expect(texts.get(vb!.currentVersionId)!.map((x) => x.title)).toEqual(['Letter B']);
    expect((await letters.textsOfVersions([])).size).toBe(0);
  });

  it('reads list headings without bodies, each text complete exactly when isComplete says so', async () => {
    const texts = [
      { language: 'en', title: 'Done', summary: 'Summary', body: 'A body.' },
      // Blank as JavaScript's trim() sees it: tabs, line breaks, no-break and ideographic spaces.
      { language: 'ko', title: '제목', summary: '요약', body: ' \t\r\n\u00a0\u3000\u2028\ufeff' },
      { language: 'uk', title: 'Назва', summary: '\u2003', body: 'Текст.' },
    ];
    const { id } = await createLetter(t.db, NOW, { texts });
    const versionId = (await letters.findById(id))!.currentVersionId;
    const headings = (await letters.headingsOfVersions([versionId])).get(versionId)!;
    expect(headings).toEqual(
      texts.map(({ language, title, summary }) => ({
        language,
        title,
        summary,
        complete: expect.any(Boolean),
      })),
    );
    expect(headings.map((h) => h.complete)).toEqual(texts.map(isComplete));
    expect(headings.map((h) => h.complete)).toEqual([true, false, false]);
    expect((await letters.headingsOfVersions([])).size).toBe(0);
  });

  it('lists one page of public letters and counts them all', async () => {
    for (let i = 0; i < 5; i++) await createLetter(t.db, NOW, { slug: `open-${i}` });
    await createLetter(t.db, NOW, { slug: 'draft', status: 'draft' });
    expect(await letters.countPublic()).toBe(5);
    const page = await letters.listPublic({ limit: 2, offset: 2 });
    expect(page.map((l) => l.slug)).toEqual(['open-2', 'open-3']);
  });

  it('lists open letters first, then closed ones, and never drafts', async () => {
    await createLetter(t.db, NOW, { slug: 'closed-one', status: 'closed' });
    await createLetter(t.db, NOW, { slug: 'draft-one', status: 'draft' });
    await createLetter(t.db, NOW, { slug: 'open-one', status: 'open' });
    await createLetter(t.db, NOW, {
      slug: 'delivered-one',
      status: 'delivered',
      closesAt: new Date('2026-11-01T00:00:00Z'),
    });
    const slugs = (await letters.listPublic()).map((l) => l.slug);
    expect(slugs[0]).toBe('open-one');
    expect(slugs.sort()).toEqual(['closed-one', 'delivered-one', 'open-one']);
  });

  it('moves the signature counter up and down, and never below zero', async () => {
    const { id, slug } = await createLetter(t.db, NOW);
    await letters.addToSignatureCount(id, 1);
    await letters.addToSignatureCount(id, 1);
    expect((await letters.findBySlug(slug))!.signatureCount).toBe(2);
    await letters.addToSignatureCount(id, -1);
    expect((await letters.findBySlug(slug))!.signatureCount).toBe(1);
    await letters.addToSignatureCount(id, -5);
    expect((await letters.findBySlug(slug))!.signatureCount).toBe(0);
    await letters.addToSignatureCount(id, -1);
    expect((await letters.findBySlug(slug))!.signatureCount).toBe(0);
  });

  it('moves only the counter of the letter it is asked to', async () => {
    const a = await createLetter(t.db, NOW);
    const b = await createLetter(t.db, NOW);
    await letters.addToSignatureCount(a.id, 3);
    expect((await letters.findById(a.id))!.signatureCount).toBe(3);
    expect((await letters.findById(b.id))!.signatureCount).toBe(0);
  });
});
