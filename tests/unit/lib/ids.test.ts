import { describe, expect, it } from 'vitest';
import { randomRef } from '../../../server/lib/ids.js';

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
