import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createLetter } from '../../support/factories.js';
import { recordSentRound } from '../../support/sent-deliveries.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SUPPORTER = 'news@example.org';

/** What a supporter who asked for news is told of each kind of round that reached its recipients. */
describe("supporters' news of a round, by what the round was", () => {
  let t: TestPlatform;
  let letterId: number;

  beforeEach(async () => {
    t = await createTestPlatform();
    ({ id: letterId } = await createLetter(t.platform.db, t.clock.now(), { goal: null }));
    await storeSignature(t.platform.db, 'news-secret', letterId, {
      name: 'Kim Ji-hoon',
      email: SUPPORTER,
      status: 'confirmed',
      country: 'KR',
      createdAt: t.clock.now().toISOString(),
      consent: true,
    });
  });
  afterEach(async () => {
    await t.close();
  });

  /** Records a sent round of this kind and trigger, and returns the subject of the news it caused. */
  async function newsOf(kind: 'delivery' | 'update', trigger: string): Promise<string> {
    const round = await recordSentRound(t.platform.db, letterId, [{ name: 'Ministry', organisation: '' }], {
      createdAt: t.clock.now(),
      sentAt: t.clock.now(),
      signatureCount: 1,
      kind,
    });
    await t.platform.db.updateTable('delivery_rounds').set({ trigger }).where('id', '=', round).execute();
    expect(await t.platform.supporterNews.notifyPending()).toBe(1);
    await t.drainOutbox();
    return t.sink.to(SUPPORTER).at(-1)!.parsed.subject ?? '';
  }

  it('calls a delivery, and an escalation that takes the letter itself to a new tier, a sending', async () => {
    expect(await newsOf('delivery', 'manual')).toMatch(/^Your letter was sent: /);
    expect(await newsOf('update', 'escalation')).toMatch(/^Your letter was sent: /);
  });

  it('calls an update an update', async () => {
    expect(await newsOf('update', 'manual')).toMatch(/^News of the letter you signed: /);
  });
});
