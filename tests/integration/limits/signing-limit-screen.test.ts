import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { GROUP_COMMIT_MAX, GroupCommit } from '../../../server/db/group-commit.js';
import { LimitRepository } from '../../../server/limits/limit-repository.js';
import { SigningLimitScreen } from '../../../server/limits/signing-limit-screen.js';
import type { SigningLimits } from '../../../server/limits/signing-limits.js';
import type { SigningAttempt } from '../../../server/signatures/signing-screen.js';
import { createTestDatabase, type TestDatabase } from '../../support/test-database.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const NOW = new Date('2026-11-23T10:00:00.000Z');
/** Strict limits, so that a second attempt within a minute is already over one. */
const ONE_A_MINUTE: SigningLimits = {
  burst: { count: 1, seconds: 60 },
  sustained: { count: 5, seconds: 300 },
};

const attempt = (overrides: Partial<SigningAttempt> = {}): SigningAttempt => ({
  letterId: 1,
  email: 'someone@example.org',
  ip: '203.0.113.10',
  proof: undefined,
  now: NOW,
  ...overrides,
});

describe('SigningLimitScreen', () => {
  let temp: TestDatabase;
  let limits: LimitRepository;

  beforeEach(async () => {
    temp = await createTestDatabase();
    limits = new LimitRepository(temp.db);
  });
  afterEach(async () => {
    vi.restoreAllMocks();
    await temp.close();
  });

  const screen = (exempt?: (a: SigningAttempt) => Promise<boolean>) =>
    new SigningLimitScreen({
      limits,
      writes: new GroupCommit(temp.db),
      secret: SECRET,
      signingLimits: ONE_A_MINUTE,
      ...(exempt ? { exempt } : {}),
    });

  const storedKeys = async () =>
    (await temp.db.selectFrom('signing_hits').select('key_hash').execute()).map((r) => r.key_hash);

  it('counts an IPv6 client by its /56 block, so rotating addresses inside it does not escape the limit', async () => {
    expect((await screen().screen(attempt({ ip: '2001:db8:1:100::1' }))).suspect).toEqual([]);
    expect((await screen().screen(attempt({ ip: '2001:db8:1:1ff:abcd::2' }))).suspect).toEqual([
      'rate-burst',
    ]);
    // Positive control: another /56 is another client.
    expect((await screen().screen(attempt({ ip: '2001:db8:1:200::1' }))).suspect).toEqual([]);
  });

  it('stores neither the address nor the letter in clear', async () => {
    await screen().screen(attempt());
    const keys = await storedKeys();
    expect(keys).toHaveLength(1);
    expect(keys[0]).not.toContain('203.0.113');
  });

  it('skips and does not count an exempt (allow-listed) source', async () => {
    const allowAll = screen(async () => true);
    for (let n = 0; n < 3; n++) expect(await allowAll.screen(attempt())).toEqual({ suspect: [], review: [] });
    expect(await storedKeys()).toEqual([]);
    // Positive control: the same attempts without the exemption are limited.
    await screen().screen(attempt());
    expect((await screen().screen(attempt())).suspect).toEqual(['rate-burst']);
  });

  it('counts the burst and the sustained window each over its own span', async () => {
    const limited = new SigningLimitScreen({
      limits,
      writes: new GroupCommit(temp.db),
      secret: SECRET,
      signingLimits: { burst: { count: 2, seconds: 60 }, sustained: { count: 3, seconds: 300 } },
    });
    const at = (seconds: number) => attempt({ now: new Date(NOW.getTime() + seconds * 1000) });
    const found: string[][] = [];
    for (const seconds of [0, 100, 200, 250, 255]) found.push((await limited.screen(at(seconds))).suspect);

    // At 250 s: two in the last minute (within the burst), four in five minutes (over the sustained);
    // at 255 s: three in the last minute too.
    expect(found).toEqual([[], [], [], ['rate-sustained'], ['rate-burst', 'rate-sustained']]);
  });

  it('marks the later of two attempts from one address that share a group commit: each sees the earlier', async () => {
    // No time budget: on a busy machine the first unit can outlast GROUP_COMMIT_MAX_MS and push the
    // second into a group of its own, which is not what this test is about.
    const shared = new SigningLimitScreen({
      limits,
      writes: new GroupCommit(temp.db, GROUP_COMMIT_MAX, Infinity),
      secret: SECRET,
      signingLimits: ONE_A_MINUTE,
    });
    const transactions = vi.spyOn(temp.db, 'transaction');

    const verdicts = await Promise.all([shared.screen(attempt()), shared.screen(attempt())]);

    // One transaction held both: the later attempt counted the earlier's uncommitted record.
    expect(transactions).toHaveBeenCalledTimes(1);
    expect(verdicts.map((v) => v.suspect)).toEqual([[], ['rate-burst']]);
  });

  it('finds nothing without a client address to key on', async () => {
    expect(await screen().screen(attempt({ ip: undefined }))).toEqual({ suspect: [], review: [] });
    expect(await screen().screen(attempt({ ip: undefined }))).toEqual({ suspect: [], review: [] });
  });

  it('sees attempts made through another connection to the same database (another process)', async () => {
    const otherDb = temp.connect().db;
    const other = new LimitRepository(otherDb);
    await new SigningLimitScreen({
      limits: other,
      writes: new GroupCommit(otherDb),
      secret: SECRET,
      signingLimits: ONE_A_MINUTE,
    }).screen(attempt());
    expect((await screen().screen(attempt({ now: new Date(NOW.getTime() + 30_000) }))).suspect).toEqual([
      'rate-burst',
    ]);
  });
});
