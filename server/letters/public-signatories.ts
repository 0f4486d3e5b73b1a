/**
 * A supporter as anyone may see them on a letter: the name in the form they chose (full name or
 * initials), their country code, and their title and organisation only when they chose their full name. Never an
 * e-mail address; supporters who asked to be counted only are never one of these.
 */
export interface PublicSignatory {
  name: string;
  country: string;
  organisation: string;
  /** Their title or role, beside a full name only ('' otherwise). */
  title: string;
}

/**
 * Port: who may be listed on a letter. The signatures slice answers it (it owns the display choices);
 * wiring.ts passes it in, so letters never import signatures.
 */
export interface PublicSignatories {
  /** The most recently confirmed signatories who chose to be listed by name, newest first. */
  recent(letterId: number, limit: number): Promise<PublicSignatory[]>;
}
