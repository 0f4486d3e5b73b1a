import { describe, expect, it } from 'vitest';
import { changesWaitForReview, LETTER_STATUSES } from '../../../server/letters/letter.js';

describe('when changes to a letter wait for review', () => {
  it('holds changes to a published letter when review is required and the account may not skip it', () => {
    for (const status of ['open', 'closed', 'delivered'] as const)
      expect(changesWaitForReview(status, true, false), status).toBe(true);
  });

  it('changes a draft in place: nothing is public yet', () => {
    expect(changesWaitForReview('draft', true, false)).toBe(false);
  });

  it('applies changes at once when review is off, or for an account that may publish unreviewed', () => {
    for (const status of LETTER_STATUSES) {
      expect(changesWaitForReview(status, false, false), status).toBe(false);
      expect(changesWaitForReview(status, true, true), status).toBe(false);
    }
  });
});
