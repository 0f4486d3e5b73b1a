import { z } from 'zod';

/**
 * Characters that text people type into a form never needs, and that do harm when it is shown or
 * exported: C0 and C1 controls and DEL (a NUL PostgreSQL refuses, escapes for terminals, what a file
 * decoded in the wrong encoding leaves behind, broken CSV and mail headers), and the bidirectional
 * overrides and isolates, which make text display in another order than it is stored: a walkthrough
 * saved an API token named "مرحبا \u202Eevil", listed as something else than its name. Right-to-left
 * names need none of them (the marks U+200E and U+200F stay allowed). The line and paragraph
 * separators U+2028 and U+2029 too: a break nobody can see in the form that splits a name shown elsewhere.
 * And the invisible zero-width space, word joiner and no-break space (U+200B, U+2060, U+FEFF), which
 * make "Kim Ji-hoon" and a look-alike two different names (the joiners U+200C and U+200D stay: emoji
 * and several scripts are written with them).
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
export const UNSAFE_IN_A_LINE = /[\u0000-\u001f\u007f-\u009f\u200b\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

/** The same for text with lines (notes, reasons): tabs and line breaks are what its layout is made of. */
export const UNSAFE_IN_TEXT =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f-\u009f\u200b\u2028-\u202e\u2060\u2066-\u2069\ufeff]/;

/**
 * A character someone can see: not a space, a control, a format character (the marks, joiners and
 * invisible operators of Unicode's Cf), a combining mark with nothing to sit on, nor one Unicode says to
 * draw as nothing where it is not supported (Default_Ignorable_Code_Point: the Hangul fillers U+115F,
 * U+1160, U+3164 and U+FFA0, variation selectors, unassigned invisible code points), nor the Braille
 * blank U+2800. A walkthrough signed with a Hangul filler for a name: the public list showed a blank line.
 */
const VISIBLE = /[^\p{White_Space}\p{Cc}\p{Cf}\p{M}\p{Default_Ignorable_Code_Point}\u2800]/u;

/** Whether `value` has anything in it someone can see (see VISIBLE). */
export function hasVisibleText(value: string): boolean {
  return VISIBLE.test(value);
}

/**
 * `value` trimmed, or '' when nothing in it can be seen: a required field with only invisible characters
 * is empty (and refused as such), an optional one is left out rather than shown as a blank.
 */
export function visibleTrim(value: string): string {
  const trimmed = value.trim();
  return hasVisibleText(trimmed) ? trimmed : '';
}

/**
 * A one-line form field as the forms validate it: trimmed, empty when nothing in it can be seen
 * (visibleTrim), at most `max` characters, with nothing of UNSAFE_IN_A_LINE. `messages` are the i18n
 * keys each form words its refusals with.
 */
export function visibleLine(max: number, messages: { tooLong: string; unsafe: string }) {
  return z
    .string()
    .transform(visibleTrim)
    .pipe(
      z
        .string()
        .max(max, { error: messages.tooLong })
        .refine((value) => !UNSAFE_IN_A_LINE.test(value), { error: messages.unsafe }),
    );
}
