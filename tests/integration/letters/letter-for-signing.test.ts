import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LetterRepository } from '../../../server/letters/letter-repository.js';
import type { LetterService } from '../../../server/letters/letter-service.js';
import { createLetter, SIMPLE_LETTER_BODY } from '../../support/factories.js';
import { letterServiceOn } from '../../support/letter-service.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');
const text = (language: string, title: string) => ({
  language,
  title,
  summary: 'A test letter.',
  body: SIMPLE_LETTER_BODY,
});

describe('the letter a signing form posts to (LetterService.forSigning)', () => {
  let temp: TestDatabase;
  let repository: LetterRepository;
  let service: LetterService;

  beforeEach(async () => {
    temp = await createTestDatabase();
    ({ repository, service } = letterServiceOn(temp, NOW));
  });
  afterEach(async () => {
    await temp.close();
  });

  it("reads a public version's texts once, not on every signing", async () => {
    const { slug } = await createLetter(temp.db, NOW, {
      texts: [text('en', 'Protect them'), text('ko', '보호')],
    });
    const reads = vi.spyOn(repository, 'textsOfVersion');
    const chosen: string[] = [];
    for (const language of ['ko', 'en', 'ko'])
      chosen.push((await service.forSigning(slug, language)).textLanguage);

    expect(chosen).toEqual(['ko', 'en', 'ko']);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it('follows a new version at once: its texts are read under its own id', async () => {
    const { id, slug } = await createLetter(temp.db, NOW, { texts: [text('en', 'Protect them')] });
    expect((await service.forSigning(slug, 'uk')).textLanguage).toBe('en');
    await repository.addVersion(id, [text('en', 'Protect them'), text('uk', 'Захистіть їх')], null, NOW);

    expect((await service.forSigning(slug, 'uk')).textLanguage).toBe('uk');
  });

  it("sees a draft's texts as they are when it is published, however often it was asked for before", async () => {
    const { id, slug } = await createLetter(temp.db, NOW, { status: 'draft', texts: [text('en', 'Draft')] });
    await expect(service.forSigning(slug, 'ko')).rejects.toMatchObject({ status: 404 });
    const { currentVersionId } = (await repository.findById(id))!;
    await repository.replaceTexts(currentVersionId, [text('en', 'Draft'), text('ko', '초안')]);
    expect(await repository.transition(id, 'draft', 'open', { publishedAt: NOW }, NOW)).toBe(true);

    expect((await service.forSigning(slug, 'ko')).textLanguage).toBe('ko');
  });
});
