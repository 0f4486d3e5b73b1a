/**
 * Numbers and dates in a language's own way, through Intl. Creating an Intl formatter costs far more than
 * using one (it loads locale data), so each language's formatters are made once and kept: pages, letters
 * and e-mails format hundreds of numbers each.
 */

/** One language's formatters. Dates are shown in UTC, as the platform stores them. */
export interface Formats {
  /** 12,345 / 12,345 / 12 345 */
  number(value: number): string;
  /** 5 December 2026 / 2026년 12월 5일 / 5 грудня 2026 р. */
  date(value: Date): string;
  /** The date with the time and its zone (UTC), as admin pages show when something happened. */
  dateTime(value: Date): string;
  /** The long date and the hour (UTC), as e-mails say until when something holds. */
  dateAndHour(value: Date): string;
  /** A short day without the year (5 Dec / 12월 5일 / 5 груд.), for charts. */
  day(value: Date): string;
  /** Hours and minutes on a 24-hour clock (UTC), beside a date. */
  time(value: Date): string;
  /** A, B and C / A, B 및 C / A, B і C */
  list(items: readonly string[]): string;
}

const byLanguage = new Map<string, Formats>();

/** A language tag Intl accepts; an unknown or malformed one formats as English. */
function supported(language: string): string {
  try {
    return Intl.NumberFormat.supportedLocalesOf([language]).length > 0 ? language : 'en';
  } catch {
    return 'en';
  }
}

/** The formatters of a language, made on first use and kept. */
export function formatsFor(language: string): Formats {
  let formats = byLanguage.get(language);
  if (!formats) {
    const locale = supported(language);
    const number = new Intl.NumberFormat(locale);
    const date = new Intl.DateTimeFormat(locale, { dateStyle: 'long', timeZone: 'UTC' });
    // English keeps its 12-hour clock; the others read a 24-hour one ("15시 28분", "15:28"), which
    // Ukrainian uses anyway and Korean reads naturally: the ICU data Node runs with here lacks Korean's
    // 오전/오후 and printed "PM" in the middle of a Korean date.
    const clock = locale === 'en' ? {} : { hourCycle: 'h23' as const };
    const dateTime = new Intl.DateTimeFormat(locale, {
      dateStyle: 'medium',
      timeStyle: 'long',
      timeZone: 'UTC',
      ...clock,
    });
    // With the zone said ("14:49 UTC"): a supporter in Seoul read an hour of the platform's clock as theirs.
    const dateAndHour = new Intl.DateTimeFormat(locale, {
      year: 'numeric',
      month: 'long',
      day: 'numeric',
      hour: 'numeric',
      minute: '2-digit',
      timeZoneName: 'short',
      timeZone: 'UTC',
      ...clock,
    });
    const day = new Intl.DateTimeFormat(locale, { month: 'short', day: 'numeric', timeZone: 'UTC' });
    const time = new Intl.DateTimeFormat(locale, {
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZone: 'UTC',
    });
    const list = new Intl.ListFormat(locale, { type: 'conjunction' });
    formats = {
      list: (items) => list.format(items),
      number: (value) => number.format(value),
      date: (value) => date.format(value),
      dateTime: (value) => dateTime.format(value),
      dateAndHour: (value) => dateAndHour.format(value),
      day: (value) => day.format(value),
      time: (value) => time.format(value),
    };
    byLanguage.set(language, formats);
  }
  return formats;
}

const displayNames = new Map<string, Intl.DisplayNames>();

/**
 * Intl.DisplayNames for languages or regions, named in `inLanguage` (English when Intl lacks it), made
 * once per language, kind and style.
 */
export function displayNamesIn(
  inLanguage: string,
  type: 'language' | 'region',
  style: 'long' | 'short' = 'long',
): Intl.DisplayNames {
  const key = `${inLanguage}|${type}|${style}`;
  let names = displayNames.get(key);
  if (!names) {
    names = new Intl.DisplayNames([supported(inLanguage), 'en'], { type, style, fallback: 'code' });
    displayNames.set(key, names);
  }
  return names;
}
