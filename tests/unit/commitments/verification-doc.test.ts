import { readFileSync } from 'node:fs';
import path from 'node:path';
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
import { checkConsistency, checkReceipt, encodeLeaf } from '../../support/independent-verifier.js';
import { loadBrowserCheck } from '../../support/verify-check.js';

// docs/verification.md's worked example, read from the document itself: every value it prints is
// recomputed here with the platform's code, so the text cannot drift from what the platform does, and
// the two other implementations (the page's and the independent one) are held to the same values.
const doc = readFileSync(path.join(projectRoot, 'docs', 'verification.md'), 'utf8');
const example = doc.slice(doc.indexOf('## 7. Worked example'));

/** The fenced block that follows `marker` in the worked example. */
function blockAfter(marker: string): string {
  const at = example.indexOf(marker);
  expect(at, marker).toBeGreaterThan(-1);
  const match = /```[a-z]*\n([\s\S]*?)```/.exec(example.slice(at));
  return match![1]!;
}

const hexes = (text: string) => [...text.matchAll(/\b[0-9a-f]{64}\b/g)].map((m) => m[0]);

/** The table of the five leaves: each row's backquoted cells (an empty country is written "(empty)"). */
function exampleLeaves(): LeafFields[] {
  const table = example.slice(example.indexOf('The five leaves'), example.indexOf('Their leaf hashes'));
  return table
    .split('\n')
    .filter((line) => /^\| \d \|/.test(line))
    .map((line) => {
      const cells = line
        .split('|')
        .slice(2, -1)
        .map((cell) => cell.trim());
      const value = (cell: string) => (cell === '(empty)' ? '' : /^`(.*)`$/.exec(cell)![1]!);
      const [reference, name, country, confirmedAt, salt] = cells.map(value);
      return {
        reference: reference!,
        name: name!,
        country: country!,
        confirmedAt: confirmedAt!,
        salt: salt!,
      };
    });
}

describe('the worked example of docs/verification.md', () => {
  const leaves = exampleLeaves();
  const hashes = leaves.map(leafHash);
  const receipt = JSON.parse(blockAfter('The receipt of the supporter at index 2')) as Receipt;
  const published = { root: hexes(blockAfter('The published root of the five'))[0]!, treeSize: 5 };

  it('lists five leaves whose hashes and root the platform computes', () => {
    expect(leaves).toHaveLength(5);
    expect(leaves[2]!.name).toBe('김민지');
    expect(leaves[4]!.country).toBe('');
    expect(hexes(blockAfter('Their leaf hashes'))).toEqual(hashes.map((h) => h.toString('hex')));
    expect(blockAfter('The published root of the five')).toContain('size: 5');
    expect(published.root).toBe(treeRoot(hashes).toString('hex'));
  });

  it("prints leaf 2's receipt as the platform makes it: its leaf, proof, root and size", () => {
    const expected: Receipt = {
      version: 1,
      letter: 'example-letter',
      round: 2,
      treeSize: 5,
      root: treeRoot(hashes).toString('hex'),
      leafIndex: 2,
      leaf: leaves[2]!,
      proof: inclusionProof(hashes, 2).map((h) => h.toString('hex')),
    };
    expect(receipt).toEqual(expected);
    expect(verifyReceipt(receipt, published)).toBe(true);
  });

  it("prints leaf 2's data, field by field, and its leaf hash", () => {
    const printed = blockAfter('Its leaf data').replace(/\s+/g, '');
    expect(printed).toBe(leafData(receipt.leaf).toString('hex'));
    // The Korean name is 3 characters and 9 bytes: the length is of the bytes.
    expect(blockAfter('Its leaf data')).toContain('00000009 eab980ebafbceca780');
    expect(hexes(blockAfter('Its leaf hash'))).toEqual([leafHash(receipt.leaf).toString('hex')]);
  });

  it("gives each step's hash of the inclusion check, and index 4's one-hash proof", () => {
    const steps = example.slice(example.indexOf('The inclusion check (section 4)'));
    const table = steps.slice(0, steps.indexOf('At the end'));
    const node = (l: Buffer, r: Buffer) => {
      // The same node hash, through a one-leaf proof: verifyInclusion of leaf 1 of 2 is nodeHash(p, leaf).
      const root = treeRoot([l, r]);
      expect(verifyInclusion(r, 1, 2, [l], root)).toBe(true);
      return root;
    };
    const p = receipt.proof.map((h) => Buffer.from(h, 'hex'));
    const s1 = node(hashes[2]!, p[0]!);
    const s2 = node(p[1]!, s1);
    const s3 = node(s2, p[2]!);
    expect(hexes(table)).toEqual([s1, s2, s3].map((h) => h.toString('hex')));
    expect(s3.toString('hex')).toBe(published.root);
    expect(example).toContain(`one-hash proof, \`${inclusionProof(hashes, 4)[0]!.toString('hex')}\``);
  });

  it('says rightly that size 6 passes the walk but not the size comparison, and a changed name fails', () => {
    const proof = receipt.proof.map((h) => Buffer.from(h, 'hex'));
    const root = Buffer.from(published.root, 'hex');
    expect(verifyInclusion(leafHash(receipt.leaf), 2, 6, proof, root)).toBe(true);
    expect(verifyReceipt(receipt, { ...published, treeSize: 6 })).toBe(false);
    expect(example).toContain('`김민지` to `김민자`');
    const renamed = { ...receipt, leaf: { ...receipt.leaf, name: '김민자' } };
    expect(verifyReceipt(renamed, published)).toBe(false);
  });

  it('proves round 1 (three leaves) consistent with round 2', () => {
    const round1 = hexes(blockAfter('Round 1 of the same letter'))[0]!;
    expect(round1).toBe(treeRoot(hashes.slice(0, 3)).toString('hex'));
    expect(blockAfter('Round 1 of the same letter')).toContain('round 1 size: 3');
    const proof = hexes(blockAfter('The consistency proof from round 1'));
    expect(proof).toEqual(consistencyProof(hashes, 3).map((h) => h.toString('hex')));
    expect(
      verifyConsistency(
        3,
        5,
        Buffer.from(round1, 'hex'),
        Buffer.from(published.root, 'hex'),
        proof.map((h) => Buffer.from(h, 'hex')),
      ),
    ).toBe(true);
  });

  it('shortens only hashes the example computes (each "abcd1234…ef01" is one of them)', () => {
    const p = receipt.proof.map((h) => Buffer.from(h, 'hex'));
    const known = [
      ...hashes,
      ...p,
      treeRoot([hashes[2]!, p[0]!]),
      treeRoot(hashes.slice(0, 4)),
      treeRoot(hashes),
      treeRoot(hashes.slice(0, 3)),
    ].map((h) => h.toString('hex'));
    const shortened = [...example.matchAll(/([0-9a-f]{4,})…([0-9a-f]{4})/g)];
    expect(shortened.length).toBeGreaterThan(10);
    for (const [whole, start, end] of shortened)
      expect(
        known.some((h) => h.startsWith(start!) && h.endsWith(end!)),
        whole,
      ).toBe(true);
  });

  it('is checked the same by the independent verifier and by the page’s script', async () => {
    expect(encodeLeaf(receipt.leaf).equals(leafData(receipt.leaf))).toBe(true);
    expect(checkReceipt(receipt, published)).toBe(true);
    expect(checkReceipt(receipt, { ...published, treeSize: 6 })).toBe(false);
    const browser = await loadBrowserCheck();
    const outcome = await browser.checkReceipt(
      browser.parseReceipt(JSON.stringify(receipt)).receipt,
      published,
    );
    expect(outcome.valid).toBe(true);
    expect(outcome.leafData).toBe(leafData(receipt.leaf).toString('hex'));
    expect(outcome.steps.map((s) => s.side)).toEqual(['right', 'left', 'right']);
    const round1 = { treeSize: 3, root: hexes(blockAfter('Round 1 of the same letter'))[0]! };
    const proof = hexes(blockAfter('The consistency proof from round 1'));
    expect(checkConsistency(round1, published, proof)).toBe(true);
    expect((await browser.checkConsistency(round1, published, proof)).valid).toBe(true);
  });
});
