import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { TreeBuilder, treeRoot } from '../../../server/commitments/merkle.js';

const leaf = (i: number) => createHash('sha256').update(`leaf ${i}`).digest();

describe('building a tree leaf by leaf', () => {
  it('gives the root treeRoot gives, for every size up to 70 and after every push', () => {
    const builder = new TreeBuilder();
    const leaves: Buffer[] = [];
    expect(builder.root().equals(treeRoot([]))).toBe(true);
    for (let n = 1; n <= 70; n++) {
      leaves.push(leaf(n));
      builder.push(leaf(n));
      expect(builder.size).toBe(n);
      expect(builder.root().toString('hex')).toBe(treeRoot(leaves).toString('hex'));
    }
  });

  it('gives the same root for 20,000 leaves', () => {
    const leaves = Array.from({ length: 20_000 }, (_, i) => leaf(i));
    const builder = new TreeBuilder();
    for (const l of leaves) builder.push(l);
    expect(builder.root().equals(treeRoot(leaves))).toBe(true);
  });
});
