import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LimitRepository } from '../../../server/limits/limit-repository.js';
import { captureStatements } from '../../support/statement-capture.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const KEY = 'a'.repeat(64);
const WINDOW_MS = 60_000;

describe('LimitRepository request counters', () => {
  let temp: TestDatabase;
  let limits: LimitRepository;

  beforeEach(async () => {
    temp = await createTestDatabase();
    limits = new LimitRepository(temp.db);
  });
  afterEach(async () => {
    await temp.close();
  });

  it('counts at any moment with one SQL text, so the statement cache keeps one statement, not one per call', async () => {
    const capture = captureStatements();
    try {
      const start = Date.parse('2026-12-05T12:00:00.000Z');
      // Several moments inside one window and one after it: the counter grows, then starts again.
      const counts: number[] = [];
      for (const offset of [0, 1, 2, 3, WINDOW_MS + 5])
        counts.push((await limits.incrementCounter(KEY, WINDOW_MS, new Date(start + offset))).hits);
      const texts = capture.statements().filter((s) => s.sql.includes('limit_counters'));

      expect(counts).toEqual([1, 2, 3, 4, 1]);
      expect(texts).toHaveLength(1);
      // Neither the moment nor the window's end is written into the text.
      expect(texts[0]!.sql).not.toMatch(/\d{10,}/);
    } finally {
      capture.stop();
    }
  });

  it('keeps the reset time of a running window and moves it once the window is over', async () => {
    const start = Date.parse('2026-12-05T12:00:00.000Z');
    const first = await limits.incrementCounter(KEY, WINDOW_MS, new Date(start));
    const second = await limits.incrementCounter(KEY, WINDOW_MS, new Date(start + 10));
    const after = await limits.incrementCounter(KEY, WINDOW_MS, new Date(start + WINDOW_MS));

    expect(first.resetAt.getTime()).toBe(start + WINDOW_MS);
    expect(second.resetAt.getTime()).toBe(start + WINDOW_MS);
    expect(after).toEqual({ hits: 1, resetAt: new Date(start + 2 * WINDOW_MS) });
  });

  it('makes two signing attempts under one key at once take turns: the later one counts the earlier', async () => {
    const at = new Date('2026-12-05T12:00:00.000Z');
    const since = { burst: new Date(at.getTime() - 1000), sustained: new Date(at.getTime() - 60_000) };
    let firstCounted!: () => void;
    const counted = new Promise<void>((resolve) => (firstCounted = resolve));
    let commitFirst!: () => void;
    const held = new Promise<void>((resolve) => (commitFirst = resolve));
    // The first attempt records and counts, then stays open while the second records and counts.
    const first = temp.db.transaction().execute(async (tx) => {
      await limits.with(tx).recordSigningHit(KEY, at);
      const seen = await limits.with(tx).countSigningHitsSince(KEY, since);
      firstCounted();
      await held;
      return seen;
    });
    await counted;
    const second = temp.db.transaction().execute(async (tx) => {
      await limits.with(tx).recordSigningHit(KEY, at);
      return limits.with(tx).countSigningHitsSince(KEY, since);
    });
    setTimeout(commitFirst, 100);

    expect(await first).toEqual({ burst: 1, sustained: 1 });
    expect(await second).toEqual({ burst: 2, sustained: 2 });
  });
});
