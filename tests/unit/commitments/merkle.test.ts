import { createHash } from 'node:crypto';
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

const sha = (...parts: Buffer[]) => createHash('sha256').update(Buffer.concat(parts)).digest();
const rawLeaf = (data: Buffer) => sha(Buffer.from([0]), data);

// The leaves of Certificate Transparency's reference tests (merkle_tree_test), with the roots of each prefix.
const CT_LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
].map((hex) => rawLeaf(Buffer.from(hex, 'hex')));
const CT_ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

const leaves = (n: number) => Array.from({ length: n }, (_, i) => rawLeaf(Buffer.from(`leaf ${i}`)));

describe('RFC 6962 Merkle trees', () => {
  it('gives the roots of Certificate Transparency reference vectors', () => {
    for (let n = 1; n <= CT_LEAVES.length; n++)
      expect(treeRoot(CT_LEAVES.slice(0, n)).toString('hex'), `size ${n}`).toBe(CT_ROOTS[n - 1]);
    expect(treeRoot([]).toString('hex')).toBe(sha().toString('hex'));
  });

  it('proves and checks every leaf of trees up to 33 leaves, and refuses a wrong one', () => {
    for (let n = 1; n <= 33; n++) {
      const all = leaves(n);
      const root = treeRoot(all);
      for (let i = 0; i < n; i++) {
        const proof = inclusionProof(all, i);
        expect(verifyInclusion(all[i]!, i, n, proof, root), `leaf ${i} of ${n}`).toBe(true);
        // Another leaf, another position, a larger tree or a changed proof hash all fail.
        expect(verifyInclusion(rawLeaf(Buffer.from('other')), i, n, proof, root)).toBe(false);
        if (n > 1) expect(verifyInclusion(all[i]!, (i + 1) % n, n, proof, root)).toBe(false);
        // (A size that gives the path the same shape passes, as in RFC 9162: the size is published
        // beside the root and a receipt is checked against both.)
        expect(verifyInclusion(all[i]!, i, 2 * n + 1, proof, root)).toBe(false);
        if (proof.length > 0) {
          const bent = proof.map((p) => Buffer.from(p));
          bent[0]![0]! ^= 1;
          expect(verifyInclusion(all[i]!, i, n, bent, root)).toBe(false);
        }
      }
      expect(() => inclusionProof(all, n)).toThrow(RangeError);
    }
  });

  it('proves every prefix consistent with trees up to 33 leaves, and refuses a changed history', () => {
    for (let n = 1; n <= 33; n++) {
      const all = leaves(n);
      const root = treeRoot(all);
      for (let m = 1; m <= n; m++) {
        const oldRoot = treeRoot(all.slice(0, m));
        const proof = consistencyProof(all, m);
        expect(verifyConsistency(m, n, oldRoot, root, proof), `${m} → ${n}`).toBe(true);
        if (m < n) {
          // A first list with one leaf replaced is not a prefix of the second.
          const changed = [...all.slice(0, m - 1), rawLeaf(Buffer.from('replaced'))];
          expect(verifyConsistency(m, n, treeRoot(changed), root, proof)).toBe(false);
          expect(verifyConsistency(m, n, oldRoot, treeRoot(leaves(n + 1)), proof)).toBe(false);
        }
      }
    }
  });

  it('encodes a leaf unambiguously, with the lengths of its fields', () => {
    const fields: LeafFields = {
      reference: 'R1',
      name: '김 민지',
      country: 'KR',
      confirmedAt: '2026-12-06T01:00:00.000Z',
      salt: 'ab'.repeat(32),
    };
    const data = leafData(fields);
    expect(data.readUInt32BE(0)).toBe('undersigned-leaf/1'.length);
    // Moving a character from one field to the next changes the leaf.
    expect(leafHash({ ...fields, reference: 'R', name: '1김 민지' })).not.toEqual(leafHash(fields));
    expect(leafHash({ ...fields, salt: 'cd'.repeat(32) })).not.toEqual(leafHash(fields));
  });

  it('checks a receipt against the published root only', () => {
    const fields = (i: number): LeafFields => ({
      reference: `R${i}`,
      name: `Name ${i}`,
      country: 'UA',
      confirmedAt: `2026-12-06T01:00:0${i}.000Z`,
      salt: String(i).repeat(64).slice(0, 64),
    });
    const hashes = [0, 1, 2, 3, 4].map((i) => leafHash(fields(i)));
    const root = treeRoot(hashes).toString('hex');
    const receipt: Receipt = {
      version: 1,
      letter: 'a-letter',
      round: 1,
      treeSize: 5,
      root,
      leafIndex: 3,
      leaf: fields(3),
      proof: inclusionProof(hashes, 3).map((p) => p.toString('hex')),
    };
    const published = { root, treeSize: 5 };
    expect(verifyReceipt(receipt, published)).toBe(true);
    expect(verifyReceipt({ ...receipt, leaf: { ...fields(3), name: 'Someone else' } }, published)).toBe(
      false,
    );
    expect(verifyReceipt(receipt, { root: 'f'.repeat(64), treeSize: 5 })).toBe(false);
    expect(verifyReceipt(receipt, { root: 'not hex', treeSize: 5 })).toBe(false);
    expect(verifyReceipt(receipt, { root, treeSize: 6 })).toBe(false);
  });
});
