import { solveChallenge } from 'altcha-lib';
import { deriveKey } from 'altcha-lib/algorithms/pbkdf2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AbuseListRepository } from '../../../server/abuse/abuse-list-repository.js';
import { DisposableDomains } from '../../../server/abuse/disposable-domains.js';
import { CHALLENGE_TTL_MS, ProofOfWork } from '../../../server/abuse/proof-of-work.js';
import { ProofOfWorkRepository } from '../../../server/abuse/proof-of-work-repository.js';
import { databaseWriteMark } from '../../../server/db/database.js';
import { keyedHash } from '../../../server/lib/keyed-hash.js';
import { ProofOfWorkScreen } from '../../../server/abuse/proof-of-work-screen.js';
import type { SigningAttempt } from '../../../server/signatures/signing-screen.js';
import { SourceListsScreen } from '../../../server/abuse/source-lists-screen.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';

const SECRET = 'screen-test-secret-screen-test-secret-01';
const NOW = new Date('2026-11-23T10:00:00Z');

function attempt(overrides: Partial<SigningAttempt> = {}): SigningAttempt {
  return {
    letterId: 1,
    email: 'ana@example.org',
    ip: '198.51.100.20',
    proof: undefined,
    now: NOW,
    ...overrides,
  };
}

/** Solves a challenge as the widget does, and returns the payload the form would send. */
async function solvedPayload(proofOfWork: ProofOfWork): Promise<string> {
  const challenge = await proofOfWork.challenge();
  const solution = await solveChallenge({ challenge, deriveKey });
  if (!solution) throw new Error('the challenge was not solved');
  return Buffer.from(JSON.stringify({ challenge, solution })).toString('base64');
}

let database: TempDatabase;
beforeAll(async () => {
  database = await createTempDatabase();
});
afterAll(async () => {
  await database.close();
});

describe('block and allow lists, and disposable domains', () => {
  let lists: AbuseListRepository;
  let screen: SourceListsScreen;

  beforeAll(() => {
    lists = new AbuseListRepository(database.db);
    // As wired: the lists are read again only after a write, so every test below also shows that an
    // entry added or removed takes effect at the next attempt.
    screen = new SourceListsScreen({
      lists,
      disposable: new DisposableDomains(),
      secret: SECRET,
      writeMark: databaseWriteMark(database.sqlite),
    });
  });

  async function listed<T>(
    entries: { list: 'block' | 'allow'; kind: 'ip' | 'ip-hash' | 'domain' | 'address'; value: string }[],
    run: () => Promise<T>,
  ): Promise<T> {
    const added = [];
    for (const entry of entries) added.push((await lists.add({ ...entry, note: '', createdBy: null }, NOW))!);
    try {
      return await run();
    } finally {
      for (const entry of added) await lists.remove(entry.id);
    }
  }

  it('finds nothing in an ordinary attempt', async () => {
    expect(await screen.screen(attempt())).toEqual({ suspect: [], review: [] });
  });

  it('silences a signature from a blocked address range', async () => {
    const verdict = await listed([{ list: 'block', kind: 'ip', value: '198.51.100.0/24' }], () =>
      screen.screen(attempt()),
    );
    expect(verdict).toEqual({ suspect: ['blocked-ip'], review: [] });
  });

  it('silences a signature from a client blocked by its hash (from trending sources)', async () => {
    const hash = keyedHash(SECRET, 'ip', '198.51.100.20');
    const verdict = await listed([{ list: 'block', kind: 'ip-hash', value: hash }], () =>
      screen.screen(attempt()),
    );
    expect(verdict.suspect).toEqual(['blocked-ip']);
  });

  it('silences a signature from a blocked domain, subdomains included', async () => {
    const verdict = await listed([{ list: 'block', kind: 'domain', value: 'example.org' }], () =>
      screen.screen(attempt({ email: 'ana@lists.example.org' })),
    );
    expect(verdict.suspect).toEqual(['blocked-domain']);
  });

  it('silences a blocked address however it is spelled (the same address key as signatures)', async () => {
    const hash = keyedHash(SECRET, 'email', 'anakim@gmail.com');
    const verdict = await listed([{ list: 'block', kind: 'address', value: hash }], () =>
      screen.screen(attempt({ email: 'Ana.Kim+letters@googlemail.com' })),
    );
    expect(verdict.suspect).toEqual(['blocked-address']);
  });

  it('flags a disposable domain for review without silencing it', async () => {
    expect(await screen.screen(attempt({ email: 'x@mailinator.com' }))).toEqual({
      suspect: [],
      review: ['disposable-domain'],
    });
  });

  it('skips the disposable check for an allow-listed domain and tells the signing service it is allowed', async () => {
    await listed([{ list: 'allow', kind: 'domain', value: 'mailinator.com' }], async () => {
      expect(await screen.screen(attempt({ email: 'x@mailinator.com' }))).toEqual({
        suspect: [],
        review: [],
      });
      expect(await screen.allows(attempt({ email: 'x@mailinator.com' }))).toBe(true);
    });
    expect(await screen.allows(attempt({ email: 'x@mailinator.com' }))).toBe(false);
  });

  it('reads the lists once for an attempt that is both screened and asked about for the rate limits', async () => {
    let reads = 0;
    const counting = Object.assign(Object.create(lists) as AbuseListRepository, {
      all: () => {
        reads += 1;
        return lists.all();
      },
    });
    const once = new SourceListsScreen({
      lists: counting,
      disposable: new DisposableDomains(),
      secret: SECRET,
    });
    const same = attempt({ email: 'x@mailinator.com' });
    await Promise.all([once.screen(same), once.allows(same)]);
    expect(reads).toBe(1);
    // A new attempt (another signing) reads them again: a change to the lists takes effect at once.
    await once.screen(attempt());
    expect(reads).toBe(2);
  });

  it('reads the lists again only after the database changed, in this process or another', async () => {
    let reads = 0;
    const counting = Object.assign(Object.create(lists) as AbuseListRepository, {
      all: () => {
        reads += 1;
        return lists.all();
      },
    });
    const remembering = new SourceListsScreen({
      lists: counting,
      disposable: new DisposableDomains(),
      secret: SECRET,
      writeMark: databaseWriteMark(database.sqlite),
    });
    // A new attempt object each time: the screen remembers its finding per attempt.
    const blockedIp = () => attempt({ ip: '192.0.2.77' });
    expect((await remembering.screen(blockedIp())).suspect).toEqual([]);
    expect((await remembering.screen(attempt())).suspect).toEqual([]);
    expect(reads).toBe(1);

    // An admin working in another process blocks the address: seen at the next attempt.
    const other = database.connect();
    const added = (await new AbuseListRepository(other.db).add(
      { list: 'block', kind: 'ip', value: '192.0.2.0/24', note: '', createdBy: null },
      NOW,
    ))!;
    try {
      expect((await remembering.screen(blockedIp())).suspect).toEqual(['blocked-ip']);
      expect(reads).toBe(2);
    } finally {
      await lists.remove(added.id);
    }
    // Removed in this process: seen at once too.
    expect((await remembering.screen(blockedIp())).suspect).toEqual([]);
  });

  it('lets a block win over an allow', async () => {
    await listed(
      [
        { list: 'allow', kind: 'ip', value: '198.51.100.0/24' },
        { list: 'block', kind: 'domain', value: 'example.org' },
      ],
      async () => {
        expect((await screen.screen(attempt())).suspect).toEqual(['blocked-domain']);
        expect(await screen.allows(attempt())).toBe(false);
      },
    );
  });
});

describe('proof of work', () => {
  let proofOfWork: ProofOfWork;
  let screen: ProofOfWorkScreen;

  beforeAll(() => {
    proofOfWork = new ProofOfWork(SECRET, new ProofOfWorkRepository(database.db));
    screen = new ProofOfWorkScreen(proofOfWork);
  });

  it('accepts a solved challenge once, and silences the same solution sent again', async () => {
    const proof = await solvedPayload(proofOfWork);
    expect(await screen.screen(attempt({ proof }))).toEqual({ suspect: [], review: [] });
    expect(await screen.screen(attempt({ proof }))).toEqual({ suspect: ['proof-replayed'], review: [] });
  });

  it('silences a solution to a challenge signed with another key', async () => {
    const other = new ProofOfWork(
      'another-secret-another-secret-another-1',
      new ProofOfWorkRepository(database.db),
    );
    const proof = await solvedPayload(other);
    expect(await screen.screen(attempt({ proof }))).toEqual({ suspect: ['proof-invalid'], review: [] });
  });

  it('silences a solution whose challenge has expired', async () => {
    const proof = await solvedPayload(proofOfWork);
    const later = new ProofOfWork(
      SECRET,
      new ProofOfWorkRepository(database.db),
      () => Date.now() + CHALLENGE_TTL_MS + 60_000,
    );
    expect(await new ProofOfWorkScreen(later).screen(attempt({ proof }))).toEqual({
      suspect: ['proof-invalid'],
      review: [],
    });
  });

  it.each(['not base64 at all', Buffer.from('{"challenge":1}').toString('base64'), 'x'.repeat(5_000)])(
    'silences a payload that is not a solution: %#',
    async (proof) => {
      expect(await screen.screen(attempt({ proof }))).toEqual({ suspect: ['proof-invalid'], review: [] });
    },
  );

  it('flags a signature sent without JavaScript (no proof) for review, and does not silence it', async () => {
    expect(await screen.screen(attempt({ proof: undefined }))).toEqual({
      suspect: [],
      review: ['no-proof-of-work'],
    });
    expect(await screen.screen(attempt({ proof: '' }))).toEqual({
      suspect: [],
      review: ['no-proof-of-work'],
    });
  });

  it('checks nothing when switched off (PROOF_OF_WORK=0)', async () => {
    expect(await new ProofOfWorkScreen(undefined).screen(attempt({ proof: 'forged' }))).toEqual({
      suspect: [],
      review: [],
    });
  });

  it('forgets used solutions once their challenge has expired', async () => {
    const repository = new ProofOfWorkRepository(database.db);
    expect(await repository.markUsed('nonce-old', Date.now() - 1)).toBe(true);
    expect(await repository.markUsed('nonce-fresh', Date.now() + 60_000)).toBe(true);
    expect(await proofOfWork.pruneUsed()).toBeGreaterThanOrEqual(1);
    expect(await repository.markUsed('nonce-old', Date.now() + 60_000)).toBe(true);
    expect(await repository.markUsed('nonce-fresh', Date.now() + 60_000)).toBe(false);
  });
});
