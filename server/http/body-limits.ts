/**
 * The largest form body the public pages read, in bytes: anything larger is refused with 413 before it is
 * parsed (a signing form is under a kilobyte). Load shedding keeps a connection for a refused body up to
 * this size, so the two limits cannot drift apart.
 */
export const PUBLIC_BODY_LIMIT_BYTES = 16 * 1024;
