import type { LetterRepository } from '../letters/letter-repository.js';
import { notFound } from '../lib/errors.js';
import type { MailLinks } from '../mail/mail-links.js';
import { earlierPublicNames, publicName } from '../signatures/signature.js';
import type { SignatureRepository } from '../signatures/signature-repository.js';
import { leafFieldsOf } from './commitment.js';
import type { CommitmentRepository } from './commitment-repository.js';
import { inclusionProof, leafHash, type Receipt } from './merkle.js';

export interface ReceiptServiceDeps {
  commitments: CommitmentRepository;
  signatures: SignatureRepository;
  letters: LetterRepository;
  /** Reads a receipts link's token back to its signature. */
  links: Pick<MailLinks, 'refFrom'>;
}

/** One delivered list a supporter's signature is in, with its receipt, or why there is none. */
export interface ReceiptEntry {
  round: number;
  kind: string;
  deliveredAt: Date;
  treeSize: number;
  root: string;
  /**
   * The receipt, or null when the signature's leaf no longer matches what it is now (its name's display,
   * country or confirmation changed since): a receipt computed now would be false, so none is given.
   */
  receipt: Receipt | null;
}

/** What a supporter's receipts link shows. */
export interface SupporterReceipts {
  letterSlug: string;
  letterId: number;
  /** The person was erased: their leaves can never be opened, and there is nothing to give. */
  erased: boolean;
  /** Withdrawn or invalidated: no list delivered from now on will hold it. */
  leftTheLetter: boolean;
  entries: ReceiptEntry[];
}

/**
 * Supporters' receipts, computed on request from the stored trees: the signature's leaf fields made
 * again (its salt from signature_salts), checked against the stored leaf hash, and the inclusion proof
 * from the round's stored leaf hashes. Nothing is kept: a receipt is as true as the stored tree.
 */
export class ReceiptService {
  constructor(private readonly deps: ReceiptServiceDeps) {}

  /** The receipts of the signature a link names (of one round when `only` is given); a 404 for a forged or unknown link. */
  async receiptsFor(token: string, only?: number): Promise<SupporterReceipts> {
    const ref = this.deps.links.refFrom(token, 'receipt');
    const signature = ref ? await this.deps.signatures.leafSourceByRef(ref) : undefined;
    const letter = signature ? await this.deps.letters.findById(signature.letterId) : undefined;
    if (!signature || !letter) throw notFound('signature_link_invalid', 'errors.signatureLink.invalid');
    const answer = {
      letterSlug: letter.slug,
      letterId: letter.id,
      leftTheLetter: signature.status === 'withdrawn' || signature.status === 'invalidated',
    };
    if (signature.anonymised) return { ...answer, erased: true, entries: [] };
    const salt = (await this.deps.commitments.saltsOf([signature.id])).get(signature.id);
    // No salt: never listed in a delivered list yet (a salt is made the first time it is).
    const { confirmedAt } = signature;
    if (salt === undefined || confirmedAt === null) return { ...answer, erased: false, entries: [] };
    // The name now first, then any an earlier rule printed: a list delivered before the rule changed
    // committed to that one, and its receipt names what the list said.
    const candidates = [publicName(signature), ...earlierPublicNames(signature)].map((name) => {
      const fields = leafFieldsOf({ ...signature, confirmedAt, name }, salt);
      return { fields, hash: leafHash(fields).toString('hex') };
    });
    const published = new Map(
      (await this.deps.commitments.publishedOf(letter.id)).map((c) => [c.roundId, c]),
    );
    const entries: ReceiptEntry[] = [];
    for (const roundId of await this.deps.commitments.roundsListing(signature.id)) {
      if (only !== undefined && roundId !== only) continue;
      const commitment = published.get(roundId);
      const leaf = commitment && (await this.deps.commitments.leafOf(roundId, signature.id));
      if (!commitment || !leaf) continue;
      const entry = {
        round: roundId,
        kind: commitment.kind,
        deliveredAt: commitment.deliveredAt,
        treeSize: commitment.treeSize,
        root: commitment.root,
      };
      const listed = candidates.find((c) => c.hash === leaf.leafHash);
      if (!listed) {
        entries.push({ ...entry, receipt: null });
        continue;
      }
      const leaves = (await this.deps.commitments.leafHashes(roundId)).map((h) => Buffer.from(h, 'hex'));
      entries.push({
        ...entry,
        receipt: {
          version: 1,
          letter: letter.slug,
          round: roundId,
          treeSize: commitment.treeSize,
          root: commitment.root,
          leafIndex: leaf.position,
          leaf: listed.fields,
          proof: inclusionProof(leaves, leaf.position).map((p) => p.toString('hex')),
        },
      });
    }
    return { ...answer, erased: false, entries };
  }

  /** One round's receipt for the signature a link names; a 404 when there is none to give. */
  async receipt(token: string, round: number): Promise<Receipt> {
    const { entries } = await this.receiptsFor(token, round);
    const receipt = entries.find((e) => e.round === round)?.receipt;
    if (!receipt) throw notFound('receipt_not_found', 'commitments.errors.noReceipt');
    return receipt;
  }
}
