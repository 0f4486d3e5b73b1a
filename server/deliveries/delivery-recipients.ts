import type { Letter } from '../letters/letter.js';
import type { DeliveryRound } from './delivery.js';
import type { AudienceMember, DeliveryRepository } from './delivery-repository.js';
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
 * A round's recipients out of the letter's list as it is now (`listed`, with each one's address and
 * salutations as the directory has them: a corrected address is used): those of the audience kept when
 * it started, with the tier they were reached in. Never one added after the round started (they wait for
 * the next round); never one taken off the list since, whom the organizer meant not to write to (the
 * wrong embassy must not receive the signatories' names because the round had started). A round that
 * kept no audience (a test, or one from before audiences were kept) goes to the list as it is. Pure: the
 * delivery page counts a compiling round's letters by it from the list it has already read.
 */
export function stillListed(
  audience: readonly AudienceMember[] | undefined,
  listed: readonly LetterRecipientOf[],
): LetterRecipientOf[] {
  if (!audience) return [...listed];
  const tiers = new Map(audience.map((m) => [m.recipientId, m.tier]));
  return listed.flatMap((r) => {
    const tier = tiers.get(r.id);
    return tier === undefined ? [] : [{ ...r, tier }];
  });
}

/** Reads a round's recipients (stillListed): its kept audience and its letter's list. */
export function recipientsOfRound(
  deliveries: DeliveryRepository,
  ofLetter: RecipientsOfLetter,
): RecipientsOfRound {
  return async (round) => {
    const [audience, listed] = await Promise.all([
      deliveries.roundAudience(round.id),
      ofLetter({ id: round.letterId }),
    ]);
    return stillListed(audience, listed);
  };
}
