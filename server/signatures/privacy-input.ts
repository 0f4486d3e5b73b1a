import { z } from 'zod';
import { looksLikeEmailAddress } from '../lib/email-address.js';

/** The data-access form: the address to send the copy to, or the address as typed and why it is refused. */
export type AccessRequestForm =
  { ok: true; email: string } | { ok: false; values: { email: string }; errors: { email: string } };

// Missing, repeated or not text: empty, so a crafted body cannot smuggle arrays in.
const schema = z.object({
  email: z
    .unknown()
    .optional()
    .transform((value) => (typeof value === 'string' ? value.trim() : '')),
});

/** Reads the data-access form: something shaped like an e-mail address (at most 254 characters). */
export function parseAccessRequest(body: Record<string, unknown>): AccessRequestForm {
  const { email } = schema.parse(body);
  if (!looksLikeEmailAddress(email))
    return { ok: false, values: { email }, errors: { email: 'access.errors.email' } };
  return { ok: true, email };
}
