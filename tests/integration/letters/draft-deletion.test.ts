import { randomBytes } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

/**
 * Deleting a draft removes what hangs on it through the foreign keys, on both databases: a draft that
 * sent test letters has rounds, deliveries and versions the rounds point to, all in one statement.
 */
describe('deleting a draft', () => {
  let t: TestPlatform;
  let owner: User;
  beforeEach(async () => {
    t = await createTestPlatform();
    owner = await createAccount(t.platform, 'organizer');
  });
  afterEach(async () => {
    await t.close();
  });

  /** How many rows of each table hang on the letter (the letter's own row included). */
  const rowsOf = async (letterId: number) => {
    const count = async (table: 'letter_versions' | 'delivery_rounds') =>
      (await t.platform.db.selectFrom(table).select('id').where('letter_id', '=', letterId).execute()).length;
    const letters = await t.platform.db
      .selectFrom('letters')
      .select('id')
      .where('id', '=', letterId)
      .execute();
    return {
      letters: letters.length,
      versions: await count('letter_versions'),
      rounds: await count('delivery_rounds'),
    };
  };

  it('removes a draft that sent test letters, with its versions and rounds, and keeps the sent mail on record', async () => {
    const { id } = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    await t.platform.db.updateTable('letters').set({ owner_id: owner.id }).where('id', '=', id).execute();
    await t.platform.deliveries.sendTest(owner, id, randomBytes(12).toString('base64url'));
    await t.compileDeliveries();
    await t.drainOutbox();
    expect(await rowsOf(id)).toEqual({ letters: 1, versions: 1, rounds: 1 });
    const sent = await t.platform.db.selectFrom('outbox_messages').select('id').execute();
    expect(sent.length).toBeGreaterThan(0);

    await t.platform.letterAdmin.workflow.deleteDraft(owner, id);
    expect(await rowsOf(id)).toEqual({ letters: 0, versions: 0, rounds: 0 });
    expect(await t.platform.db.selectFrom('outbox_messages').select('id').execute()).toEqual(sent);
  });
});
