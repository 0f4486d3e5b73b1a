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

const email = z.email();

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
  const mode = (DELIVERY_MODES as readonly string[]).includes(values.mode)
    ? (values.mode as DeliveryMode)
    : undefined;
  if (!mode) errors.mode = 'deliveries.errors.mode';

  let milestoneEvery: number | null = null;
  if (values.milestoneEvery.trim() !== '') {
    const digits = values.milestoneEvery.trim().replace(/[,\s_]/g, '');
    // Digits only: Number() would also read "1e3" or "0x10" as a count nobody typed.
    const n = /^\d+$/.test(digits) ? Number(digits) : NaN;
    if (!Number.isInteger(n) || n < 1 || n > 10_000_000)
      errors.milestone_every = 'deliveries.errors.milestoneEvery';
    else milestoneEvery = n;
  }
  if (mode === 'milestones' && milestoneEvery === null && !errors.milestone_every)
    errors.milestone_every = 'deliveries.errors.milestoneNeeded';

  let deliverAt: Date | null = null;
  if (values.deliverAt.trim() !== '') {
    const date = parseUtcMinute(values.deliverAt);
    if (!date) {
      errors.deliver_at = 'deliveries.errors.deliverAt';
    } else if (mode === 'scheduled' && date <= now) {
      errors.deliver_at = 'deliveries.errors.deliverAtPast';
    } else {
      deliverAt = date;
    }
  }
  if (mode === 'scheduled' && deliverAt === null && !errors.deliver_at)
    errors.deliver_at = 'deliveries.errors.deliverAtNeeded';

  const replyTo = values.replyTo.trim().toLowerCase();
  if (replyTo !== '' && (replyTo.length > 254 || !email.safeParse(replyTo).success))
    errors.reply_to = 'deliveries.errors.replyTo';

  if (Object.keys(errors).length > 0 || !mode) return { ok: false, errors };
  return { ok: true, settings: { mode, milestoneEvery, deliverAt, replyTo } };
}
