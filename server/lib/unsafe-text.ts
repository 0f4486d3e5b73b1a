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
