import { z } from 'zod';
import type { EntryInput } from './abuse-service.js';

// A field that is missing or repeated (a script, a tampered form) reads as empty text; the service
// then says what is wrong with it, like any other bad value.
const text = (max: number) =>
  z
    .unknown()
    .optional()
    .transform((value) => (typeof value === 'string' ? value.slice(0, max) : ''));

const entrySchema = z.object({
  list: text(20),
  kind: text(20),
  value: text(300),
  note: text(1_000),
  // The second press, once the page has asked about a wide range or the admin's own address.
  confirm: z
    .unknown()
    .optional()
    .transform((value) => value === 'yes'),
});

/** Reads the form that adds a block or allow list entry, as typed (the service checks the values). */
export function parseEntryForm(body: Record<string, unknown>): EntryInput {
  const { confirm, ...input } = entrySchema.parse(body);
  return { ...input, confirmed: confirm };
}

const blockSchema = z.object({
  kind: z
    .unknown()
    .optional()
    .transform((value) => (value === 'domain' ? ('domain' as const) : ('ip-hash' as const))),
  value: text(300),
  confirm: z
    .unknown()
    .optional()
    .transform((value) => value === 'yes'),
});

/** Reads the trending view's block form: which source, and whether the admin has confirmed. */
export function parseBlockForm(body: Record<string, unknown>): {
  source: { kind: 'domain' | 'ip-hash'; value: string };
  confirmed: boolean;
} {
  const { kind, value, confirm } = blockSchema.parse(body);
  return { source: { kind, value }, confirmed: confirm };
}
