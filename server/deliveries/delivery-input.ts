import { z } from 'zod';
import { parseUtcMinute } from '../lib/dates.js';
import { DELIVERY_MODES, type DeliveryMode, type DeliverySettings } from './delivery.js';

/** The delivery settings form as typed. */
export interface DeliverySettingsValues {
  mode: string;
  milestoneEvery: string;
  deliverAt: string;
  replyTo: string;
}

/** The largest milestone step: more signatures than any letter collects. */
export const MAX_MILESTONE_EVERY = 10_000_000;

// One schema per field, each failing with its message key; the rules between fields follow below.
const modeSchema = z.enum(DELIVERY_MODES);
// Digits only (group separators allowed): Number() would also read "1e3" or "0x10" as a count nobody typed.
const milestoneSchema = z
  .string()
  .transform((v) => v.trim().replace(/[,\s_]/g, ''))
  .pipe(z.string().regex(/^\d+$/))
  .transform(Number)
  .pipe(z.number().int().min(1).max(MAX_MILESTONE_EVERY));
const deliverAtSchema = z.string().transform((v, ctx) => {
  const date = parseUtcMinute(v);
  if (date) return date;
  ctx.addIssue({ code: 'custom', message: 'not a date and time' });
  return z.NEVER;
});
const replyToSchema = z
  .string()
  .transform((v) => v.trim().toLowerCase())
  .pipe(z.union([z.literal(''), z.email().max(254)]));

/** Reads the raw form body. */
export function deliverySettingsValues(body: Record<string, unknown>): DeliverySettingsValues {
  const text = (name: string) => (typeof body[name] === 'string' ? (body[name] as string) : '');
  return {
    mode: text('mode'),
    milestoneEvery: text('milestone_every'),
    deliverAt: text('deliver_at'),
    replyTo: text('reply_to'),
  };
}

/**
 * Checks the settings: a milestone step for milestones, a future time (UTC) for a scheduled
 * delivery, a real address for replies. Errors are i18n keys per field.
 */
export function parseDeliverySettings(
  values: DeliverySettingsValues,
  now: Date,
): { ok: true; settings: DeliverySettings } | { ok: false; errors: Record<string, string> } {
  const errors: Record<string, string> = {};
  const parsedMode = modeSchema.safeParse(values.mode);
  const mode: DeliveryMode | undefined = parsedMode.success ? parsedMode.data : undefined;
  if (!mode) errors.mode = 'deliveries.errors.mode';

  // A field of another mode is kept when it is good (the choice may come back to it) and dropped when
  // it is not: a leftover step of "abc" must not refuse a delivery at a set time, which does not use it.
  let milestoneEvery: number | null = null;
  if (values.milestoneEvery.trim() !== '') {
    const parsed = milestoneSchema.safeParse(values.milestoneEvery);
    if (parsed.success) milestoneEvery = parsed.data;
    else if (mode === 'milestones') errors.milestone_every = 'deliveries.errors.milestoneEvery';
  }
  if (mode === 'milestones' && milestoneEvery === null && !errors.milestone_every)
    errors.milestone_every = 'deliveries.errors.milestoneNeeded';

  let deliverAt: Date | null = null;
  if (values.deliverAt.trim() !== '') {
    const parsed = deliverAtSchema.safeParse(values.deliverAt);
    if (!parsed.success) {
      if (mode === 'scheduled') errors.deliver_at = 'deliveries.errors.deliverAt';
    }
    // Only a scheduled delivery needs a time ahead: a time kept from an earlier choice may have passed.
    else if (mode === 'scheduled' && parsed.data <= now)
      errors.deliver_at = 'deliveries.errors.deliverAtPast';
    else deliverAt = parsed.data;
  }
  if (mode === 'scheduled' && deliverAt === null && !errors.deliver_at)
    errors.deliver_at = 'deliveries.errors.deliverAtNeeded';

  const parsedReplyTo = replyToSchema.safeParse(values.replyTo);
  if (!parsedReplyTo.success) errors.reply_to = 'deliveries.errors.replyTo';
  const replyTo = parsedReplyTo.success ? parsedReplyTo.data : '';

  if (Object.keys(errors).length > 0 || !mode) return { ok: false, errors };
  return { ok: true, settings: { mode, milestoneEvery, deliverAt, replyTo } };
}
