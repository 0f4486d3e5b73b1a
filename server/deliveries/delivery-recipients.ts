import type { Letter } from '../letters/letter.js';
import type { LetterRepository } from '../letters/letter-repository.js';
import type { Recipient } from '../recipients/recipient.js';
import type { RecipientRepository } from '../recipients/recipient-repository.js';

/** A recipient of a letter, with its escalation tier on that letter (1 embassy, 2 ministry, 3 head of state). */
export type LetterRecipientOf = Recipient & { tier: number };

/** The recipients a letter goes to, in the organizer's order, as the directory has them now. */
export type RecipientsOfLetter = (letter: Pick<Letter, 'id'>) => Promise<LetterRecipientOf[]>;

/** Reads a letter's recipients from its list and the directory (one place for every delivery use case). */
export function recipientsOfLetter(
  letters: LetterRepository,
  recipients: RecipientRepository,
): RecipientsOfLetter {
  return async (letter) => {
    const listed = (await letters.recipientsOfLetters([letter.id])).get(letter.id) ?? [];
    const tiers = new Map(listed.map((r) => [r.id, r.tier]));
    const found = await recipients.findByIds(listed.map((r) => r.id));
    return found.map((r) => ({ ...r, tier: tiers.get(r.id) ?? 1 }));
  };
}
