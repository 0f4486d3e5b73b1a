import { z } from 'zod';
import { looksLikeEmailAddress } from '../lib/email-address.js';
import {
  CONTROLLER_FIELDS,
  CONTROLLER_LIMITS,
  parseTrendingAlert,
  type DataController,
  type PlatformSettings,
} from './settings.js';
import { UNSAFE_IN_TEXT, visibleTrim } from '../lib/unsafe-text.js';

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

/** The data controller's form as typed, kept to show it again when it is refused. */
export type ControllerFormValues = DataController;

/** The controller's settings to save, or the values typed and each field's error (an i18n key). */
export type ControllerForm =
  | { ok: true; change: DataController }
  | { ok: false; values: ControllerFormValues; errors: Partial<Record<keyof DataController, string>> };

/** The form's field names, as the browser sends them. */
const CONTROLLER_FORM_NAMES: Readonly<Record<keyof DataController, string>> = {
  controllerName: 'controller_name',
  controllerAddress: 'controller_address',
  controllerEmail: 'controller_email',
  controllerDpo: 'controller_dpo',
  controllerAuthority: 'controller_authority',
};

/** Fields that a set controller must have; the DPO and the supervisory authority may stay empty. */
const REQUIRED: ReadonlySet<keyof DataController> = new Set([
  'controllerName',
  'controllerAddress',
  'controllerEmail',
]);

/** How many lines a postal address may have. */
const ADDRESS_LINES = 8;

/** As much of a typed value as is shown again: enough to see what was wrong, never a megabyte echoed. */
const KEPT_AS_TYPED = 2_000;

/**
 * Reads the data controller's form: each field trimmed, the address's lines trimmed with empty ones
 * dropped; name, address and e-mail required, every field within CONTROLLER_LIMITS, the e-mail of an
 * address's shape, no control characters. Refused input comes back as typed with the reason per field.
 */
export function parseControllerForm(body: Record<string, unknown>): ControllerForm {
  const typed = Object.fromEntries(
    CONTROLLER_FIELDS.map((key) => {
      const value = body[CONTROLLER_FORM_NAMES[key]];
      return [key, typeof value === 'string' ? value.slice(0, KEPT_AS_TYPED) : ''];
    }),
  ) as ControllerFormValues;
  const errors: Partial<Record<keyof DataController, string>> = {};
  const change = {} as DataController;
  for (const key of CONTROLLER_FIELDS) {
    const raw = typed[key].replace(/\r\n?/g, '\n');
    const value =
      key === 'controllerAddress'
        ? raw
            .split('\n')
            .map(visibleTrim)
            .filter((line) => line !== '')
            .join('\n')
        : visibleTrim(raw);
    const field = key.slice('controller'.length).toLowerCase();
    if (value === '' && REQUIRED.has(key)) errors[key] = `privacyNotice.controller.errors.${field}Required`;
    // Control characters (a NUL, which PostgreSQL refuses in text, escapes, bidi tricks) never, by the
    // rule of lib/unsafe-text.ts (carriage returns were made line breaks above); line breaks only in the address.
    else if (UNSAFE_IN_TEXT.test(value) || (key !== 'controllerAddress' && value.includes('\n')))
      errors[key] = 'privacyNotice.controller.errors.control';
    else if ([...value].length > CONTROLLER_LIMITS[key])
      errors[key] = `privacyNotice.controller.errors.${field}TooLong`;
    else if (key === 'controllerAddress' && value.split('\n').length > ADDRESS_LINES)
      errors[key] = 'privacyNotice.controller.errors.addressLines';
    else if (key === 'controllerEmail' && !looksLikeEmailAddress(value))
      errors[key] = 'privacyNotice.controller.errors.emailInvalid';
    change[key] = value;
  }
  if (Object.keys(errors).length > 0) return { ok: false, values: typed, errors };
  return { ok: true, change };
}
