import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LetterRepository } from '../../server/letters/letter-repository.js';
import { createDraft, fieldErrors, letterForm, organizerPlatform, postForm } from '../support/admin-forms.js';
import type { Visitor } from '../support/http.js';
import type { TestPlatform } from '../support/test-platform.js';

const TAKEN = 'Another letter already uses this address. Choose another.';

/**
 * Two organizers choosing one web address at the same moment: each save checks the address inside its
 * transaction, and under PostgreSQL's READ COMMITTED both checks can find it free; the unique index keeps
 * one letter. The check that came too early is played here by the repository answering "free" once.
 */
describe('two letters taking one web address at once', () => {
  let t: TestPlatform;
  let visitor: Visitor;
  let recipient: number;
  beforeEach(async () => {
    ({ t, visitor, recipient } = await organizerPlatform());
    await createDraft(visitor, [recipient], { slug: 'one-address' });
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await t.close();
  });

  async function slugs(): Promise<string[]> {
    const rows = await t.platform.db.selectFrom('letters').select('slug').orderBy('id').execute();
    return rows.map((r) => r.slug);
  }

  it('shows the second new letter the address error, not a server error, and keeps one letter', async () => {
    vi.spyOn(LetterRepository.prototype, 'slugTaken').mockResolvedValueOnce(false);
    const response = await postForm(
      visitor,
      '/admin/letters/new',
      '/admin/letters',
      letterForm([recipient], { slug: 'one-address' }),
    );

    expect(response.status).toBe(422);
    expect(fieldErrors(response.text, 'field-slug')).toEqual([TAKEN]);
    expect(await slugs()).toEqual(['one-address']);
  });

  it('shows a draft saved to the address meanwhile taken the address error, and changes nothing', async () => {
    const other = await createDraft(visitor, [recipient], { slug: 'another-address' });
    vi.spyOn(LetterRepository.prototype, 'slugTaken').mockResolvedValueOnce(false);
    const response = await postForm(
      visitor,
      `/admin/letters/${other}`,
      `/admin/letters/${other}`,
      letterForm([recipient], { slug: 'one-address' }),
    );

    expect(response.status).toBe(422);
    expect(fieldErrors(response.text, 'field-slug')).toEqual([TAKEN]);
    expect(await slugs()).toEqual(['one-address', 'another-address']);
  });
});
