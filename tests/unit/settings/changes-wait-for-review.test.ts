import { describe, expect, it } from 'vitest';
import { changesWaitForReview } from '../../../server/settings/settings.js';

describe('when changes to a letter wait for review', () => {
  it('holds changes to a published letter when review is required and the account may not skip it', () => {
    expect(changesWaitForReview(true, true, false)).toBe(true);
  });

  it('changes a draft in place: nothing is public yet', () => {
    expect(changesWaitForReview(false, true, false)).toBe(false);
  });

  it('applies changes at once when review is off, or for an account that may publish unreviewed', () => {
    for (const published of [true, false]) {
      expect(changesWaitForReview(published, false, false)).toBe(false);
      expect(changesWaitForReview(published, true, true)).toBe(false);
    }
  });
});
