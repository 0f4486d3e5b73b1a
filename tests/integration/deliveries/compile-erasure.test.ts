import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import type { LetterToQueue } from '../../../server/deliveries/letter-compile-worker.js';
import { RecipientRepository } from '../../../server/recipients/recipient-repository.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const ERASED = { name: 'Kim Ji-hoon Eraseme', email: 'ji-hoon.eraseme@example.org' };
const OTHER = { name: 'Olena Kovalenko Staying', email: 'olena.staying@example.org' };
const BODY = `{{recipient.salutation}},

{{#each signatories}}{{name}}
{{/each}}`;

describe('an erasure while a round compiles', () => {
  let t: TestPlatform;
  let admin: User;

  beforeAll(async () => {
    t = await createTestPlatform();
    admin = await createAccount(t.platform, 'admin');
  });
  afterAll(async () => {
    await t?.close();
  });

  /** A letter with two recipients reading two languages (so a test round has two letters) and two signatories. */
  async function letterWithTwoRecipients(): Promise<number> {
    const now = t.clock.now();
    const { id } = await createLetter(t.platform.db, now, {
      slug: 'erased-mid-compile',
      goal: null,
      texts: [{ language: 'en', title: 'Erased mid-compile', summary: 'Two recipients.', body: BODY }],
    });
    const second = await new RecipientRepository(t.platform.db).findOrCreate(
      {
        name: 'Ministry of Testland',
        title: 'Minister',
        organisation: 'Ministry of Testland',
        country: 'KR',
        email: 'ministry@example.org',
        language: 'ko',
        salutation: 'Dear Minister',
      },
      now,
    );
    await t.platform.db
      .insertInto('letter_recipients')
      .values({ letter_id: id, recipient_id: second, position: 1 })
      .execute();
    const at = new Date(now.getTime() - 86_400_000).toISOString();
    for (const supporter of [ERASED, OTHER])
      await storeSignature(t.platform.db, SECRET, id, {
        ...supporter,
        status: 'confirmed',
        country: 'KR',
        createdAt: at,
      });
    await t.platform.db.updateTable('letters').set({ signature_count: 2 }).where('id', '=', id).execute();
    return id;
  }

  const lettersOf = (roundId: number) =>
    t.platform.db
      .selectFrom('deliveries as d')
      .innerJoin('outbox_messages as m', 'm.id', 'd.outbox_message_id')
      .leftJoin('outbox_contents as c', 'c.outbox_message_id', 'm.id')
      .select(['d.recipient_id', 'm.status', 'c.text_body'])
      .where('d.delivery_round_id', '=', roundId)
      .execute();

  it('leaves the round compiling when a letter the pass already queued was cancelled, and no letter compiled after the erasure names the person', async () => {
    const letterId = await letterWithTwoRecipients();
    const round = await t.platform.deliveries.sendTest(admin, letterId, 'erased-mid-compile');

    // An admin erases the person just after the first letter of the pass was queued (which names them).
    const worker = t.platform.compileWorker;
    const queue = worker.queue.bind(worker);
    let calls = 0;
    worker.queue = async (letter: LetterToQueue) => {
      const result = await queue(letter);
      calls += 1;
      if (calls === 1) await t.platform.privacy.erase(ERASED.email, admin);
      return result;
    };
    try {
      await t.platform.roundCompiling.compilePending();
    } finally {
      worker.queue = queue;
    }
    expect(calls).toBe(2);

    // The erasure cancelled the first letter and took away its record: the round is not finished.
    const afterFirstPass = await lettersOf(round.id);
    expect(afterFirstPass).toHaveLength(1);
    const { status } = await t.platform.db
      .selectFrom('delivery_rounds')
      .select('status')
      .where('id', '=', round.id)
      .executeTakeFirstOrThrow();
    expect(status).toBe('compiling');

    // The next pass compiles the missing letter, without the erased name, and finishes the round.
    expect(await t.platform.roundCompiling.compilePending()).toBe(1);
    const letters = await lettersOf(round.id);
    expect(letters).toHaveLength(2);
    const redone = letters.find((l) => l.recipient_id !== afterFirstPass[0]!.recipient_id)!;
    expect(redone.text_body).toContain(OTHER.name);
    expect(redone.text_body).not.toContain(ERASED.name);
    // The letter compiled after the erasure in the first pass reads the signatories again: it does not name them either.
    for (const letter of letters) expect(letter.text_body).not.toContain(ERASED.name);
    const finished = await t.platform.db
      .selectFrom('delivery_rounds')
      .select('status')
      .where('id', '=', round.id)
      .executeTakeFirstOrThrow();
    expect(finished.status).toBe('queued');
  }, 60_000);
});
