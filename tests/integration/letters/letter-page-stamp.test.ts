import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { LetterRepository } from '../../../server/letters/letter-repository.js';
import type { LetterService } from '../../../server/letters/letter-service.js';
import { createLetter } from '../../support/factories.js';
import { letterServiceOn } from '../../support/letter-service.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const NOW = new Date('2026-12-05T12:00:00.000Z');

describe("a public letter page's stamp (LetterService.pageStamp)", () => {
  let temp: TestDatabase;
  let repository: LetterRepository;
  let service: LetterService;

  beforeEach(async () => {
    temp = await createTestDatabase();
    ({ repository, service } = letterServiceOn(temp, NOW));
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await temp.close();
  });

  it('never keeps a stamp read before a write under the mark that came after it', async () => {
    const { id, slug } = await createLetter(temp.db, NOW);
    // The first call reads the letter, then waits (as an await lets other requests run) until released.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let haveRead!: () => void;
    const read = new Promise<void>((resolve) => (haveRead = resolve));
    const findBySlug = repository.findBySlug.bind(repository);
    vi.spyOn(repository, 'findBySlug').mockImplementationOnce(async (s) => {
      const letter = await findBySlug(s);
      haveRead();
      await released;
      return letter;
    });

    const early = service.pageStamp(slug);
    // The write comes once the first call has read the letter: on PostgreSQL the read is a round trip of
    // its own, on another pooled connection, and could otherwise reach the server after the write.
    await read;
    await sql`update letters set signature_count = signature_count + 1 where id = ${id}`.execute(temp.db);
    const fresh = await service.pageStamp(slug);
    release();
    const stale = await early;

    expect(stale).not.toBe(fresh);
    // Nothing was written since the fresh stamp: it is still the one answered.
    expect(await service.pageStamp(slug)).toBe(fresh);
  });
});
