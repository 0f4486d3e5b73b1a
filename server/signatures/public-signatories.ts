import type { PublicSignatories, PublicSignatory } from '../letters/public-signatories.js';
import type { SignatureRepository } from './signature-repository.js';
import { publicName } from './signature.js';

/** The letters' PublicSignatories port, answered from the signatures: each name as its supporter chose. */
export function publicSignatories(signatures: Pick<SignatureRepository, 'recentPublic'>): PublicSignatories {
  return {
    async recent(letterId: number, limit: number): Promise<PublicSignatory[]> {
      const rows = await signatures.recentPublic(letterId, limit);
      return rows.flatMap((row) => {
        const name = publicName(row);
        // Counted-only supporters are not read here, but the rule that hides them lives in publicName.
        if (name === null || name === '') return [];
        // An organisation beside initials would point at the person the initials protect.
        return [{ name, country: row.country, organisation: row.display === 'full' ? row.organisation : '' }];
      });
    },
  };
}
