import { z } from 'zod';
import { parseTrendingAlert, type PlatformSettings } from './settings.js';

/** The settings form as typed, kept to show it again when it is refused. */
export interface SettingsFormValues {
  requireReview: boolean;
  trendingAlertPerHour: string;
}

/** What the form changes (a setting it leaves out stays as it is), or the values typed and their errors. */
export type SettingsForm =
  | { ok: true; change: Partial<PlatformSettings> }
  | { ok: false; values: SettingsFormValues; errors: { trendingAlert: string } };

const schema = z.object({
  require_review: z
    .unknown()
    .optional()
    .transform((value) => value === 'yes'),
  // Absent (an older page, a script): the threshold stays as it is. Anything but text is not a number.
  trending_alert_per_hour: z
    .unknown()
    .optional()
    .transform((value) =>
      value === undefined ? undefined : typeof value === 'string' ? value.slice(0, 20) : '',
    ),
});

/** Reads the settings form: the review checkbox, and the alert threshold as a whole number of signatures per hour. */
export function parseSettingsForm(body: Record<string, unknown>): SettingsForm {
  const { require_review: requireReview, trending_alert_per_hour: alertText } = schema.parse(body);
  if (alertText === undefined) return { ok: true, change: { requireReview } };
  const trendingAlertPerHour = parseTrendingAlert(alertText);
  if (trendingAlertPerHour === undefined)
    return {
      ok: false,
      values: { requireReview, trendingAlertPerHour: alertText },
      errors: { trendingAlert: 'abuse.settings.alertInvalid' },
    };
  return { ok: true, change: { requireReview, trendingAlertPerHour } };
}
