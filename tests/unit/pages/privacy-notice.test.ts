import { describe, expect, it } from 'vitest';
import { monthsBefore } from '../../../server/signatures/privacy-service.js';
import { monthsAfter, retentionPlan } from '../../../server/pages/privacy-notice.js';

const now = new Date('2026-12-06T01:00:00Z');

describe("the privacy notice's retention dates", () => {
  it('are the moment the retention job takes the letter: not a millisecond before, and from then on', () => {
    // The job anonymises once closed <= monthsBefore(now, N) (PrivacyService.applyRetention).
    const due = (closed: Date, months: number, at: Date) => closed <= monthsBefore(at, months);
    for (let day = 0; day < 2 * 366; day += 1) {
      const closed = new Date(Date.UTC(2026, 0, 1, 13, 30) + day * 86_400_000);
      for (const months of [1, 6, 13, 120]) {
        const from = monthsAfter(closed, months);
        const label = `${closed.toISOString()} + ${months}`;
        expect(due(closed, months, new Date(from.getTime() - 1)), label).toBe(false);
        expect(due(closed, months, from), label).toBe(true);
      }
    }
    // A day the month lacks: 31 August + 6 months is the start of March, not 3 March.
    expect(monthsAfter(new Date('2026-08-31T12:00:00Z'), 6).toISOString()).toBe('2027-03-01T00:00:00.000Z');
  });

  it('count from when a closed letter closed, or from its closing date when that is unknown', () => {
    const closesAt = new Date('2026-12-01T00:00:00Z');
    const closedAt = new Date('2026-11-20T00:00:00Z');
    expect(retentionPlan({ status: 'closed', closesAt }, closedAt, 6, now)).toEqual({
      kind: 'after-closed',
      closedAt,
      eraseFrom: new Date('2027-05-20T00:00:00Z'),
      done: false,
    });
    expect(retentionPlan({ status: 'delivered', closesAt }, null, 1, now)).toMatchObject({
      kind: 'after-closed',
      closedAt: closesAt,
      done: false,
    });
    expect(
      retentionPlan({ status: 'closed', closesAt: null }, new Date('2026-01-01T00:00:00Z'), 6, now),
    ).toMatchObject({
      kind: 'after-closed',
      done: true,
    });
  });

  it('name the planned closing date of an open letter, and none when it has no closing date', () => {
    const closesAt = new Date('2027-01-31T00:00:00Z');
    expect(retentionPlan({ status: 'open', closesAt }, null, 6, now)).toEqual({
      kind: 'after-closing-date',
      closesAt,
      eraseFrom: monthsAfter(closesAt, 6),
    });
    expect(retentionPlan({ status: 'open', closesAt: null }, null, 6, now)).toEqual({ kind: 'while-open' });
  });
});
