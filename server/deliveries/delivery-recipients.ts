import type { Letter } from '../letters/letter.js';
import type { DeliveryRound } from './delivery.js';
import type { DeliveryRepository } from './delivery-repository.js';
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

/** The recipients a round is compiled for, in the list's order, as the directory has them now. */
export type RecipientsOfRound = (
  round: Pick<DeliveryRound, 'id' | 'letterId'>,
) => Promise<LetterRecipientOf[]>;

/**
 * A round's recipients: the audience kept when it started (less any deleted from the directory since),
 * each with their tier then and their address and salutations now (a corrected address is used); for a
 * round that kept none (a test, or one started before audiences were kept), the letter's list now.
 */
export function recipientsOfRound(
  deliveries: DeliveryRepository,
  recipients: RecipientRepository,
  ofLetter: RecipientsOfLetter,
): RecipientsOfRound {
  return async (round) => {
    const audience = await deliveries.audienceOf(round.id);
    if (!audience) return ofLetter({ id: round.letterId });
    const tiers = new Map(audience.map((m) => [m.recipientId, m.tier]));
    const found = await recipients.findByIds(audience.map((m) => m.recipientId));
    return found.map((r) => ({ ...r, tier: tiers.get(r.id) ?? 1 }));
  };
}
