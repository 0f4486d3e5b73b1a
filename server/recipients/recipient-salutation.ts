/**
 * Salutations: how a letter greets a recipient, one per language. Pure rules, no I/O.
 *
 * A salutation is stored without its closing punctuation ("Dear Minister", "존경하는 장관님께",
 * "Шановний пане Міністре"): the letter text adds what its language puts after it ("," or "!").
 */

/** A recipient's salutations by language code; a language without one is absent. */
export type Salutations = Readonly<Record<string, string>>;

/**
 * The greeting a letter opens with when the recipient has no salutation in the letter's language: the
 * polite form for an unnamed official in that language, never a salutation in another language. These are
 * letter text, in the language of each letter (like the letter templates), not interface text: letters go
 * out in every language of LETTER_LANGUAGES, the interface catalogs exist for three of them.
 */
export const NEUTRAL_SALUTATIONS: Readonly<Record<string, string>> = {
  en: 'Dear Sir or Madam',
  ko: '존경하는 관계자 여러분께',
  uk: 'Шановні пані та панове',
  ru: 'Уважаемые дамы и господа',
  ja: 'ご担当者様',
  zh: '尊敬的先生/女士',
  de: 'Sehr geehrte Damen und Herren',
  fr: 'Madame, Monsieur',
  es: 'Estimados señores y señoras',
  it: 'Gentili Signore e Signori',
  pl: 'Szanowni Państwo',
  nl: 'Geachte dames en heren',
};

/** The neutral greeting in `language`; the English one only for a language the platform does not know. */
export function neutralSalutation(language: string): string {
  return NEUTRAL_SALUTATIONS[language] ?? NEUTRAL_SALUTATIONS.en!;
}

/**
 * The salutation a letter in `language` opens with: the recipient's own in that language, or else
 * `fallback` (the neutral greeting in that language). Never a salutation written for another language:
 * a Korean text read by an English-speaking recipient still opens in Korean.
 */
export function salutationFor(
  salutations: Salutations,
  language: string,
  fallback: string = neutralSalutation(language),
): string {
  const own = salutations[language]?.trim();
  return own ? own : fallback;
}
