import { displayNamesIn } from './format.js';

/** ISO 3166-1 alpha-2 codes of the countries a supporter can choose; names come from Intl in the reader's language. */
export const COUNTRY_CODES = (
  'AD AE AF AG AL AM AO AR AT AU AZ BA BB BD BE BF BG BH BI BJ BN BO BR BS BT BW BY BZ CA CD CF CG CH CI CL CM CN ' +
  'CO CR CU CV CY CZ DE DJ DK DM DO DZ EC EE EG ER ES ET FI FJ FM FR GA GB GD GE GH GM GN GQ GR GT GW GY HK HN HR ' +
  'HT HU ID IE IL IN IQ IR IS IT JM JO JP KE KG KH KI KM KN KP KR KW KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ' +
  'ME MG MH MK ML MM MN MO MR MT MU MV MW MX MY MZ NA NE NG NI NL NO NP NR NZ OM PA PE PG PH PK PL PS PT PW PY QA ' +
  'RO RS RU RW SA SB SC SD SE SG SI SK SL SM SN SO SR SS ST SV SY SZ TD TG TH TJ TL TM TN TO TR TT TV TW TZ UA UG ' +
  'US UY UZ VA VC VE VN VU WS XK YE ZA ZM ZW'
).split(' ');

const known = new Set(COUNTRY_CODES);

export function isCountryCode(code: string): boolean {
  return known.has(code);
}

/** The country's name in the given language ("KR" → "South Korea" / "대한민국"); the code when Intl has none. */
export function countryName(code: string, language: string): string {
  try {
    return displayNamesIn(language, 'region').of(code) ?? code;
  } catch {
    // A malformed code (a value stored before codes were checked): shown as it is.
    return code;
  }
}

const optionsByLanguage = new Map<string, readonly { code: string; name: string }[]>();

/** Every country as {code, name}, sorted by name in the reader's language, for the signing form (computed once per language). */
export function countryOptions(language: string): readonly { code: string; name: string }[] {
  let options = optionsByLanguage.get(language);
  if (!options) {
    const collator = new Intl.Collator(language);
    options = Object.freeze(
      COUNTRY_CODES.map((code) => ({ code, name: countryName(code, language) })).sort((a, b) =>
        collator.compare(a.name, b.name),
      ),
    );
    optionsByLanguage.set(language, options);
  }
  return options;
}

/** A country as the signing form offers it. */
export interface CountryOption {
  code: string;
  name: string;
}

/** How many countries the signing form lists above the others at most. */
export const MAX_FEATURED_COUNTRIES = 8;

/**
 * The signing form's country list in the reader's language: the countries this letter is about (in the
 * order the caller gives them, at most MAX_FEATURED_COUNTRIES) first, so a supporter
 * from Korea or Ukraine finds theirs without scrolling through two hundred names; then every other
 * country, sorted by the reader's language's collation. A country is in one list only (a select with
 * the same country twice reads as two choices to a screen reader).
 */
export function countryChoices(
  language: string,
  featuredCodes: readonly string[],
): { featured: CountryOption[]; others: CountryOption[] } {
  const featured = [...new Set(featuredCodes.filter(isCountryCode))].slice(0, MAX_FEATURED_COUNTRIES);
  const chosen = new Set(featured);
  return {
    featured: featured.map((code) => ({ code, name: countryName(code, language) })),
    others: countryOptions(language).filter((option) => !chosen.has(option.code)),
  };
}
