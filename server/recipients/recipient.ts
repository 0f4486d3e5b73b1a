import type { RecipientNames } from './recipient-names.js';
import type { Salutations } from './recipient-salutation.js';

/** Recipients: the people and institutions letters are addressed to. Types only; rules live in recipient-input.ts. */

export interface Recipient {
  id: number;
  name: string;
  title: string;
  organisation: string;
  country: string | null;
  email: string;
  /** The language the recipient reads; they get the letter's translation in it when there is one. */
  language: string;
  /**
   * Their salutation in their own language (`salutations[language]`), as the directory shows it first.
   * A letter never opens with it directly: it opens with salutationFor(salutations, the text's language).
   */
  salutation: string;
  /** Their salutations by language, their own language's included. */
  salutations: Salutations;
  /** Their name, title and institution in other interface languages, for pages and letters in them (none: as above). */
  names: RecipientNames;
  notes: string;
  createdAt: Date;
  /** When a letter to this address last bounced, and what the receiving server said. */
  bouncingAt: Date | null;
  bounceReply: string | null;
}
