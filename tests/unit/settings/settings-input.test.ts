import { describe, expect, it } from 'vitest';
import { parseSettingsForm } from '../../../server/settings/settings-input.js';

describe('the settings form', () => {
  it('reads the review checkbox and a whole number of signatures per hour', () => {
    expect(parseSettingsForm({ require_review: 'yes', trending_alert_per_hour: ' 12 ' })).toEqual({
      ok: true,
      change: { requireReview: true, trendingAlertPerHour: 12 },
    });
    expect(parseSettingsForm({ trending_alert_per_hour: '50' })).toEqual({
      ok: true,
      change: { requireReview: false, trendingAlertPerHour: 50 },
    });
  });

  it('leaves the threshold as it is when the form has no such field (an older page, a script)', () => {
    expect(parseSettingsForm({ require_review: 'yes' })).toEqual({
      ok: true,
      change: { requireReview: true },
    });
  });

  it.each([['many'], ['0'], ['1.5'], ['-3'], ['1e3'], [''], ['9'.repeat(30)]])(
    'refuses %j as a threshold, keeping what was typed (at most 20 characters)',
    (typed) => {
      const form = parseSettingsForm({ require_review: 'yes', trending_alert_per_hour: typed });
      expect(form).toEqual({
        ok: false,
        values: { requireReview: true, trendingAlertPerHour: typed.slice(0, 20) },
        errors: { trendingAlert: 'abuse.settings.alertInvalid' },
      });
    },
  );

  it('takes a repeated or non-text field as nothing, never as a value', () => {
    expect(
      parseSettingsForm({ require_review: ['yes', 'yes'], trending_alert_per_hour: ['5'] }),
    ).toMatchObject({
      ok: false,
      values: { requireReview: false, trendingAlertPerHour: '' },
    });
  });
});
