import { createHash } from 'node:crypto';

/**
 * A verifier of receipts and consistency proofs written from docs/verification.md alone, as someone
 * outside the project would write one: it imports nothing from server/ (tests/unit/commitments/
 * independent-verifier.test.ts reads this file to make sure) and uses node:crypto only. Where it and
 * the platform disagree, one of them, or the document, is wrong.
 */

/** The receipt as docs/verification.md §1 describes it; every field is checked, none trusted. */
export interface IndependentReceipt {
  version: unknown;
  letter: unknown;
  round: unknown;
  treeSize: unknown;
  root: unknown;
  leafIndex: unknown;
  leaf: unknown;
  proof: unknown;
}

const HASH = /^[0-9a-f]{64}$/;

function sha256(...parts: Buffer[]): Buffer {
  return createHash('sha256').update(Buffer.concat(parts)).digest();
}

/** §3: SHA-256(0x01 ‖ l ‖ r). */
function node(left: Buffer, right: Buffer): Buffer {
  return sha256(Buffer.from([1]), left, right);
}

/** §2: each field as its UTF-8 byte length (4 bytes, big-endian) then its bytes, in the document's order. */
export function encodeLeaf(leaf: {
  reference: string;
  name: string;
  country: string;
  confirmedAt: string;
  salt: string;
}): Buffer {
  const fields = ['undersigned-leaf/1', leaf.reference, leaf.name, leaf.country, leaf.confirmedAt, leaf.salt];
  return Buffer.concat(
    fields.flatMap((field) => {
      const bytes = Buffer.from(field, 'utf8');
      const length = Buffer.alloc(4);
      length.writeUInt32BE(bytes.length, 0);
      return [length, bytes];
    }),
  );
}

/** §3: SHA-256(0x00 ‖ leafData), as 64 hex digits. */
export function hashLeaf(leaf: Parameters<typeof encodeLeaf>[0]): string {
  return sha256(Buffer.from([0]), encodeLeaf(leaf)).toString('hex');
}

/** `>> 1` of the document: halving, rounding down (not JavaScript's >>, which is 32-bit). */
const half = (n: number): number => Math.floor(n / 2);

const isIndex = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

/** §4, step by step: the leaf hash, its index, the published size and root, the proof; all hex. */
export function checkInclusion(
  leafHashHex: string,
  leafIndex: number,
  treeSize: number,
  proofHex: readonly string[],
  rootHex: string,
): boolean {
  if (!isIndex(leafIndex) || !isIndex(treeSize) || leafIndex >= treeSize) return false;
  if (![leafHashHex, rootHex, ...proofHex].every((h) => HASH.test(h))) return false;
  let fn = leafIndex;
  let sn = treeSize - 1;
  let r: Buffer = Buffer.from(leafHashHex, 'hex');
  for (const hex of proofHex) {
    const p = Buffer.from(hex, 'hex');
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = node(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = node(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && r.toString('hex') === rootHex;
}

/**
 * §5: a receipt against a root and size published elsewhere (the letter, the record, the API): its
 * root and size must be those, and its leaf must lead to that root.
 */
export function checkReceipt(receipt: unknown, published: { root: string; treeSize: number }): boolean {
  if (typeof receipt !== 'object' || receipt === null) return false;
  const r = receipt as IndependentReceipt;
  if (r.version !== 1 || typeof r.letter !== 'string' || !isIndex(r.round)) return false;
  if (r.root !== published.root || r.treeSize !== published.treeSize) return false;
  if (!Array.isArray(r.proof) || !r.proof.every((h) => typeof h === 'string')) return false;
  if (typeof r.leaf !== 'object' || r.leaf === null) return false;
  const leaf = r.leaf as Record<string, unknown>;
  const names = ['reference', 'name', 'country', 'confirmedAt', 'salt'] as const;
  if (!names.every((name) => typeof leaf[name] === 'string')) return false;
  const fields = Object.fromEntries(names.map((name) => [name, leaf[name] as string]));
  return checkInclusion(
    hashLeaf(fields as Parameters<typeof encodeLeaf>[0]),
    r.leafIndex as number,
    published.treeSize,
    r.proof as string[],
    published.root,
  );
}

const isPowerOfTwo = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** §6: an earlier list (size, root) is the start of a later one (size, root), by the proof; all hex. */
export function checkConsistency(
  earlier: { treeSize: number; root: string },
  later: { treeSize: number; root: string },
  proofHex: readonly string[],
): boolean {
  const m = earlier.treeSize;
  const n = later.treeSize;
  if (!isIndex(m) || !isIndex(n) || m < 1 || m > n) return false;
  if (![earlier.root, later.root, ...proofHex].every((h) => HASH.test(h))) return false;
  if (m === n) return proofHex.length === 0 && earlier.root === later.root;
  const c = (isPowerOfTwo(m) ? [earlier.root, ...proofHex] : [...proofHex]).map((h) => Buffer.from(h, 'hex'));
  if (c.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr: Buffer = c[0]!;
  let sr: Buffer = c[0]!;
  for (const hash of c.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(hash, fr);
      sr = node(hash, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = node(sr, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return fr.toString('hex') === earlier.root && sr.toString('hex') === later.root && sn === 0;
}
