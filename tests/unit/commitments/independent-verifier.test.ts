import { readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  consistencyProof,
  inclusionProof,
  leafData,
  leafHash,
  treeRoot,
  verifyConsistency,
  verifyInclusion,
  verifyReceipt,
  type LeafFields,
  type Receipt,
} from '../../../server/commitments/merkle.js';
import { projectRoot } from '../../../server/lib/paths.js';
import {
  checkConsistency,
  checkInclusion,
  checkReceipt,
  encodeLeaf,
  hashLeaf,
} from '../../support/independent-verifier.js';
import { loadBrowserCheck } from '../../support/verify-check.js';

// Three implementations of docs/verification.md: the platform's (server/commitments/merkle.ts), the
// page's (public/verify-check.js) and one written from the document alone (tests/support/
// independent-verifier.ts). On random lists, each receipt the platform makes passes all three, and every
// change to it fails all three.

const hex = (b: Buffer) => b.toString('hex');
const salt = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
/** Names and fields as they come: any Unicode (Hangul, Cyrillic, emoji, lone surrogates), empty ones too. */
const leafFields: fc.Arbitrary<LeafFields> = fc.record({
  reference: fc.string({ minLength: 1, maxLength: 24 }),
  name: fc.oneof(fc.string({ unit: 'binary', maxLength: 40 }), fc.constant('counted, not named')),
  country: fc.oneof(fc.constantFrom('', 'KR', 'UA', 'PL'), fc.string({ maxLength: 3 })),
  confirmedAt: fc.date({ noInvalidDate: true }).map((d) => d.toISOString()),
  salt,
});
const list = fc.array(leafFields, { minLength: 1, maxLength: 40 });

function receiptOf(leaves: LeafFields[], index: number): Receipt {
  const hashes = leaves.map(leafHash);
  return {
    version: 1,
    letter: 'a-letter',
    round: 1,
    treeSize: leaves.length,
    root: hex(treeRoot(hashes)),
    leafIndex: index,
    leaf: leaves[index]!,
    proof: inclusionProof(hashes, index).map(hex),
  };
}

/** One change to a receipt that must make it fail against the published list. */
const tamperings: ((r: Receipt) => Receipt | undefined)[] = [
  (r) => ({ ...r, leaf: { ...r.leaf, name: `${r.leaf.name}x` } }),
  (r) => ({ ...r, leaf: { ...r.leaf, reference: r.leaf.reference.slice(1) } }),
  (r) => ({ ...r, leaf: { ...r.leaf, country: r.leaf.country === 'KR' ? 'UA' : 'KR' } }),
  (r) => ({ ...r, leaf: { ...r.leaf, confirmedAt: r.leaf.confirmedAt.replace(/Z$/, '+00:00') } }),
  (r) => ({
    ...r,
    leaf: { ...r.leaf, salt: `${r.leaf.salt.slice(1)}${r.leaf.salt[0] === '0' ? '1' : '0'}` },
  }),
  (r) => (r.treeSize > 1 ? { ...r, leafIndex: (r.leafIndex + 1) % r.treeSize } : undefined),
  (r) =>
    r.proof.length > 0
      ? {
          ...r,
          proof: [`${r.proof[0]!.slice(0, 63)}${r.proof[0]!.endsWith('0') ? '1' : '0'}`, ...r.proof.slice(1)],
        }
      : undefined,
  (r) => (r.proof.length > 0 ? { ...r, proof: r.proof.slice(0, -1) } : undefined),
  (r) => ({ ...r, proof: [...r.proof, r.root] }),
  (r) => ({ ...r, treeSize: r.treeSize + 1 }),
];

describe('the independent verifier', () => {
  it('imports nothing from the platform: node:crypto only', () => {
    const source = readFileSync(
      path.join(projectRoot, 'tests', 'support', 'independent-verifier.ts'),
      'utf8',
    );
    const imports = [...source.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]/g)].map(
      (m) => m[1] ?? m[2],
    );
    expect(imports).toEqual(['node:crypto']);
    expect(source).not.toMatch(/\brequire\(|\bimport\.meta/);
  });

  it('encodes and hashes every leaf as the platform does', () => {
    fc.assert(
      fc.property(leafFields, (leaf) => {
        expect(encodeLeaf(leaf).equals(leafData(leaf))).toBe(true);
        expect(hashLeaf(leaf)).toBe(hex(leafHash(leaf)));
      }),
      { numRuns: 300 },
    );
  });

  it('accepts every receipt of random lists and refuses each change to one, as the platform does', () => {
    fc.assert(
      fc.property(list, fc.nat(), (leaves, pick) => {
        const receipt = receiptOf(leaves, pick % leaves.length);
        const published = { root: receipt.root, treeSize: receipt.treeSize };
        expect(verifyReceipt(receipt, published)).toBe(true);
        expect(checkReceipt(receipt, published)).toBe(true);
        for (const tamper of tamperings) {
          const changed = tamper(receipt);
          if (!changed) continue;
          expect(verifyReceipt(changed, published), JSON.stringify(changed)).toBe(false);
          expect(checkReceipt(changed, published), JSON.stringify(changed)).toBe(false);
        }
        // Another list's root, or a receipt that is not one, fails both.
        const other = { ...published, root: hex(leafHash(receipt.leaf)) };
        expect(checkReceipt(receipt, other)).toBe(verifyReceipt(receipt, other));
        expect(checkReceipt({ ...receipt, version: 2 }, published)).toBe(false);
        expect(checkReceipt(null, published)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });

  it('agrees with the platform on every leaf, position and size of small trees, right or wrong', () => {
    for (let n = 1; n <= 17; n++) {
      const hashes = Array.from({ length: n }, (_, i) =>
        leafHash({ reference: `r${i}`, name: '', country: '', confirmedAt: '', salt: '' }),
      );
      const root = hex(treeRoot(hashes));
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(hashes, i).map(hex);
        // The same proof against every size up to twice the tree's: the two say the same each time.
        for (let size = 1; size <= 2 * n + 1; size++)
          for (const index of [i, (i + 1) % n]) {
            const platform = verifyReceiptParts(hex(hashes[i]!), index, size, proof, root);
            expect(
              checkInclusion(hex(hashes[i]!), index, size, proof, root),
              `${i}/${index} of ${n}, size ${size}`,
            ).toBe(platform);
          }
      }
    }
  });

  it('proves random lists consistent with their beginnings, and refuses changed ones', () => {
    fc.assert(
      fc.property(list, fc.nat(), (leaves, cut) => {
        const hashes = leaves.map(leafHash);
        const m = 1 + (cut % leaves.length);
        const earlier = { treeSize: m, root: hex(treeRoot(hashes.slice(0, m))) };
        const later = { treeSize: leaves.length, root: hex(treeRoot(hashes)) };
        const proof = consistencyProof(hashes, m).map(hex);
        expect(checkConsistency(earlier, later, proof)).toBe(true);
        const platform = (e: typeof earlier, l: typeof later, p: string[]) =>
          verifyConsistency(
            e.treeSize,
            l.treeSize,
            Buffer.from(e.root, 'hex'),
            Buffer.from(l.root, 'hex'),
            p.map((h) => Buffer.from(h, 'hex')),
          );
        expect(platform(earlier, later, proof)).toBe(true);
        // A changed leaf in the earlier list, a wrong size, or a bent proof: both refuse, or both accept.
        const changed = [...hashes];
        changed[0] = leafHash({ ...leaves[0]!, name: `${leaves[0]!.name}!` });
        const rewritten = { treeSize: m, root: hex(treeRoot(changed.slice(0, m))) };
        const cases: [typeof earlier, typeof later, string[]][] = [
          [rewritten, later, proof],
          [{ ...earlier, treeSize: m + 1 }, later, proof],
          [earlier, { ...later, treeSize: later.treeSize + 1 }, proof],
          [earlier, later, proof.slice(1)],
          [earlier, later, [...proof, later.root]],
        ];
        for (const [e, l, p] of cases) {
          if (e.treeSize > l.treeSize) continue;
          expect(checkConsistency(e, l, p)).toBe(platform(e, l, p));
        }
        if (m < leaves.length) expect(checkConsistency(rewritten, later, proof)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe("the page's check (public/verify-check.js, run in Node)", () => {
  it('accepts the receipts the platform makes and refuses the same changes, showing each step', async () => {
    const browser = await loadBrowserCheck();
    await fc.assert(
      fc.asyncProperty(list, fc.nat(), async (leaves, pick) => {
        const receipt = receiptOf(leaves, pick % leaves.length);
        const published = { root: receipt.root, treeSize: receipt.treeSize };
        const parsed = browser.parseReceipt(JSON.stringify(receipt)).receipt;
        const outcome = await browser.checkReceipt(parsed, published);
        expect(outcome.valid).toBe(true);
        expect(outcome.leafData).toBe(hex(leafData(receipt.leaf)));
        expect(outcome.steps).toHaveLength(receipt.proof.length);
        expect(outcome.reached).toBe(receipt.root);
        for (const tamper of tamperings) {
          const changed = tamper(receipt);
          if (!changed) continue;
          const reparsed = browser.parseReceipt(JSON.stringify(changed));
          // A change can make it no receipt at all (an index past the size): refused before any hashing.
          if (!reparsed.receipt) continue;
          expect(
            (await browser.checkReceipt(reparsed.receipt, published)).valid,
            JSON.stringify(changed),
          ).toBe(false);
        }
        const hashes = leaves.map(leafHash);
        const m = 1 + (pick % leaves.length);
        const earlier = { treeSize: m, root: hex(treeRoot(hashes.slice(0, m))) };
        const proof = consistencyProof(hashes, m).map(hex);
        expect((await browser.checkConsistency(earlier, published, proof)).valid).toBe(true);
        expect((await browser.checkConsistency(earlier, published, [...proof, receipt.root])).valid).toBe(
          false,
        );
      }),
      { numRuns: 60 },
    );
  });

  it('reads a receipt from a #receipt= fragment, and refuses what is not one', async () => {
    const browser = await loadBrowserCheck();
    const receipt = receiptOf(
      [{ reference: 'r', name: '김민지', country: 'KR', confirmedAt: 'x', salt: 's' }],
      0,
    );
    const text = JSON.stringify(receipt);
    const fragment = `#receipt=${Buffer.from(text).toString('base64url')}`;
    expect(browser.receiptFromFragment(fragment)).toBe(text);
    expect(browser.receiptFromFragment('#receipt=%%%')).toBeUndefined();
    expect(browser.receiptFromFragment('#other=1')).toBeUndefined();
    expect(browser.parseReceipt('not json').problem).toBe('json');
    expect(browser.parseReceipt('[]').problem).toBe('json');
    expect(browser.parseReceipt(JSON.stringify({ ...receipt, version: 2 })).problem).toBe('version');
    expect(browser.parseReceipt(JSON.stringify({ ...receipt, root: receipt.root.toUpperCase() }))).toEqual({
      problem: 'field',
      field: 'root',
    });
    expect(browser.parseReceipt(JSON.stringify({ ...receipt, leafIndex: 1 }))).toEqual({
      problem: 'field',
      field: 'leafIndex',
    });
    expect(browser.parseReceipt(JSON.stringify({ ...receipt, leaf: { ...receipt.leaf, name: 7 } }))).toEqual({
      problem: 'field',
      field: 'leaf.name',
    });
    expect(browser.parseReceipt(JSON.stringify({ ...receipt, proof: Array(65).fill(receipt.root) }))).toEqual(
      { problem: 'field', field: 'proof' },
    );
    expect(browser.parseReceipt('x'.repeat(20_001)).problem).toBe('tooLarge');
  });
});

/** The platform's inclusion check from hex parts (merkle.ts takes bytes). */
function verifyReceiptParts(
  leaf: string,
  index: number,
  size: number,
  proof: string[],
  root: string,
): boolean {
  const bytes = (h: string) => Buffer.from(h, 'hex');
  return verifyInclusion(bytes(leaf), index, size, proof.map(bytes), bytes(root));
}
