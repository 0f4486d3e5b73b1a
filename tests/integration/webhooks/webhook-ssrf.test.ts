import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../../server/accounts/account.js';
import { AppError } from '../../../server/lib/errors.js';
import { eventsColumn, newSecret } from '../../../server/webhooks/webhook.js';
import { createWebhookSender } from '../../../server/webhooks/webhook-sender.js';
import { createAccount } from '../../support/accounts.js';
import { createLetter } from '../../support/factories.js';
import { storeAndConfirm } from '../../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';
import { WebhookReceiver } from '../../support/webhook-receiver.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

describe('webhooks never go to a private address (WEBHOOKS_ALLOW_PRIVATE off)', () => {
  let t: TestPlatform;
  let receiver: WebhookReceiver;
  let organizer: User;
  let letterId: number;

  beforeAll(async () => {
    t = await createTestPlatform();
    expect(t.config.webhooksAllowPrivate).toBe(false);
    receiver = await new WebhookReceiver().start();
    organizer = await createAccount(t.platform, 'organizer');
    letterId = (await createLetter(t.platform.db, t.clock.now())).id;
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: organizer.id })
      .where('id', '=', letterId)
      .execute();
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.stop();
  });

  it('refuses to register private, loopback, link-local and metadata destinations, and plain http', async () => {
    for (const url of [
      `http://127.0.0.1:${receiver.port}/hooks`,
      `https://127.0.0.1:${receiver.port}/hooks`,
      'https://10.0.0.1/hooks',
      'https://169.254.169.254/latest/meta-data/',
      `https://[::1]:${receiver.port}/hooks`,
      `https://localhost:${receiver.port}/hooks`,
      'https://100.64.0.1/hooks',
    ]) {
      const refused = await t.platform.appDeps.webhooks
        .register(organizer, letterId, { url, events: ['signature.confirmed'] })
        .then(
          () => undefined,
          (error: unknown) => error,
        );
      expect(refused, url).toBeInstanceOf(AppError);
      expect((refused as AppError).status, url).toBe(422);
    }
    expect(await t.platform.db.selectFrom('webhook_endpoints').selectAll().execute()).toEqual([]);
  });

  it('refuses at send time too: an endpoint stored with a loopback address (or a name for one) is never contacted', async () => {
    const now = t.clock.now().toISOString();
    for (const url of [
      `https://127.0.0.1:${receiver.port}/hooks`,
      `http://127.0.0.1:${receiver.port}/hooks`,
      `https://localhost:${receiver.port}/hooks`,
      `https://[::1]:${receiver.port}/hooks`,
    ])
      await t.platform.db
        .insertInto('webhook_endpoints')
        .values({
          letter_id: letterId,
          url,
          events: eventsColumn(['signature.confirmed']),
          secret: newSecret(),
          previous_secret: null,
          previous_secret_until: null,
          created_by: organizer.id,
          created_at: now,
          updated_at: now,
        })
        .execute();
    await storeAndConfirm(t.platform, SECRET, letterId, {
      name: 'Kim',
      email: 'kim@example.org',
      country: 'KR',
      createdAt: now,
    });
    expect(await t.platform.webhookWorker!.runOnce()).toBe(4);
    expect(receiver.received).toEqual([]);
    const attempts = await t.platform.db
      .selectFrom('webhook_attempts')
      .select(['outcome', 'status_code'])
      .execute();
    expect(attempts).toEqual(Array(4).fill({ outcome: 'refused-address', status_code: null }));
    // Refused for good: not tried again later.
    t.clock.advance(3_600_000);
    expect(await t.platform.webhookWorker!.runOnce()).toBe(0);
    const statuses = await t.platform.db.selectFrom('webhook_deliveries').select('status').execute();
    expect(statuses.every((s) => s.status === 'failed')).toBe(true);
  });

  it('connects only to the address it checked: a public-looking name that resolves to loopback is refused', async () => {
    const send = createWebhookSender({
      allowPrivate: false,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const result = await send(`https://hooks.example.org:${receiver.port}/hooks`, '{}', {});
    expect(result.outcome).toBe('refused-address');
    expect(receiver.received).toEqual([]);
    // With the development setting, the same name reaches the checked address (the resolver's answer).
    const allowed = createWebhookSender({
      allowPrivate: true,
      resolve: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    const reached = await allowed(`http://hooks.example.org:${receiver.port}/hooks`, '{}', {});
    expect(reached).toMatchObject({ outcome: 'delivered', statusCode: 200 });
    expect(receiver.received).toHaveLength(1);
  });
});
