/** A delivered list's commitment: types and pure rules (no I/O). The hashing itself is merkle.ts. */
import { UNNAMED, type LeafFields } from './merkle.js';

/** A round's stored tree, as the letter, the record and the API publish it. */
export interface Commitment {
  roundId: number;
  treeSize: number;
  /** 64 lowercase hex digits. */
  root: string;
  /** The earlier round this one corrects (an erratum), or null. */
  correctsRoundId: number | null;
  createdAt: Date;
}

/** A published commitment with its round: what the public record and API list per letter. */
export interface PublishedCommitment extends Commitment {
  /** The round's kind: delivery, update, milestone (or an erratum's). */
  kind: string;
  /** When the first letter of the round was sent. */
  deliveredAt: Date;
}

/** Why no consistency proof links two published lists. */
export type ConsistencyRefusal = 'notFound' | 'notAnExtension';

/** The proof that an earlier published list is a prefix of a later one (RFC 6962), as the API answers it. */
export interface ConsistencyAnswer {
  from: { round: number; treeSize: number; root: string };
  to: { round: number; treeSize: number; root: string };
  proof: string[];
}

/** A signature as the annex lists it, with what its leaf needs. */
export interface ListedSignature {
  ref: string;
  confirmedAt: string;
  country: string;
  display: string;
  /** The name the annex prints (publicName), null or '' when the supporter is counted only. */
  name: string | null;
}

/**
 * The name a leaf commits to: exactly the annex's (annexOf in deliveries/delivery.ts names nobody whose
 * display is hidden or whose name is empty), or UNNAMED for a supporter counted but not named.
 */
export function leafName(signature: Pick<ListedSignature, 'display' | 'name'>): string {
  if (signature.display === 'hidden' || signature.name === null || signature.name === '') return UNNAMED;
  return signature.name;
}

/** The fields of a listed signature's leaf, with its salt. */
export function leafFieldsOf(signature: ListedSignature, salt: string): LeafFields {
  return {
    reference: signature.ref,
    name: leafName(signature),
    country: signature.country,
    confirmedAt: signature.confirmedAt,
    salt,
  };
}

/** Whether a salt has the shape merkle.ts documents: 32 bytes as 64 lowercase hex digits. */
export function isSalt(value: string): boolean {
  return /^[0-9a-f]{64}$/.test(value);
}
