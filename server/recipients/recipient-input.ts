import { z } from 'zod';
import { MAX_ID } from '../http/input.js';
import { withinAddressLimits } from '../lib/email-address.js';
import { firstErrorPerField } from '../lib/form-errors.js';
import { LETTER_LANGUAGES } from '../lib/languages.js';
import { isCountryCode } from '../lib/countries.js';
import type { RecipientName, RecipientNames } from './recipient-names.js';
import { INTERFACE_LANGUAGES } from '../lib/i18n.js';
import type { Salutations } from './recipient-salutation.js';
import { UNSAFE_IN_TEXT, visibleLine } from '../lib/unsafe-text.js';

/** A recipient as validated and stored: every field trimmed, the address lower-cased, no country as null. */
export interface RecipientInput {
  name: string;
  title: string;
  organisation: string;
  country: string | null;
  email: string;
  language: string;
  /** The salutation in the recipient's own language: `salutations[language]`. */
  salutation: string;
  /** Every salutation by language code, the recipient's own language's included. */
  salutations: Salutations;
  /** Their name, title and institution for the pages of each interface language, filled ones only. */
  names: RecipientNames;
  notes: string;
}

/** The recipient form's text fields, each one value. */
export type RecipientTextField =
  'name' | 'title' | 'organisation' | 'country' | 'email' | 'language' | 'salutation' | 'notes';

/**
 * The recipient form's fields as typed, so the form (or an import preview) can show them back unchanged.
 * `salutation` is the salutation in the recipient's own language when given alone (a CSV file's
 * `salutation` column); `salutations` are the per-language fields (`salutation_<code>`), by code.
 */
export type RecipientFormValues = Record<RecipientTextField, string> & {
  salutations?: Readonly<Record<string, string>>;
  /** The name, title and institution typed for each interface language (`name_<code>`…), by code. */
  names?: Readonly<Record<string, Readonly<Record<NamedField, string>>>>;
};

/** What a recipient is named by on the pages of one language. */
export const NAMED_FIELDS = ['name', 'title', 'organisation'] as const;
export type NamedField = (typeof NAMED_FIELDS)[number];

/** The form field (and CSV column) of the name, title or institution in one language. */
export function namedField(field: NamedField, language: string): string {
  return `${field}_${language}`;
}

/** The name of the field (and CSV column) of the salutation in one language. */
export function salutationField(language: string): string {
  return `salutation_${language}`;
}

/**
 * What parseRecipient answers: the input, or one i18n message key per field that needs fixing (a text
 * field's name, or `salutation_<code>` for a salutation in one language).
 */
export type RecipientParseResult =
  { ok: true; input: RecipientInput } | { ok: false; errors: Partial<Record<string, string>> };

/** Longest accepted value of each field, counted after trimming. */
export const RECIPIENT_FIELD_LIMITS = {
  name: 200,
  title: 200,
  organisation: 200,
  email: 254,
  salutation: 200,
  notes: 2000,
} as const;

const TOO_LONG = 'recipients.errors.field.tooLong';
const CONTROL = 'recipients.errors.field.controlCharacters';

// Nothing anyone can see is nothing (lib/unsafe-text.ts): a name of invisible characters is missing.
const text = (max: number) => visibleLine(max, { tooLong: TOO_LONG, unsafe: CONTROL });

const required = (max: number, requiredKey: string) =>
  text(max).pipe(z.string().min(1, { error: requiredKey }));

const fields = {
  name: required(RECIPIENT_FIELD_LIMITS.name, 'recipients.errors.name.required'),
  title: text(RECIPIENT_FIELD_LIMITS.title),
  organisation: text(RECIPIENT_FIELD_LIMITS.organisation),
  country: z
    .string()
    .trim()
    .refine((value) => value === '' || isCountryCode(value), { error: 'recipients.errors.country.unknown' })
    .transform((value) => (value === '' ? null : value)),
  // Addresses are compared and de-duplicated lower-cased: mail systems treat them case-insensitively in practice.
  email: z
    .string()
    .trim()
    .toLowerCase()
    .min(1, { error: 'recipients.errors.email.required' })
    .max(RECIPIENT_FIELD_LIMITS.email, { error: TOO_LONG })
    .pipe(z.email({ error: 'recipients.errors.email.invalid' }))
    .refine(withinAddressLimits, { error: 'recipients.errors.email.partTooLong' }),
  // Required in the recipient's own language, which parseRecipient checks once it knows the language.
  salutation: text(RECIPIENT_FIELD_LIMITS.salutation),
  // Browsers send a textarea's line breaks as CRLF; one form is stored, and the length counts what is stored.
  notes: z
    .string()
    .trim()
    .transform((value) => value.replace(/\r\n?/g, '\n'))
    .pipe(
      z
        .string()
        .max(RECIPIENT_FIELD_LIMITS.notes, { error: TOO_LONG })
        .refine((value) => !UNSAFE_IN_TEXT.test(value), { error: CONTROL }),
    ),
};

const language = (languages: readonly string[]) =>
  z
    .string()
    .trim()
    .min(1, { error: 'recipients.errors.language.required' })
    .refine((value) => languages.includes(value), { error: 'recipients.errors.language.unsupported' });

// An import validates thousands of rows against the same list of languages: build its schema once per list.
const schemas = new WeakMap<readonly string[], ReturnType<typeof schemaFor>>();
const schemaFor = (languages: readonly string[]) => z.object({ ...fields, language: language(languages) });

function schemaOf(languages: readonly string[]) {
  let schema = schemas.get(languages);
  if (!schema) {
    schema = schemaFor(languages);
    schemas.set(languages, schema);
  }
  return schema;
}

function field(body: Record<string, unknown>, name: string): string {
  const value = body[name];
  return typeof value === 'string' ? value : '';
}

/** Reads a raw form body into the recipient form's values: strings only, '' for missing, repeated or non-string fields. */
export function recipientFormValues(
  body: unknown,
  languages: readonly string[] = LETTER_LANGUAGES,
): RecipientFormValues {
  const b = body && typeof body === 'object' ? (body as Record<string, unknown>) : {};
  return {
    name: field(b, 'name'),
    title: field(b, 'title'),
    organisation: field(b, 'organisation'),
    country: field(b, 'country'),
    email: field(b, 'email'),
    language: field(b, 'language'),
    salutation: field(b, 'salutation'),
    notes: field(b, 'notes'),
    salutations: Object.fromEntries(
      languages.flatMap((code) => {
        const value = b[salutationField(code)];
        return typeof value === 'string' ? [[code, value]] : [];
      }),
    ),
    names: Object.fromEntries(
      INTERFACE_LANGUAGES.flatMap((code) => {
        const typed = (f: NamedField) => b[namedField(f, code)];
        if (!NAMED_FIELDS.some((f) => typeof typed(f) === 'string')) return [];
        const asTyped = (f: NamedField) => (typeof typed(f) === 'string' ? (typed(f) as string) : '');
        return [
          [code, { name: asTyped('name'), title: asTyped('title'), organisation: asTyped('organisation') }],
        ];
      }),
    ),
  };
}

const salutationText = text(RECIPIENT_FIELD_LIMITS.salutation);

/**
 * The salutations of a recipient by language: each per-language value checked like any text field, empty
 * ones left out, and the plain `salutation` counted as the one in `language`. Errors are keyed by field.
 */
function parseSalutations(
  values: RecipientFormValues,
  language: string | undefined,
  languages: readonly string[],
): { salutations: Record<string, string>; errors: Record<string, string> } {
  const salutations: Record<string, string> = {};
  const errors: Record<string, string> = {};
  const given = values.salutations ?? {};
  for (const code of languages) {
    const raw = given[code];
    if (raw === undefined) continue;
    const parsed = salutationText.safeParse(raw);
    if (!parsed.success) errors[salutationField(code)] = parsed.error.issues[0]!.message;
    else if (parsed.data !== '') salutations[code] = parsed.data;
  }
  const plain = salutationText.safeParse(values.salutation);
  if (!plain.success) errors.salutation = plain.error.issues[0]!.message;
  const own = plain.success ? plain.data : '';
  if (language === undefined) {
    // Which language it is for is still to be fixed, but a recipient with no salutation at all is wrong anyway.
    const offered = Object.keys(given).length > 0;
    if (!offered && own === '' && Object.keys(errors).length === 0)
      errors.salutation = 'recipients.errors.salutation.required';
    return { salutations, errors };
  }
  const ownField = salutationField(language);
  if (own !== '' && salutations[language] !== undefined && salutations[language] !== own) {
    // Two salutations for one language (say a file's `salutation` and `salutation_en` columns for an English row).
    errors.salutation = 'recipientSalutations.errors.conflict';
  } else if (own !== '') {
    salutations[language] = own;
  } else if (salutations[language] === undefined && !errors.salutation && !errors[ownField]) {
    // Said beside the per-language field when salutations came per language, else beside the plain one.
    if (Object.keys(given).length > 0) errors[ownField] = 'recipientSalutations.errors.required';
    else errors.salutation = 'recipients.errors.salutation.required';
  }
  return { salutations, errors };
}

/**
 * The recipient's name, title and institution as the pages of each interface language show them: each
 * field checked like the fields above (length, characters), a language with all three empty left out.
 * The recipient's own language is offered too: a Korean ministry is often filed under its English name.
 */
function parseNames(values: RecipientFormValues): {
  names: Record<string, RecipientName>;
  errors: Record<string, string>;
} {
  const names: Record<string, RecipientName> = {};
  const errors: Record<string, string> = {};
  for (const [code, typed] of Object.entries(values.names ?? {})) {
    if (!(INTERFACE_LANGUAGES as readonly string[]).includes(code)) continue;
    const checked: Partial<RecipientName> = {};
    for (const f of NAMED_FIELDS) {
      const parsed = text(RECIPIENT_FIELD_LIMITS[f]).safeParse(typed[f] ?? '');
      if (parsed.success) checked[f] = parsed.data;
      else errors[namedField(f, code)] = parsed.error.issues[0]!.message;
    }
    const { name = '', title = '', organisation = '' } = checked;
    if (name !== '' || title !== '' || organisation !== '') names[code] = { name, title, organisation };
  }
  return { names, errors };
}

/** Validates a recipient against the directory's rules; `languages` are the codes a recipient may be written to in. */
export function parseRecipient(
  values: RecipientFormValues,
  languages: readonly string[],
): RecipientParseResult {
  const result = schemaOf(languages).safeParse(values);
  const language = languageOf(values.language, languages);
  const greetings = parseSalutations(values, language, languages);
  const named = parseNames(values);
  if (!result.success || Object.keys(greetings.errors).length > 0 || Object.keys(named.errors).length > 0) {
    const errors = result.success ? {} : firstErrorPerField<string>(result.error.issues);
    // In the form's order: the salutations come after the language, then the names in other languages,
    // before the notes.
    const { notes, ...before } = errors;
    return {
      ok: false,
      errors: { ...before, ...greetings.errors, ...named.errors, ...(notes ? { notes } : {}) },
    };
  }
  const v = result.data;
  return {
    ok: true,
    input: {
      name: v.name,
      title: v.title,
      organisation: v.organisation,
      country: v.country,
      email: v.email,
      language: v.language,
      salutation: greetings.salutations[v.language]!,
      salutations: greetings.salutations,
      names: named.names,
      notes: v.notes,
    },
  };
}

/** The recipient's language as the rules will read it, when it is one of `languages`. */
function languageOf(value: string, languages: readonly string[]): string | undefined {
  const code = value.trim();
  return languages.includes(code) ? code : undefined;
}

/** What to do with a possible duplicate in an import: skip it, add it anyway, or update the recipient it duplicates. */
export type ImportChoice = { kind: 'skip' } | { kind: 'add' } | { kind: 'update'; recipientId: number };

const choiceField = z.string().regex(/^choice-[1-9]\d{0,6}$/);
const choiceValue = z.union([
  z.enum(['skip', 'add']).transform((kind): ImportChoice => ({ kind })),
  z
    .string()
    .regex(/^update-[1-9]\d{0,9}$/)
    .refine((value) => Number(value.slice(7)) <= MAX_ID)
    .transform((value): ImportChoice => ({ kind: 'update', recipientId: Number(value.slice(7)) })),
]);

/**
 * The choices posted with an import's confirmation, by the line of the row they are for (`choice-<line>`).
 * A field that is not a choice, or a value that is not one, is left out: the row is then skipped.
 */
export function importChoices(body: Record<string, unknown>): Map<number, ImportChoice> {
  const choices = new Map<number, ImportChoice>();
  for (const [name, value] of Object.entries(body)) {
    if (!choiceField.safeParse(name).success) continue;
    const choice = choiceValue.safeParse(value);
    if (choice.success) choices.set(Number(name.slice(7)), choice.data);
  }
  return choices;
}
