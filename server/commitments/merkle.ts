import { createHash } from 'node:crypto';

/**
 * Merkle trees over a delivered list of signatures, hashed as RFC 6962 (Certificate Transparency) and
 * RFC 9162 §2.1 hash them: a leaf is SHA-256(0x00 ‖ data), an inner node SHA-256(0x01 ‖ left ‖ right),
 * and a tree of n leaves splits at the largest power of two below n. Pure: no I/O, no clock.
 *
 * The same algorithm is written out in docs/verification.md so anyone can check a receipt without this
 * code, and public/verify.js runs it in the browser.
 */

/** What one leaf commits to: a signature as it was listed in the delivered annex. */
export interface LeafFields {
  /** The signature's reference (signatures.ref). */
  reference: string;
  /** The name exactly as the annex printed it, or UNNAMED for a supporter counted but not named. */
  name: string;
  /** The supporter's country, an ISO 3166-1 alpha-2 code ('' when none). */
  country: string;
  /** When the signature was confirmed, ISO 8601 UTC as stored (e.g. 2026-12-06T01:02:03.456Z). */
  confirmedAt: string;
  /** The signature's secret salt, 32 random bytes as 64 lowercase hex digits: without it a leaf reveals nothing. */
  salt: string;
}

/** The name a leaf commits to for a supporter who chose to be counted but not named. */
export const UNNAMED = 'counted, not named';

/** The first field of every leaf's data: names the format, so a later format cannot be confused with it. */
export const LEAF_FORMAT = 'undersigned-leaf/1';

/**
 * A supporter's receipt: enough to show, against a published root, that their signature was in a
 * delivered list. Served as JSON; docs/verification.md describes each field.
 */
export interface Receipt {
  version: 1;
  /** The letter's slug. */
  letter: string;
  /** The delivery round whose list this is. */
  round: number;
  /** How many signatures the list had (the tree's size). */
  treeSize: number;
  /** The tree's root, 64 lowercase hex digits, as published. */
  root: string;
  /** The signature's position in the list, from 0. */
  leafIndex: number;
  leaf: LeafFields;
  /** The inclusion proof (audit path), from the leaf up, each 64 lowercase hex digits. */
  proof: string[];
}

const sha256 = (...parts: Uint8Array[]): Buffer => {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest();
};

const LEAF_PREFIX = Buffer.from([0x00]);
const NODE_PREFIX = Buffer.from([0x01]);

/**
 * A leaf's data: each field (LEAF_FORMAT, reference, name, country, confirmedAt, salt, in that order) as
 * its UTF-8 length in four bytes, big-endian, then its UTF-8 bytes. Lengths make it unambiguous whatever a
 * name contains.
 */
export function leafData(fields: LeafFields): Buffer {
  const parts = [LEAF_FORMAT, fields.reference, fields.name, fields.country, fields.confirmedAt, fields.salt];
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const bytes = Buffer.from(part, 'utf8');
    const length = Buffer.alloc(4);
    length.writeUInt32BE(bytes.length);
    chunks.push(length, bytes);
  }
  return Buffer.concat(chunks);
}

/** A leaf's hash: SHA-256(0x00 ‖ leafData). */
export function leafHash(fields: LeafFields): Buffer {
  return sha256(LEAF_PREFIX, leafData(fields));
}

function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  return sha256(NODE_PREFIX, left, right);
}

/** The largest power of two smaller than n (n ≥ 2). */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/** The root of a tree over these leaf hashes (RFC 6962 MTH); the empty tree's root is SHA-256 of nothing. */
export function treeRoot(leaves: readonly Buffer[]): Buffer {
  if (leaves.length === 0) return sha256();
  return rootOf(leaves, 0, leaves.length);
}

/** MTH(D[from:to]); the recursion is as deep as the tree (15 levels for 20,000 leaves). */
function rootOf(leaves: readonly Buffer[], from: number, to: number): Buffer {
  if (to - from === 1) return leaves[from]!;
  const k = split(to - from);
  return nodeHash(rootOf(leaves, from, from + k), rootOf(leaves, from + k, to));
}

/**
 * The same root as treeRoot, built leaf by leaf: a stack of the perfect subtrees so far (one per bit of
 * the count), so a caller can hash a long list a page at a time with turns of the event loop between.
 */
export class TreeBuilder {
  private readonly stack: { size: number; hash: Buffer }[] = [];
  private count = 0;

  /** Adds the next leaf's hash. */
  push(leaf: Buffer): void {
    let top = { size: 1, hash: leaf };
    while (this.stack.length > 0 && this.stack.at(-1)!.size === top.size) {
      const left = this.stack.pop()!;
      top = { size: left.size * 2, hash: nodeHash(left.hash, top.hash) };
    }
    this.stack.push(top);
    this.count += 1;
  }

  get size(): number {
    return this.count;
  }

  /** The root of the leaves added so far: the perfect subtrees joined from the right, as MTH splits them. */
  root(): Buffer {
    if (this.stack.length === 0) return sha256();
    let root = this.stack.at(-1)!.hash;
    for (let i = this.stack.length - 2; i >= 0; i--) root = nodeHash(this.stack[i]!.hash, root);
    return root;
  }
}

/** The inclusion proof of leaf `index` in the tree over `leaves` (RFC 6962 PATH), from the leaf up. */
export function inclusionProof(leaves: readonly Buffer[], index: number): Buffer[] {
  if (!Number.isInteger(index) || index < 0 || index >= leaves.length)
    throw new RangeError(`no leaf ${index} in a tree of ${leaves.length}`);
  const path: Buffer[] = [];
  let from = 0;
  let to = leaves.length;
  let m = index;
  // Walk down from the root, collecting the sibling subtree at each split, then reverse: leaf first.
  while (to - from > 1) {
    const k = split(to - from);
    if (m < k) {
      path.push(rootOf(leaves, from + k, to));
      to = from + k;
    } else {
      path.push(rootOf(leaves, from, from + k));
      from += k;
      m -= k;
    }
  }
  return path.reverse();
}

/** Checks an inclusion proof as RFC 9162 §2.1.3.2 does. */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  treeSize: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isInteger(index) || !Number.isInteger(treeSize) || index < 0 || index >= treeSize) return false;
  let fn = index;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leaf);
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/**
 * The proof that the tree over the first `oldSize` leaves is a prefix of the tree over all `leaves`
 * (RFC 6962 PROOF(m, D[n])), for 0 < oldSize ≤ leaves.length: empty when the sizes are equal.
 */
export function consistencyProof(leaves: readonly Buffer[], oldSize: number): Buffer[] {
  if (!Number.isInteger(oldSize) || oldSize < 1 || oldSize > leaves.length)
    throw new RangeError(`no consistency proof from ${oldSize} to ${leaves.length}`);
  const proof: Buffer[] = [];
  // SUBPROOF(m, D[from:to], b), unrolled; the collected hashes are reversed at the end (innermost first).
  let from = 0;
  let to = leaves.length;
  let m = oldSize;
  let complete = true;
  while (m !== to - from) {
    const k = split(to - from);
    if (m <= k) {
      proof.push(rootOf(leaves, from + k, to));
      to = from + k;
    } else {
      proof.push(rootOf(leaves, from, from + k));
      from += k;
      m -= k;
      complete = false;
    }
  }
  if (!complete) proof.push(rootOf(leaves, from, to));
  return proof.reverse();
}

/** Checks a consistency proof as RFC 9162 §2.1.4.2 does. */
export function verifyConsistency(
  oldSize: number,
  newSize: number,
  oldRoot: Uint8Array,
  newRoot: Uint8Array,
  proof: readonly Uint8Array[],
): boolean {
  if (!Number.isInteger(oldSize) || !Number.isInteger(newSize) || oldSize < 1 || oldSize > newSize)
    return false;
  if (oldSize === newSize) return proof.length === 0 && Buffer.from(oldRoot).equals(newRoot);
  const path = [...proof];
  // An old tree of 2^k leaves is a whole subtree of the new one: its root starts the path.
  if ((oldSize & (oldSize - 1)) === 0) path.unshift(oldRoot);
  if (path.length === 0) return false;
  let fn = oldSize - 1;
  let sn = newSize - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr: Buffer = Buffer.from(path[0]!);
  let sr: Buffer = Buffer.from(path[0]!);
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return fr.equals(oldRoot) && sr.equals(newRoot) && sn === 0;
}

/**
 * Checks a receipt against a root and size the checker trusts (published on the record, in the letter,
 * in the API). Both count: as in RFC 9162, a proof can also fit a tree of another size.
 */
export function verifyReceipt(receipt: Receipt, published: { root: string; treeSize: number }): boolean {
  const hex = /^[0-9a-f]{64}$/;
  const publishedRoot = published.root;
  if (!hex.test(publishedRoot) || receipt.root !== publishedRoot) return false;
  if (receipt.treeSize !== published.treeSize) return false;
  if (!receipt.proof.every((p) => hex.test(p))) return false;
  return verifyInclusion(
    leafHash(receipt.leaf),
    receipt.leafIndex,
    receipt.treeSize,
    receipt.proof.map((p) => Buffer.from(p, 'hex')),
    Buffer.from(publishedRoot, 'hex'),
  );
}
