import { describe, expect, it } from 'vitest';
import { treeRoot } from '../../../server/commitments/merkle.js';
import {
  changeOfLeaves,
  correctedLeaves,
  erratumLanguage,
  erratumRefusal,
  listChangeOf,
  removalOf,
  type ListedLeaf,
} from '../../../server/deliveries/erratum.js';

const hash = (n: number) => n.toString(16).padStart(64, '0');
const leaf = (position: number, state: Partial<ListedLeaf> = {}): ListedLeaf => ({
  position,
  leafHash: hash(position + 1),
  signatureId: position + 100,
  status: 'confirmed',
  erased: false,
  ...state,
});

describe('what became of a delivered list', () => {
  it('tells why a listed signature no longer counts, or that it still does', () => {
    expect(removalOf({ status: 'confirmed', erased: false })).toBeNull();
    expect(removalOf({ status: 'withdrawn', erased: false })).toBe('withdrawn');
    // Pending again after a withdrawal, and not confirmed since: still out of the list.
    expect(removalOf({ status: 'pending', erased: false })).toBe('withdrawn');
    expect(removalOf({ status: 'invalidated', erased: false })).toBe('invalidated');
    expect(removalOf({ status: null, erased: true })).toBe('erased');
    // Unlinked without an erasure (the retention job, or anonymised before the list was made): still counts.
    expect(removalOf({ status: null, erased: false })).toBeNull();
  });

  it('counts the change from the states of its leaves', () => {
    expect(
      listChangeOf(10, [
        { status: 'confirmed', erased: false, count: 5 },
        { status: 'withdrawn', erased: false, count: 2 },
        { status: null, erased: true, count: 1 },
        { status: 'invalidated', erased: false, count: 1 },
        { status: null, erased: false, count: 1 },
      ]),
    ).toEqual({ delivered: 10, withdrawn: 2, erased: 1, invalidated: 1, now: 6 });
  });

  it('keeps the remaining leaves in their order, so their tree is the delivered tree less the removed ones', () => {
    const leaves = [
      leaf(3),
      leaf(0),
      leaf(1, { status: 'withdrawn' }),
      leaf(2, { signatureId: null, status: null, erased: true }),
      leaf(4, { status: 'invalidated' }),
    ];
    const remaining = correctedLeaves(leaves);
    expect(remaining.map((l) => l.position)).toEqual([0, 3]);
    expect(changeOfLeaves(leaves)).toEqual({ delivered: 5, withdrawn: 1, erased: 1, invalidated: 1, now: 2 });
    expect(treeRoot(remaining.map((l) => Buffer.from(l.leafHash, 'hex')))).toEqual(
      treeRoot([Buffer.from(hash(1), 'hex'), Buffer.from(hash(4), 'hex')]),
    );
  });

  it('refuses a correction when nothing changed, when the latest correction published the same list, or with no recipient', () => {
    const gate = { newRoot: 'n', deliveredRoot: 'd', latestCorrectionRoot: null, recipients: 2 };
    expect(erratumRefusal(gate)).toBeNull();
    expect(erratumRefusal({ ...gate, newRoot: 'd' })).toBe('unchanged');
    expect(erratumRefusal({ ...gate, latestCorrectionRoot: 'n' })).toBe('alreadySent');
    // A list that changed again since the last correction may be corrected again.
    expect(erratumRefusal({ ...gate, latestCorrectionRoot: 'earlier' })).toBeNull();
    expect(erratumRefusal({ ...gate, recipients: 0 })).toBe('noRecipients');
  });

  it('writes the correction in the language of the letter the recipient got when the platform speaks it, else English', () => {
    expect(erratumLanguage('ko')).toBe('ko');
    expect(erratumLanguage('uk')).toBe('uk');
    expect(erratumLanguage('ja')).toBe('en');
  });
});
