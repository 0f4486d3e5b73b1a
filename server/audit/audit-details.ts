import type { Formats } from '../lib/format.js';
import type { TFunction } from '../lib/i18n.js';
import { countryName } from '../lib/countries.js';
import { languageName } from '../lib/languages.js';
import type { AuditAction } from './audit.js';

/** One detail of an audit entry as the page says it: what it is, and its value, both in the reader's language. */
export interface DetailLine {
  label: string;
  value: string;
}

/**
 * How a detail's stored text is said, by `action.key`: a code by its words under a key prefix (a code
 * with no words yet shows as stored rather than failing the page), a language or country code by its
 * name, a filter's "all"/"any" in words, a stored moment or day in the reader's format, a setting's switch
 * as yes/no and its number with digit grouping. A detail not listed is text someone typed, shown as typed.
 */
type Saying =
  { words: string } | 'language' | 'country' | 'filter' | 'moment' | 'recipient-field' | 'switch' | 'number';

const SAID: Readonly<Record<string, Saying>> = {
  'delivery.kind': { words: 'deliveries.kinds' },
  'delivery.trigger': { words: 'deliveries.triggers' },
  'delivery-settings-changed.mode': { words: 'deliveries.modes' },
  'delivery-settings-changed.deliverAt': 'moment',
  'role-changed.from': { words: 'users.roles' },
  'role-changed.to': { words: 'users.roles' },
  'user-invited.role': { words: 'users.roles' },
  'user-invited.language': 'language',
  'user-invited.languageBefore': 'language',
  'user-invited.roleBefore': { words: 'users.roles' },
  'abuse-list-added.list': { words: 'abuse.lists' },
  'abuse-list-removed.list': { words: 'abuse.lists' },
  'abuse-list-added.kind': { words: 'abuse.kinds' },
  'abuse-list-removed.kind': { words: 'abuse.kinds' },
  'signature-restored.to': { words: 'moderation.status' },
  'signature-cleared.reasons': { words: 'limitsSigning.reasons' },
  'letter-changes-submitted.settings': { words: 'policy.review.settings' },
  'escalation-cancelled.reason': { words: 'audit.values.escalationEnded' },
  'webhook-changed.change': { words: 'audit.values.webhookChange' },
  'access-refused.policyAction': { words: 'audit.values.policyActions' },
  'email-language-changed.from': 'language',
  'email-language-changed.to': 'language',
  'recipient-changed.fields': 'recipient-field',
  'retention.closedBefore': 'moment',
  'export.statuses': { words: 'exports.statuses' },
  'export.via': { words: 'audit.values.via' },
  'export.addresses': { words: 'audit.values.addresses' },
  'export.country': 'country',
  'export.letter': 'filter',
  'export.consent': 'filter',
  'export.from': 'moment',
  'export.to': 'moment',
  'signatures-bulk-invalidated.letter': 'filter',
  'signatures-bulk-invalidated.from': 'moment',
  'signatures-bulk-invalidated.to': 'moment',
  'signatures-bulk-restored.letter': 'filter',
  'signatures-bulk-restored.from': 'moment',
  'signatures-bulk-restored.to': 'moment',
  'settings-changed.requireReview': 'switch',
  'settings-changed.trendingAlertPerHour': 'number',
};

/** What an empty detail means where a dash would not say it (a save that made no new version). */
const WHEN_EMPTY: Readonly<Record<string, string>> = {
  'letter-saved.version': 'audit.values.none',
  'letter-changes-approved.version': 'audit.values.none',
};

/** Numbers that count something, written with the reader's digit grouping; other numbers are ids. */
const COUNTS = new Set([
  'after',
  'before',
  'count',
  'created',
  'days',
  'erased',
  'invalidated',
  'letters',
  'lifetimeDays',
  'mailboxFiles',
  'messages',
  'milestoneEvery',
  'recipients',
  'rows',
  'signatures',
  'skipped',
  'updated',
  'withdrawn',
]);

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * An audit entry's details in the reader's language: each key by its label, codes by their words, times
 * and counts in the reader's formats, "a → b" changes side by side. What the page shows, never what is
 * stored: the log keeps its codes, so an entry reads the same in every language and never changes.
 */
export function describeDetails(
  t: TFunction,
  formats: Formats,
  ui: string,
  action: AuditAction,
  details: Record<string, unknown>,
): DetailLine[] {
  // A failed compile stores its failure's code and the numbers of its message: the sentence says them all.
  const failure = action === 'delivery' && typeof details.failed === 'string' ? details : undefined;
  const entries = failure
    ? Object.entries(details).filter(([key]) => key === 'round' || key === 'kind' || key === 'failed')
    : Object.entries(details);
  return entries.map(([key, value]) => ({
    // A label of the action's own where the key means something else there (export's "from" is a day).
    label: t([`audit.detailOf.${action}.${key}`, `audit.detail.${key}`], { defaultValue: key }),
    value:
      failure && key === 'failed'
        ? t(`limits.roundFailure.${String(value)}`, {
            ...failureParams(formats, failure),
            defaultValue: String(value),
          })
        : valueText(t, formats, ui, `${action}.${key}`, key, value),
  }));
}

/** A failure's stored parameters, its whole-number counts with the reader's digit grouping. */
function failureParams(formats: Formats, params: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(params).map(([k, v]) => [
      k,
      k !== 'line' && typeof v === 'string' && /^\d+$/.test(v) ? formats.number(Number(v)) : v,
    ]),
  );
}

function valueText(
  t: TFunction,
  formats: Formats,
  ui: string,
  where: string,
  key: string,
  value: unknown,
): string {
  if (value === null || value === undefined || value === '')
    return WHEN_EMPTY[where] ? t(WHEN_EMPTY[where]) : '—';
  if (Array.isArray(value)) {
    const items = value.map((item) => valueText(t, formats, ui, where, key, item));
    return items.length > 0 ? items.join(', ') : '—';
  }
  if (typeof value === 'boolean') return t(value ? 'audit.values.yes' : 'audit.values.no');
  if (typeof value === 'number') return COUNTS.has(key) ? formats.number(value) : String(value);
  if (typeof value === 'object')
    return Object.entries(value as Record<string, unknown>)
      .map(([k, v]) => `${k}: ${valueText(t, formats, ui, where, k, v)}`)
      .join(', ');
  const text = String(value);
  const saying = SAID[where];
  if (where.startsWith('settings-changed.'))
    return settingChange(text, (side) => saidAs(t, formats, ui, saying, side));
  return saidAs(t, formats, ui, saying, text);
}

/** Stored text as SAID says it; as typed when nothing is said of it. */
function saidAs(
  t: TFunction,
  formats: Formats,
  ui: string,
  saying: Saying | undefined,
  text: string,
): string {
  if (saying === undefined) return text;
  if (typeof saying === 'object') return t(`${saying.words}.${text}`, { defaultValue: text });
  switch (saying) {
    case 'language':
      return languageName(text, ui);
    case 'country':
      return text === 'any' ? t('audit.values.any') : countryName(text, ui);
    case 'filter':
      return text === 'all' || text === 'any' ? t(`audit.values.${text}`) : text;
    case 'moment':
      return momentText(formats, text);
    case 'recipient-field':
      return recipientField(t, ui, text);
    case 'switch':
      return text === 'true' || text === 'false' ? t(`audit.values.${text === 'true' ? 'yes' : 'no'}`) : text;
    case 'number':
      return /^\d+$/.test(text) ? formats.number(Number(text)) : text;
  }
}

/** A stored moment or day in the reader's format; the text as stored when it is neither. */
function momentText(formats: Formats, text: string): string {
  const day = ISO_DAY.test(text);
  if (!day && !ISO_TIME.test(text)) return text;
  const date = new Date(day ? `${text}T00:00:00Z` : text);
  // A day that does not exist (2026-02-30) rolls over in Date: say it as stored instead.
  if (Number.isNaN(date.getTime()) || (day && date.toISOString().slice(0, 10) !== text)) return text;
  return day ? formats.date(date) : formats.dateTime(date);
}

/**
 * A recipient's field by its form label; one in a language with it ("salutation_ko" is "Salutation
 * (Korean)"): the audit log's, and the import preview's for a row's problem.
 */
export function recipientField(t: TFunction, ui: string, field: string): string {
  // A field in one language (`salutation_ko`, `name_uk`): the field, then the language.
  const inLanguage = /^(salutation|name|title|organisation)_(\w+)$/.exec(field);
  if (inLanguage) return `${t(`recipients.fields.${inLanguage[1]!}`)} (${languageName(inLanguage[2]!, ui)})`;
  return t(`recipients.fields.${field}`, { defaultValue: field });
}

/** A setting's change, stored as "before → after": each side said as the setting is, an empty one as a dash. */
function settingChange(text: string, side: (part: string) => string): string {
  const parts = text.split(' → ');
  if (parts.length !== 2) return text;
  return parts.map((part) => (part.trim() === '' ? '—' : side(part))).join(' → ');
}
