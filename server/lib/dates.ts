/** Dates typed in forms: whole days and minutes, always in UTC. No I/O here. */

export const DAY_MS = 86_400_000;

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const MINUTE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/;

/**
 * A day as a date field sends it ("2026-11-23"), as the start of that day in UTC; undefined when it is
 * no real day. Date would roll 2026-02-30 over to 2 March: a day must read back as typed.
 */
export function parseUtcDay(value: string): Date | undefined {
  const v = value.trim();
  if (!DAY.test(v)) return undefined;
  const date = new Date(`${v}T00:00:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 10) === v ? date : undefined;
}

/** A date and time as a datetime-local field sends it ("2026-11-23T14:30"), read as UTC; undefined when not real. */
export function parseUtcMinute(value: string): Date | undefined {
  const v = value.trim();
  if (!MINUTE.test(v)) return undefined;
  const date = new Date(`${v}:00.000Z`);
  return !Number.isNaN(date.getTime()) && date.toISOString().slice(0, 16) === v ? date : undefined;
}

/** The value of a date field for a stored date. */
export function dayValue(date: Date | null): string {
  return date ? date.toISOString().slice(0, 10) : '';
}

/**
 * Whether a search window's end comes after its start (either may be open). The other way round found
 * nothing and said only "No signature matches": the forms say what is wrong instead.
 */
export function inOrder(window: { from?: Date | undefined; to?: Date | undefined }): boolean {
  return !window.from || !window.to || window.to > window.from;
}
