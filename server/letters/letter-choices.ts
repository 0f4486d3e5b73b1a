/**
 * The letters an admin can pick from in a form (exports, moderation), as a select's options. Typing a
 * slug was the moderation filter's way, and a slug mistyped found nothing without saying why.
 */
import type { User } from '../accounts/account.js';

export interface LetterChoice {
  id: number;
  slug: string;
  /** In the interface language where the letter has a text in it. */
  title: string;
}

/** The letters `user` can pick from, titled in `language`. */
export type LetterChoices = (user: User, language: string) => Promise<LetterChoice[]>;

/**
 * The options, the chosen one selected. A chosen slug that is not among them (an old link, a letter
 * since deleted) stays as an option of its own, so the form still shows what was searched for.
 */
export function letterOptions(
  letters: readonly LetterChoice[],
  chosen: string,
): (LetterChoice & { label: string; selected: boolean })[] {
  // Two letters of one title (a copy of a template next to the original) are told apart by address.
  const seen = new Map<string, number>();
  for (const { title } of letters) seen.set(title, (seen.get(title) ?? 0) + 1);
  const options = letters.map((letter) => ({
    ...letter,
    label: (seen.get(letter.title) ?? 0) > 1 ? `${letter.title} (/letters/${letter.slug})` : letter.title,
    selected: letter.slug === chosen,
  }));
  if (chosen !== '' && !letters.some((letter) => letter.slug === chosen))
    options.push({ id: 0, slug: chosen, title: chosen, label: chosen, selected: true });
  return options;
}
