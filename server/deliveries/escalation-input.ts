import { MAX_DAYS_WITHOUT_REPLY, MIN_DAYS_WITHOUT_REPLY, parseTier, type Tier } from './escalation.js';

/** The escalation form as typed: the days, and a tier per recipient on the letter (by recipient id). */
export interface EscalationValues {
  days: string;
  tiers: Record<number, string>;
}

/** Reads the raw form body: `days`, and `tier_<recipient id>` for the letter's recipients only. */
export function escalationValues(
  body: Record<string, unknown>,
  recipientIds: readonly number[],
): EscalationValues {
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string).slice(0, 20) : '');
  return {
    days: text('days'),
    tiers: Object.fromEntries(recipientIds.map((id) => [id, text(`tier_${id}`)])),
  };
}

/**
 * Checks the form: days empty (no escalation) or a whole number from 1 to 90, written plainly; each
 * recipient's tier 1, 2 or 3 (left out: as it is). Errors are i18n keys per field.
 */
export function parseEscalation(
  values: EscalationValues,
):
  | { ok: true; days: number | null; tiers: Map<number, Tier> }
  | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  let days: number | null = null;
  const typed = values.days.trim();
  if (typed !== '') {
    // Digits only: Number() would read "1e1" or "0x10" as days nobody typed.
    const n = /^\d{1,3}$/.test(typed) ? Number(typed) : NaN;
    if (Number.isInteger(n) && n >= MIN_DAYS_WITHOUT_REPLY && n <= MAX_DAYS_WITHOUT_REPLY) days = n;
    else errors.days = 'escalation.errors.days';
  }
  const tiers = new Map<number, Tier>();
  for (const [id, value] of Object.entries(values.tiers)) {
    if (value === '') continue;
    const tier = parseTier(value);
    if (tier === undefined) errors[`tier_${id}`] = 'escalation.errors.tier';
    else tiers.set(Number(id), tier);
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, days, tiers };
}
