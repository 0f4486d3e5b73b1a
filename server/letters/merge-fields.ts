/**
 * The documented merge fields of a letter text: the one list that the letter text check allows, the
 * editor documents beside the text, and rendering fills in. No I/O here.
 */

import { formatsFor } from '../lib/format.js';
import { recipientNamedIn, type RecipientName, type RecipientNames } from '../recipients/recipient-names.js';
import { salutationFor, type Salutations } from '../recipients/recipient-salutation.js';

/** What a letter text is rendered with. Every value is already formatted text: letter texts never compute. */
export interface LetterMergeFields {
  recipient: { name: string; title: string; organisation: string; salutation: string };
  letter: { title: string };
  /** The date of sending (or of the preview), formatted in the letter's language. */
  date: string;
  /** Confirmed signatures, formatted in the letter's language. */
  signatureCount: string;
  /** Confirmed signatures by country, most first. */
  countries: { name: string; count: string }[];
  /** Signatories who chose to be named, as they chose (full name or initials); never e-mail addresses. */
  signatories: { name: string; country: string }[];
  /** Organisations co-signing the letter, as the organizer listed them. */
  organisations: { name: string }[];
}

/** A text field, or a list whose items have text fields of their own (used with {{#each}}). */
export type MergeField =
  { kind: 'text' } | { kind: 'list'; item: Readonly<Record<string, { kind: 'text' }>> };

const text = { kind: 'text' } as const;

/**
 * Every merge field by its path as written in a letter text. Lists can be walked with {{#each}}; inside,
 * only the item's own fields are allowed.
 */
export const MERGE_FIELDS: Readonly<Record<string, MergeField>> = {
  'recipient.name': text,
  'recipient.title': text,
  'recipient.organisation': text,
  'recipient.salutation': text,
  'letter.title': text,
  date: text,
  signatureCount: text,
  countries: { kind: 'list', item: { name: text, count: text } },
  signatories: { kind: 'list', item: { name: text, country: text } },
  organisations: { kind: 'list', item: { name: text } },
};

/** The block helpers a letter text may use; nothing else is registered in the letter environment. */
export const LETTER_HELPERS = ['if', 'unless', 'each'] as const;

/** Data variables allowed inside {{#each}}. */
export const EACH_DATA_VARIABLES = ['index', 'first', 'last'] as const;

/** How the editor documents each field: the snippet to write in a letter text and the key of its explanation. */
export const MERGE_FIELD_DOCS: readonly { snippet: string; descriptionKey: string }[] = [
  { snippet: '{{recipient.salutation}}', descriptionKey: 'mergeFields.recipientSalutation' },
  { snippet: '{{recipient.name}}', descriptionKey: 'mergeFields.recipientName' },
  { snippet: '{{recipient.title}}', descriptionKey: 'mergeFields.recipientTitle' },
  { snippet: '{{recipient.organisation}}', descriptionKey: 'mergeFields.recipientOrganisation' },
  { snippet: '{{letter.title}}', descriptionKey: 'mergeFields.letterTitle' },
  { snippet: '{{date}}', descriptionKey: 'mergeFields.date' },
  { snippet: '{{signatureCount}}', descriptionKey: 'mergeFields.signatureCount' },
  { snippet: '{{#each countries}}{{name}}: {{count}}\n{{/each}}', descriptionKey: 'mergeFields.countries' },
  {
    snippet: '{{#each signatories}}{{name}}, {{country}}\n{{/each}}',
    descriptionKey: 'mergeFields.signatories',
  },
  { snippet: '{{#each organisations}}{{name}}\n{{/each}}', descriptionKey: 'mergeFields.organisations' },
  { snippet: '{{#if recipient.title}}…{{else}}…{{/if}}', descriptionKey: 'mergeFields.if' },
];

/** What a letter is rendered from, before formatting for its language. */
export interface MergeSource {
  recipient: { name: string; title: string; organisation: string; salutation: string };
  letterTitle: string;
  language: string;
  date: Date;
  signatureCount: number;
  /** Confirmed signatures per country code. */
  countries: readonly { code: string; count: number }[];
  /** Public names (already as each supporter chose) with a country code. */
  signatories: readonly { name: string; country: string }[];
  organisations: readonly string[];
}

/**
 * The recipient fields a letter in `language` is rendered with: the name, title and institution typed
 * for that language where the directory has them (recipientNamedIn), else its own fields, which are
 * often in English whatever the recipient reads (a Korean letter to a committee of the National Assembly
 * names it "국회 외교통일위원회", as the public page does). `recipient.salutation` is their salutation in
 * that language, or the neutral greeting in that language (salutationFor), never one written for another
 * language. Without a recipient yet (a draft's preview), the fields are empty but the greeting.
 */
export function recipientFields(
  recipient: (RecipientName & { salutations: Salutations; names: RecipientNames }) | null | undefined,
  language: string,
): MergeSource['recipient'] {
  const named = recipient && recipientNamedIn(recipient, language);
  return {
    name: named?.name ?? '',
    title: named?.title ?? '',
    organisation: named?.organisation ?? '',
    salutation: salutationFor(recipient?.salutations ?? {}, language),
  };
}

/** Formats the merge fields for one recipient in one language; `countryName` turns a code into a name in that language. */
export function buildMergeFields(
  source: MergeSource,
  countryName: (code: string, language: string) => string,
): LetterMergeFields {
  const formats = formatsFor(source.language);
  return {
    recipient: { ...source.recipient },
    letter: { title: source.letterTitle },
    date: formats.date(source.date),
    signatureCount: formats.number(source.signatureCount),
    countries: [...source.countries]
      .sort((a, b) => b.count - a.count || a.code.localeCompare(b.code))
      .map((c) => ({ name: countryName(c.code, source.language), count: formats.number(c.count) })),
    signatories: source.signatories.map((s) => ({
      name: s.name,
      country: s.country ? countryName(s.country, source.language) : '',
    })),
    organisations: source.organisations.map((name) => ({ name })),
  };
}

/** Invented signatories for previews before anyone has signed, in several scripts so layout problems show. */
export const SAMPLE_SIGNATORIES: readonly { name: string; country: string }[] = [
  { name: 'Kim Ji-hoon', country: 'KR' },
  { name: 'O. K.', country: 'UA' },
  { name: 'Maria Schmidt', country: 'DE' },
  { name: '이서연', country: 'KR' },
  { name: 'J. S.', country: 'US' },
];

/** Sample country breakdown to go with SAMPLE_SIGNATORIES. */
export const SAMPLE_COUNTRIES: readonly { code: string; count: number }[] = [
  { code: 'KR', count: 812 },
  { code: 'US', count: 233 },
  { code: 'UA', count: 121 },
  { code: 'DE', count: 68 },
];
