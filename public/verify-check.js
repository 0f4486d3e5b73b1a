// The check of docs/verification.md in the browser, for /verify (public/verify.js): WebCrypto's SHA-256
// and TextEncoder, nothing else, nothing sent. Pure apart from the hashing, so that tests run it in Node
// beside the platform's own (server/commitments/merkle.ts) on the same trees.

/** The first field of every leaf's data (docs/verification.md §2). */
export const LEAF_FORMAT = 'undersigned-leaf/1';
/** The receipt's leaf fields, in the order the leaf data holds them after LEAF_FORMAT. */
export const LEAF_FIELDS = ['reference', 'name', 'country', 'confirmedAt', 'salt'];
/** The largest receipt read, in characters: a proof of 64 hashes and long names fit many times over. */
export const MAX_RECEIPT_CHARS = 20000;
/** No list this platform delivers has a tree deeper than this (2^64 signatures). */
const MAX_PROOF = 64;
const HASH = /^[0-9a-f]{64}$/;

const isIndex = (n) => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
// `>> 1` of the algorithm: halving, rounding down, for sizes past JavaScript's 32-bit >>.
const half = (n) => Math.floor(n / 2);
const isPowerOfTwo = (n) => {
  let k = 1;
  while (k < n) k *= 2;
  return k === n;
};

/** Bytes as lowercase hex. */
export function toHex(bytes) {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}

/** 64 hex digits as 32 bytes (the caller checked them against HASH). */
function fromHex(hex) {
  const bytes = new Uint8Array(hex.length / 2);
  for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(hex.slice(2 * i, 2 * i + 2), 16);
  return bytes;
}

async function sha256(...parts) {
  const length = parts.reduce((sum, part) => sum + part.length, 0);
  const all = new Uint8Array(length);
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  return new Uint8Array(await crypto.subtle.digest('SHA-256', all));
}

const LEAF_PREFIX = new Uint8Array([0]);
const NODE_PREFIX = new Uint8Array([1]);
const nodeHash = (left, right) => sha256(NODE_PREFIX, left, right);

/** Whether this browser can hash here: WebCrypto exists only on secure origins (HTTPS, localhost). */
export function canHash() {
  return typeof crypto !== 'undefined' && typeof crypto.subtle?.digest === 'function';
}

/** The leaf data: each field as its UTF-8 length in 4 bytes big-endian, then its UTF-8 bytes (§2). */
export function leafData(leaf) {
  const encoder = new TextEncoder();
  const fields = [LEAF_FORMAT, ...LEAF_FIELDS.map((name) => leaf[name])].map((f) => encoder.encode(f));
  const data = new Uint8Array(fields.reduce((sum, f) => sum + 4 + f.length, 0));
  const view = new DataView(data.buffer);
  let at = 0;
  for (const field of fields) {
    view.setUint32(at, field.length, false);
    data.set(field, at + 4);
    at += 4 + field.length;
  }
  return data;
}

/** SHA-256(0x00 ‖ leaf data) (§3). */
export function leafHash(leaf) {
  return sha256(LEAF_PREFIX, leafData(leaf));
}

/**
 * A receipt's text (JSON, or the base64url of JSON that a `#receipt=` link carries) as a receipt, or why
 * it is not one: { receipt } or { problem: 'tooLarge' | 'json' | 'version' | 'field', field? }.
 */
export function parseReceipt(text) {
  if (typeof text !== 'string' || text.length > MAX_RECEIPT_CHARS) return { problem: 'tooLarge' };
  let value;
  try {
    value = JSON.parse(text);
  } catch {
    return { problem: 'json' };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: 'json' };
  if (value.version !== 1) return { problem: 'version' };
  const wrong = (field) => ({ problem: 'field', field });
  if (typeof value.letter !== 'string' || value.letter === '' || value.letter.length > 200)
    return wrong('letter');
  if (!isIndex(value.round)) return wrong('round');
  if (!isIndex(value.treeSize) || value.treeSize < 1) return wrong('treeSize');
  if (typeof value.root !== 'string' || !HASH.test(value.root)) return wrong('root');
  if (!isIndex(value.leafIndex) || value.leafIndex >= value.treeSize) return wrong('leafIndex');
  const leaf = value.leaf;
  if (typeof leaf !== 'object' || leaf === null || Array.isArray(leaf)) return wrong('leaf');
  for (const name of LEAF_FIELDS) if (typeof leaf[name] !== 'string') return wrong(`leaf.${name}`);
  if (
    !Array.isArray(value.proof) ||
    value.proof.length > MAX_PROOF ||
    !value.proof.every((p) => typeof p === 'string' && HASH.test(p))
  )
    return wrong('proof');
  const fields = Object.fromEntries(LEAF_FIELDS.map((name) => [name, leaf[name]]));
  return {
    receipt: {
      version: 1,
      letter: value.letter,
      round: value.round,
      treeSize: value.treeSize,
      root: value.root,
      leafIndex: value.leafIndex,
      leaf: fields,
      proof: [...value.proof],
    },
  };
}

/** The receipt a `#receipt=<base64url of its JSON>` fragment carries, as text; undefined when none or unreadable. */
export function receiptFromFragment(hash) {
  const match = /^#?(?:.*&)?receipt=([A-Za-z0-9_-]+={0,2})(?:&|$)/.exec(hash);
  if (!match || match[1].length > (MAX_RECEIPT_CHARS * 4) / 3 + 4) return undefined;
  try {
    const base64 = match[1].replace(/-/g, '+').replace(/_/g, '/').replace(/=+$/, '');
    const binary = atob(base64 + '='.repeat((4 - (base64.length % 4)) % 4));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

/**
 * RFC 9162 §2.1.3.2 (docs/verification.md §4), keeping each step for the reader:
 * { valid, root (hex reached), steps: [{ sibling, side: 'left' | 'right', hash }] }.
 */
export async function checkInclusion(leaf, index, treeSize, proof, root) {
  const steps = [];
  if (!isIndex(index) || !isIndex(treeSize) || index >= treeSize) return { valid: false, root: '', steps };
  let fn = index;
  let sn = treeSize - 1;
  let r = leaf;
  for (const hex of proof) {
    if (sn === 0) return { valid: false, root: toHex(r), steps };
    const p = fromHex(hex);
    if (fn % 2 === 1 || fn === sn) {
      r = await nodeHash(p, r);
      steps.push({ sibling: hex, side: 'left', hash: toHex(r) });
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = await nodeHash(r, p);
      steps.push({ sibling: hex, side: 'right', hash: toHex(r) });
    }
    fn = half(fn);
    sn = half(sn);
  }
  return { valid: sn === 0 && toHex(r) === root, root: toHex(r), steps };
}

/**
 * A parsed receipt against the root and size published for its list (§5): both must be the receipt's,
 * and the leaf must lead to that root with that size. Returns what the page shows:
 * { valid, reason?: 'root' | 'size' | 'path', leafData, leafHash, steps, reached }.
 */
export async function checkReceipt(receipt, published) {
  const data = leafData(receipt.leaf);
  const hash = await sha256(LEAF_PREFIX, data);
  const walk = await checkInclusion(
    hash,
    receipt.leafIndex,
    published.treeSize,
    receipt.proof,
    published.root,
  );
  const shown = { leafData: toHex(data), leafHash: toHex(hash), steps: walk.steps, reached: walk.root };
  if (receipt.root !== published.root) return { valid: false, reason: 'root', ...shown };
  if (receipt.treeSize !== published.treeSize) return { valid: false, reason: 'size', ...shown };
  if (!walk.valid) return { valid: false, reason: 'path', ...shown };
  return { valid: true, ...shown };
}

/**
 * RFC 9162 §2.1.4.2 (docs/verification.md §6): the earlier list { treeSize, root } is the start of the
 * later one, by `proof` (hex strings). Returns { valid }.
 */
export async function checkConsistency(earlier, later, proof) {
  const m = earlier.treeSize;
  const n = later.treeSize;
  const hashes = [earlier.root, later.root, ...proof];
  if (!isIndex(m) || !isIndex(n) || m < 1 || m > n || proof.length > MAX_PROOF) return { valid: false };
  if (!hashes.every((h) => typeof h === 'string' && HASH.test(h))) return { valid: false };
  if (m === n) return { valid: proof.length === 0 && earlier.root === later.root };
  const c = (isPowerOfTwo(m) ? [earlier.root, ...proof] : proof).map(fromHex);
  if (c.length === 0) return { valid: false };
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = c[0];
  let sr = c[0];
  for (const hash of c.slice(1)) {
    if (sn === 0) return { valid: false };
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(hash, fr);
      sr = await nodeHash(hash, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = half(fn);
        sn = half(sn);
      }
    } else {
      sr = await nodeHash(sr, hash);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return { valid: toHex(fr) === earlier.root && toHex(sr) === later.root && sn === 0 };
}
