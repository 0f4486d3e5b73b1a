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
 * Where a detail's value has words of its own, by `action.key`: the key prefix its values are labelled
 * under. Values are the platform's own codes (a round's kind, a role), so a code with no label yet shows
 * as it is stored rather than failing the page (defaultValue).
 */
const VALUE_WORDS: Readonly<Record<string, string>> = {
  'delivery.kind': 'deliveries.kinds',
  'delivery.trigger': 'deliveries.triggers',
  'delivery-settings-changed.mode': 'deliveries.modes',
  'role-changed.from': 'users.roles',
  'role-changed.to': 'users.roles',
  'user-invited.role': 'users.roles',
  'abuse-list-added.list': 'abuse.lists',
  'abuse-list-removed.list': 'abuse.lists',
  'abuse-list-added.kind': 'abuse.kinds',
  'abuse-list-removed.kind': 'abuse.kinds',
  'signature-restored.to': 'exports.statuses',
  'export.statuses': 'exports.statuses',
  'signature-cleared.reasons': 'limitsSigning.reasons',
  'letter-changes-submitted.settings': 'policy.review.settings',
  'escalation-cancelled.reason': 'audit.values.escalationEnded',
  'webhook-changed.change': 'audit.values.webhookChange',
  'export.via': 'audit.values.via',
  'export.addresses': 'audit.values.addresses',
};

/** Details whose values are interface languages (codes such as "ko"), said by the language's name. */
const LANGUAGE_VALUES = new Set(['email-language-changed.from', 'email-language-changed.to']);
/** Details whose values are country codes, said by the country's name. */
const COUNTRY_VALUES = new Set(['export.country']);

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

/** Details the platform stores as a moment or a day; any other text is what someone typed, shown as typed. */
const MOMENTS = new Set([
  'delivery-settings-changed.deliverAt',
  'retention.closedBefore',
  'signatures-bulk-invalidated.from',
  'signatures-bulk-invalidated.to',
  'export.from',
  'export.to',
]);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/;
const ISO_DAY = /^\d{4}-\d{2}-\d{2}$/;

/** Settings whose change is a switch (yes/no) or a number; the others are text, shown exactly as typed. */
const SWITCH_SETTINGS = new Set(['requireReview']);
const NUMBER_SETTINGS = new Set(['trendingAlertPerHour']);
/** Filters that store "all" or "any" for no filter (exports, bulk invalidation); elsewhere those are words someone typed. */
const FILTERS = new Set([
  'export.letter',
  'export.country',
  'export.consent',
  'signatures-bulk-invalidated.letter',
]);

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
  if (value === null || value === undefined || value === '') return '—';
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
  if (where.startsWith('settings-changed.')) return settingChange(t, formats, key, text);
  if (FILTERS.has(where) && (text === 'all' || text === 'any')) return t(`audit.values.${text}`);
  if (LANGUAGE_VALUES.has(where)) return languageName(text, ui);
  if (COUNTRY_VALUES.has(where)) return countryName(text, ui);
  if (where === 'recipient-changed.fields') return recipientField(t, ui, text);
  const words = VALUE_WORDS[where];
  if (words) return t(`${words}.${text}`, { defaultValue: text });
  if (MOMENTS.has(where)) return momentText(formats, text);
  return text;
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

/** A recipient's field by its form label; a salutation's with its language ("salutation_ko"). */
function recipientField(t: TFunction, ui: string, field: string): string {
  const salutation = /^salutation_(\w+)$/.exec(field);
  if (salutation) return `${t('recipients.fields.salutation')} (${languageName(salutation[1]!, ui)})`;
  return t(`recipients.fields.${field}`, { defaultValue: field });
}

/**
 * A setting's change, stored as "before → after": a switch's sides as yes/no, a number's with digit
 * grouping, text exactly as typed; an empty side as a dash.
 */
function settingChange(t: TFunction, formats: Formats, key: string, text: string): string {
  const side = (part: string) => {
    if (part.trim() === '') return '—';
    if (SWITCH_SETTINGS.has(key) && (part === 'true' || part === 'false'))
      return t(`audit.values.${part === 'true' ? 'yes' : 'no'}`);
    if (NUMBER_SETTINGS.has(key) && /^\d+$/.test(part)) return formats.number(Number(part));
    return part;
  };
  const parts = text.split(' → ');
  return parts.length === 2 ? `${side(parts[0]!)} → ${side(parts[1]!)}` : text;
}
