/**
 * Whether an address has signed must not show in how long signing takes (issue 9, item 9). Timing
 * itself is measured in bench/signing-timing.bench.ts; these tests check the structure that makes it
 * constant: every attempt runs the same SQL statements, and those an outcome does not want are rolled
 * back to a savepoint, leaving no row and queueing no mail.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Letter } from '../../../server/letters/letter.js';
import { MAX_CONFIRMATION_SENDS } from '../../../server/signatures/signature.js';
import type { SigningInput } from '../../../server/signatures/signature-input.js';
import { signatureToken } from '../../../server/mail/signature-tokens.js';
import { createLetter } from '../../support/factories.js';
import { onEveryStatement } from '../../support/statement-capture.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const CONTEXT = { language: 'en', interfaceLanguage: 'en', ip: '203.0.113.7' } as const;
const ROLLBACK = 'rollback to savepoint signing_writes';
/** The -pg test projects (vitest.config.ts). */
const ON_POSTGRES = process.env.TEST_DATABASE === 'postgres';

function input(email: string): SigningInput {
  return {
    fullName: 'Kim Ji-hoon',
    email,
    country: 'KR',
    city: 'Seoul',
    organisation: '',
    jobTitle: '',
    display: 'full',
    consentUpdates: false,
  };
}

describe('signing does the same work whether or not the address has signed', () => {
  let t: TestPlatform;
  let letter: Letter;
  /** The SQL of every statement the process runs while set. */
  let traced: string[] | undefined;
  let stopTracing: (() => void) | undefined;

  const service = () => t.platform.appDeps.signatures;
  const signatureOf = (email: string) =>
    t.platform.db.selectFrom('signatures').selectAll().where('email', '=', email).executeTakeFirstOrThrow();

  /** Signs with the address and returns the statements the attempt ran, in order. */
  async function statementsOfSigning(email: string): Promise<string[]> {
    traced = [];
    try {
      await service().sign(letter, input(email), CONTEXT);
      return traced;
    } finally {
      traced = undefined;
    }
  }

  /** Everything signing could change, apart from the signing limits' record of attempts (kept for every attempt). */
  async function everythingSigningTouches() {
    const db = t.platform.db;
    return {
      signatures: await db.selectFrom('signatures').selectAll().orderBy('id').execute(),
      outbox: await db.selectFrom('outbox_messages').selectAll().orderBy('id').execute(),
      contents: await db.selectFrom('outbox_contents').selectAll().execute(),
      letters: await db.selectFrom('letters').selectAll().orderBy('id').execute(),
      countries: await db.selectFrom('letter_country_counts').selectAll().execute(),
    };
  }

  /**
   * The next ids SQLite hands out (sqlite_sequence), but the signing hits'. PostgreSQL's sequences are
   * never rolled back, by design: there a rolled-back stand-in leaves a gap in the ids, seen by no one
   * but admins (ids are never public).
   */
  const nextIds = () =>
    t.platform.db
      .selectFrom('sqlite_sequence' as never)
      .selectAll()
      .where('name' as never, '!=', 'signing_hits' as never)
      .execute();

  async function signedAndConfirmed(email: string): Promise<void> {
    await service().sign(letter, input(email), CONTEXT);
    const { ref } = await signatureOf(email);
    await service().confirm(signatureToken(t.platform.appDeps.secret, ref, 'confirm'));
    expect((await signatureOf(email)).status).toBe('confirmed');
  }

  beforeEach(async () => {
    t = await createTestPlatform();
    const { slug } = await createLetter(t.platform.db, t.clock.now());
    letter = (await t.platform.repositories.letters.findBySlug(slug))!;
    // Every run of a statement is traced, on either database (a statement SQLite keeps prepared too).
    stopTracing = onEveryStatement((sql) => traced?.push(sql));
    // Warms every statement up once, so the traces below compare like with like.
    await service().sign(letter, input('first@example.org'), CONTEXT);
    // And lets it wake the mail worker (see the test on waking).
    await new Promise((resolve) => setImmediate(resolve));
  });
  afterEach(async () => {
    stopTracing?.();
    vi.restoreAllMocks();
    await t.close();
  });

  /** Signs, confirms, then has a moderator remove the signature (invalidated). */
  async function signedAndRemoved(email: string): Promise<void> {
    await signedAndConfirmed(email);
    await t.platform.db
      .updateTable('signatures')
      .set({ status: 'invalidated' })
      .where('email', '=', email)
      .execute();
  }

  it('runs the same statements for a removed address as for a new one, both groups of writes rolled back', async () => {
    await signedAndRemoved('removed@example.org');

    const asNew = await statementsOfSigning('new@example.org');
    const asRemoved = await statementsOfSigning('removed@example.org');

    expect(asNew.filter((s) => s === ROLLBACK)).toHaveLength(0);
    expect(asRemoved.filter((s) => s === ROLLBACK)).toHaveLength(2);
    expect(asRemoved.filter((s) => s !== ROLLBACK)).toEqual(asNew);
    // The work is really there: a signature inserted and an e-mail queued, in a transaction.
    expect(asNew.some((s) => s.startsWith('insert into "signatures"'))).toBe(true);
    expect(asNew.some((s) => s.startsWith('insert into "outbox_messages"'))).toBe(true);
    expect(asNew.at(-1)).toBe('commit');
  });

  it('runs the same statements when it tells a confirmed address it already signed, only the signature on a stand-in', async () => {
    await signedAndConfirmed('known@example.org');

    const asNew = await statementsOfSigning('new@example.org');
    const asKnown = await statementsOfSigning('known@example.org');

    expect(asKnown.filter((s) => s === ROLLBACK)).toHaveLength(1);
    expect(asKnown.filter((s) => s !== ROLLBACK)).toEqual(asNew);
    expect((await signatureOf('known@example.org')).confirmation_sends).toBe(2);
  });

  it('runs the same statements when it re-sends to a pending address, only the signature on a stand-in', async () => {
    await service().sign(letter, input('pending@example.org'), CONTEXT);

    const asNew = await statementsOfSigning('new@example.org');
    const asPending = await statementsOfSigning('pending@example.org');

    expect(asPending.filter((s) => s === ROLLBACK)).toHaveLength(1);
    expect(asPending.filter((s) => s !== ROLLBACK)).toEqual(asNew);
    expect((await signatureOf('pending@example.org')).confirmation_sends).toBe(2);
  });

  it('runs the same statements for an address that was sent the most confirmations', async () => {
    for (let i = 0; i < MAX_CONFIRMATION_SENDS; i++)
      await service().sign(letter, input('many@example.org'), CONTEXT);

    const asNew = await statementsOfSigning('new@example.org');
    const asExhausted = await statementsOfSigning('many@example.org');

    expect(asExhausted.filter((s) => s === ROLLBACK)).toHaveLength(2);
    expect(asExhausted.filter((s) => s !== ROLLBACK)).toEqual(asNew);
  });

  it('changes nothing and sends nothing when an address whose signature was removed signs again', async () => {
    await signedAndRemoved('removed@example.org');
    await t.drainOutbox();
    const mailBefore = t.sink.messages.length;
    const before = await everythingSigningTouches();

    const outcome = await service().sign(letter, input('removed@example.org'), CONTEXT);

    expect(outcome.kind).toBe('check-inbox');
    expect(await everythingSigningTouches()).toEqual(before);
    expect(await t.drainOutbox()).toBe(0);
    expect(t.sink.messages).toHaveLength(mailBefore);
  });

  it('changes nothing and sends nothing once an address was sent the most confirmations', async () => {
    for (let i = 0; i < MAX_CONFIRMATION_SENDS; i++)
      await service().sign(letter, input('many@example.org'), CONTEXT);
    await t.drainOutbox();
    const mailBefore = t.sink.messages.length;
    const before = await everythingSigningTouches();

    await service().sign(letter, input('many@example.org'), CONTEXT);

    expect(await everythingSigningTouches()).toEqual(before);
    expect(await t.drainOutbox()).toBe(0);
    expect(t.sink.messages).toHaveLength(mailBefore);
  });

  it.skipIf(ON_POSTGRES)(
    'uses up no id when a removed address or one sent the most confirmations signs again',
    async () => {
      await signedAndRemoved('removed@example.org');
      for (let i = 0; i < MAX_CONFIRMATION_SENDS; i++)
        await service().sign(letter, input('many@example.org'), CONTEXT);
      const before = await nextIds();

      await service().sign(letter, input('removed@example.org'), CONTEXT);
      await service().sign(letter, input('many@example.org'), CONTEXT);

      expect(await nextIds()).toEqual(before);
    },
  );

  it('wakes the mail worker only after the signing has answered, so sending the e-mail cannot delay the answer', async () => {
    const wake = vi.spyOn(t.platform.worker!, 'wake');

    await service().sign(letter, input('new@example.org'), CONTEXT);

    // The route writes its answer as soon as sign() returns, before anything scheduled for later runs.
    expect(wake).not.toHaveBeenCalled();
    await new Promise((resolve) => setImmediate(resolve));
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('keeps no stand-in when it tells a confirmed address it already signed: one signature, one notice', async () => {
    await signedAndConfirmed('known@example.org');
    const before = await everythingSigningTouches();

    await service().sign(letter, input('known@example.org'), CONTEXT);

    const after = await everythingSigningTouches();
    expect(after.signatures).toEqual(
      before.signatures.map((row) =>
        row.email === 'known@example.org'
          ? { ...row, confirmation_sends: 2, updated_at: expect.any(String) }
          : row,
      ),
    );
    expect(after.letters).toEqual(before.letters);
    expect(after.outbox).toHaveLength(before.outbox.length + 1);
    expect(after.outbox.at(-1)).toMatchObject({
      kind: 'signature-already-signed',
      to_address: 'known@example.org',
      signature_id: (await signatureOf('known@example.org')).id,
    });
  });

  it('keeps no stand-in when it re-sends to a pending address: one signature, one more e-mail', async () => {
    await service().sign(letter, input('pending@example.org'), CONTEXT);
    const before = await everythingSigningTouches();

    await service().sign(letter, input('pending@example.org'), CONTEXT);

    const after = await everythingSigningTouches();
    expect(after.signatures).toHaveLength(before.signatures.length);
    expect(after.outbox).toHaveLength(before.outbox.length + 1);
    expect(after.outbox.at(-1)).toMatchObject({
      kind: 'signature-confirmation',
      to_address: 'pending@example.org',
      signature_id: (await signatureOf('pending@example.org')).id,
    });
  });
});
