import { describe, expect, it } from 'vitest';
import { newMessageId, randomRef } from '../../../server/lib/ids.js';

describe('randomRef', () => {
  it('gives 128-bit URL-safe references, never the same one twice across many blocks of random bytes', () => {
    const refs = Array.from({ length: 2_000 }, () => randomRef());
    for (const ref of refs) {
      expect(ref).toMatch(/^[A-Za-z0-9_-]{22}$/);
      expect(Buffer.from(ref, 'base64url')).toHaveLength(16);
    }
    expect(new Set(refs).size).toBe(refs.length);
    // A zeroed (already handed out) slice of the block would read as this.
    expect(refs).not.toContain(Buffer.alloc(16).toString('base64url'));
  });
});

describe('newMessageId', () => {
  it('makes RFC 5322 ids in the domain that sort in the order they were made, never the same twice', () => {
    const start = Date.UTC(2026, 11, 6, 12);
    const ids = Array.from({ length: 1_000 }, (_, i) => newMessageId('letters.example.org', start + i));
    for (const id of ids) expect(id).toMatch(/^<[0-9a-f]{12}\.[A-Za-z0-9_-]{22}@letters\.example\.org>$/);
    // In time order, so the queue's unique index on them grows at its end (issue 12).
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    // Made within the same millisecond, they still differ.
    expect(newMessageId('a.example', start)).not.toBe(newMessageId('a.example', start));
  });
});
