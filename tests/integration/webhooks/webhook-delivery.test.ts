import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { WebhookRepository } from '../../../server/webhooks/webhook-repository.js';
import { signatureToken } from '../../../server/mail/signature-tokens.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeAndConfirm, type StoredSignature } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('webhooks, sent to a real receiver', () => {
  // Real time at the start (standardwebhooks checks the timestamp against its own clock), moved by hand.
  const clock = new ManualClock(new Date());
  let t: TestPlatform;
  let receiver: WebhookReceiver;
  let organizer: User;
  let letterId: number;
  let endpointSecret: string;

  const attempts = () => t.platform.db.selectFrom('webhook_attempts').selectAll().orderBy('id').execute();
  const runWorker = () => t.platform.webhookWorker!.runOnce();

  /** A signature stored pending now and confirmed through its link, as a supporter would; its ref. */
  const signAndConfirm = (signature: Pick<StoredSignature, 'name' | 'email' | 'country' | 'display'>) =>
    storeAndConfirm(t.platform, SECRET, letterId, { ...signature, createdAt: clock.now().toISOString() });

  beforeAll(async () => {
    t = await createTestPlatform({ clock, env: { WEBHOOKS_ALLOW_PRIVATE: '1' } });
    receiver = await new WebhookReceiver().start();
    organizer = await createAccount(t.platform, 'organizer');
    letterId = (await createLetter(t.platform.db, clock.now())).id;
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.id })
      .where('id', '=', letterId)
      .execute();
    ({ secret: endpointSecret } = await t.platform.appDeps.webhooks.register(organizer, letterId, {
      url: receiver.url,
      events: ['signature.confirmed', 'signature.withdrawn'],
    }));
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  it('signs a confirmation as Standard Webhooks says (verified by the standardwebhooks package) and carries no address', async () => {
    expect(endpointSecret).toMatch(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    const ref = await signAndConfirm({
      name: 'Kim Initials',
      email: 'kim-private@example.org',
      country: 'KR',
      display: 'initials',
    });
    // Queued in the confirming transaction, sent by the worker.
    expect(await t.platform.db.selectFrom('webhook_deliveries').select('status').execute()).toEqual([
      { status: 'waiting' },
    ]);
    expect(await runWorker()).toBe(1);
    expect(receiver.received).toHaveLength(1);
    const [hook] = receiver.received;
    const verified = new Webhook(endpointSecret).verify(hook!.body, hook!.headers) as {
      type: string;
      data: { signature: Record<string, unknown>; letter: Record<string, unknown> };
    };
    expect(verified.type).toBe('signature.confirmed');
    expect(verified.data.signature).toMatchObject({ name: 'K. I.', country: 'KR' });
    expect(hook!.headers['webhook-id']).toMatch(/^msg_/);
    // A wrong secret does not verify: the check above is a real one.
    expect(() =>
      new Webhook('whsec_' + Buffer.alloc(24, 7).toString('base64')).verify(hook!.body, hook!.headers),
    ).toThrow();
    expect(hook!.body).not.toContain('kim-private@example.org');
    expect(hook!.body).not.toContain('Kim Initials');
    expect(hook!.body).not.toContain(ref);
    expect((await attempts()).map((a) => [a.outcome, a.status_code])).toEqual([['delivered', 200]]);
    // Once delivered, the queue keeps no body (names included): only the event's id and type.
    const done = await t.platform.db.selectFrom('webhook_deliveries').select(['status', 'payload']).execute();
    expect(done).toEqual([{ status: 'succeeded', payload: '' }]);
  });

  it('retries a receiver that answered 500 after the backoff, with the same webhook-id, and logs both attempts', async () => {
    const { ref } = await t.platform.db.selectFrom('signatures').select('ref').executeTakeFirstOrThrow();
    receiver.answers.push(500);
    await t.platform.appDeps.signatures.withdraw(signatureToken(SECRET, ref, 'withdraw'));
    expect(await runWorker()).toBe(1);
    expect(receiver.received).toHaveLength(2);
    // Not due again at once: the first retry waits about 5 s (4-6 s with jitter).
    expect(await runWorker()).toBe(0);
    clock.advance(3_000);
    expect(await runWorker()).toBe(0);
    clock.advance(4_000);
    expect(await runWorker()).toBe(1);
    expect(receiver.received).toHaveLength(3);
    const [failed, retried] = receiver.received.slice(1);
    expect(retried!.headers['webhook-id']).toBe(failed!.headers['webhook-id']);
    expect(
      (new Webhook(endpointSecret).verify(retried!.body, retried!.headers) as { type: string }).type,
    ).toBe('signature.withdrawn');
    const log = (await attempts()).slice(1);
    expect(log.map((a) => [a.attempt, a.outcome, a.status_code])).toEqual([
      [1, 'http-error', 500],
      [2, 'delivered', 200],
    ]);
    // The receiver's answer is kept as a short, printable excerpt.
    expect(log[0]!.excerpt).toBe('receiver failed with 500 secret-stack-trace');
    const delivery = await t.platform.db
      .selectFrom('webhook_deliveries')
      .select(['status', 'attempts'])
      .where('event_type', '=', 'signature.withdrawn')
      .executeTakeFirstOrThrow();
    expect(delivery).toEqual({ status: 'succeeded', attempts: 2 });
  });

  it('takes over the claim of a worker that died mid-send, once its lease has run out', async () => {
    await signAndConfirm({
      name: 'Lee Dead Worker',
      email: 'lee@example.org',
      country: 'UA',
    });
    const repository = new WebhookRepository(t.platform.db);
    // A worker claims it and dies without a word.
    expect(await repository.claimDue('dead-worker', clock.now(), 60_000, 10)).toHaveLength(1);
    expect(await runWorker()).toBe(0);
    clock.advance(61_000);
    const before = receiver.received.length;
    expect(await runWorker()).toBe(1);
    expect(receiver.received).toHaveLength(before + 1);
  });

  it('gives up a day after the event, recording the last attempt', async () => {
    await signAndConfirm({
      name: 'Park Never',
      email: 'park@example.org',
      country: 'UA',
    });
    let tries = 0;
    for (let hour = 0; hour < 30; hour += 1) {
      receiver.answers.push(503);
      tries += await runWorker();
      clock.advance(3_600_000);
    }
    receiver.answers.length = 0;
    const delivery = await t.platform.db
      .selectFrom('webhook_deliveries')
      .select(['status', 'attempts'])
      .orderBy('id', 'desc')
      .executeTakeFirstOrThrow();
    expect(delivery.status).toBe('failed');
    expect(tries).toBe(delivery.attempts);
    expect(tries).toBeGreaterThanOrEqual(6);
    expect(tries).toBeLessThan(30);
  });

  it('places a supporter counted only in no country, as every figure by country does', async () => {
    const before = receiver.received.length;
    await signAndConfirm({
      name: 'Hidden Escapee',
      email: 'hidden-escapee@example.org',
      country: 'KP',
      display: 'hidden',
    });
    expect(await runWorker()).toBe(1);
    const hook = receiver.received[before]!;
    const { data } = JSON.parse(hook.body) as { data: { signature: Record<string, unknown> } };
    expect(data.signature).toMatchObject({ name: null, country: null });
    expect(hook.body).not.toContain('KP');
  });
});
