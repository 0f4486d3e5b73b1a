import { z } from 'zod';
import { firstErrorPerField } from '../lib/form-errors.js';
import { isCountryCode } from '../lib/countries.js';
import { withinAddressLimits } from '../lib/email-address.js';
import { DISPLAY_CHOICES, type DisplayChoice } from './signature.js';
import { visibleLine } from '../lib/unsafe-text.js';

/** What the signing form sends, as typed and as the supporter will see it again if something is wrong. */
export interface SigningFormValues {
  name: string;
  email: string;
  country: string;
  city: string;
  organisation: string;
  title: string;
  display: string;
  privacy: boolean;
  updates: boolean;
}

export interface SigningInput {
  fullName: string;
  email: string;
  country: string;
  city: string;
  organisation: string;
  jobTitle: string;
  display: DisplayChoice;
  consentUpdates: boolean;
}

// Control characters have no place in a name and can corrupt CSV exports and mail headers; a bidi
// override would show a name on the public list in another order than it was typed; and nothing anyone
// can see is nothing: a name of Hangul fillers is missing, not a blank on the list (lib/unsafe-text.ts).
const text = (max: number) =>
  visibleLine(max, { tooLong: 'errors.field.tooLong', unsafe: 'errors.field.controlCharacters' });

/**
 * The longest value each text field of the signing form accepts: the schema refuses longer ones and the
 * form's maxlength attributes show the same numbers, so the two cannot drift apart.
 */
export const SIGNING_FORM_LIMITS = {
  name: 120,
  email: 254,
  city: 80,
  organisation: 120,
  title: 120,
} as const satisfies Partial<Record<keyof SigningFormValues, number>>;

/**
 * Whether a value has an e-mail address in it: an at sign (or its full-width or small form) between two
 * characters that are not spaces. Name, organisation and title can be shown with a signature (the page,
 * the annex recipients get, exports), and an address typed into the wrong box must never be.
 */
export function mentionsEmailAddress(value: string): boolean {
  return /[^\s@\uFF20\uFE6B][@\uFF20\uFE6B][^\s@\uFF20\uFE6B]/u.test(value);
}

// Messages are i18n keys; the view translates them into the reader's language.
const schema = z.object({
  name: text(SIGNING_FORM_LIMITS.name)
    .pipe(z.string().min(1, { error: 'errors.name.required' }))
    .refine((value) => !mentionsEmailAddress(value), { error: 'errors.name.looksLikeEmail' }),
  email: z
    .string()
    .trim()
    .min(1, { error: 'errors.email.required' })
    .max(SIGNING_FORM_LIMITS.email, { error: 'errors.field.tooLong' })
    .pipe(z.email({ error: 'errors.email.invalid' }))
    .refine(withinAddressLimits, { error: 'errors.email.partTooLong' }),
  country: z.string().refine(isCountryCode, { error: 'errors.country.required' }),
  city: text(SIGNING_FORM_LIMITS.city),
  organisation: text(SIGNING_FORM_LIMITS.organisation).refine((value) => !mentionsEmailAddress(value), {
    error: 'errors.field.looksLikeEmail',
  }),
  title: text(SIGNING_FORM_LIMITS.title).refine((value) => !mentionsEmailAddress(value), {
    error: 'errors.field.looksLikeEmail',
  }),
  display: z.enum(DISPLAY_CHOICES, { error: 'errors.display.required' }),
  privacy: z.literal(true, { error: 'errors.privacy.required' }),
  updates: z.boolean(),
});

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** Reads the raw form body into the values the form shows back; unknown or repeated fields are ignored. */
export function signingFormValues(body: unknown): SigningFormValues {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  return {
    name: field(b, 'name'),
    email: field(b, 'email'),
    country: field(b, 'country'),
    city: field(b, 'city'),
    organisation: field(b, 'organisation'),
    title: field(b, 'title'),
    display: field(b, 'display'),
    privacy: field(b, 'privacy') === 'yes',
    updates: field(b, 'updates') === 'yes',
  };
}

export type ParseResult =
  { ok: true; input: SigningInput } | { ok: false; errors: Partial<Record<keyof SigningFormValues, string>> };

/** Validates the signing form; on failure, one i18n message key per field that needs fixing. */
export function parseSigningForm(values: SigningFormValues): ParseResult {
  const result = schema.safeParse(values);
  if (!result.success)
    return { ok: false, errors: firstErrorPerField<keyof SigningFormValues>(result.error.issues) };
  const v = result.data;
  return {
    ok: true,
    input: {
      fullName: v.name,
      email: v.email,
      country: v.country,
      city: v.city,
      organisation: v.organisation,
      jobTitle: v.title,
      display: v.display,
      consentUpdates: v.updates,
    },
  };
}
