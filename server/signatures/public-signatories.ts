import type { PublicSignatories, PublicSignatory } from '../letters/public-signatories.js';
import type { PublicSignatureRow, SignatureRepository } from './signature-repository.js';
import { publicName } from './signature.js';

/** A signature as anyone may see it, or undefined for a supporter who is counted only. */
function asPublicSignatory(row: PublicSignatureRow): PublicSignatory | undefined {
  const name = publicName(row);
  // Counted-only supporters are not read here, but the rule that hides them lives in publicName.
  if (name === null || name === '') return undefined;
  // An organisation or title beside initials would point at the person the initials protect.
  const full = row.display === 'full';
  return {
    name,
    country: row.country,
    organisation: full ? row.organisation : '',
    title: full ? row.jobTitle : '',
  };
}

/** The letters' PublicSignatories port, answered from the signatures: each name as its supporter chose. */
export function publicSignatories(signatures: Pick<SignatureRepository, 'recentPublic'>): PublicSignatories {
  return {
    async recent(letterId: number, limit: number): Promise<PublicSignatory[]> {
      const rows = await signatures.recentPublic(letterId, limit);
      return rows.flatMap((row) => {
        const signatory = asPublicSignatory(row);
        return signatory ? [signatory] : [];
      });
    },
  };
}

/** Where a page of public signatories ends: the next page starts after it. */
export interface SignatoryPosition {
  confirmedAt: string;
  id: number;
}

/** One page of a letter's public signatories, and where it ended when more may follow. */
export interface SignatoryPage {
  signatories: PublicSignatory[];
  /** The last row read, when the page was full (a next page may hold more); undefined at the end. */
  next: SignatoryPosition | undefined;
}

/**
 * Every public signatory of a letter, a page at a time (the public API), by the same rule as the letter
 * page's list: each name as its supporter chose, never a counted-only supporter, never an address.
 */
export function publicSignatoryPages(signatures: Pick<SignatureRepository, 'publicPage'>) {
  return {
    async page(
      letterId: number,
      after: SignatoryPosition | undefined,
      limit: number,
    ): Promise<SignatoryPage> {
      const rows = await signatures.publicPage(letterId, after, limit);
      const signatories = rows.flatMap((row) => {
        const signatory = asPublicSignatory(row);
        return signatory ? [signatory] : [];
      });
      return { signatories, next: rows.length === limit ? rows.at(-1)!.position : undefined };
    },
  };
}

/** Pages of public signatories (publicSignatoryPages). */
export type PublicSignatoryPages = ReturnType<typeof publicSignatoryPages>;
