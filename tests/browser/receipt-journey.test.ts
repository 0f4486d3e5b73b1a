import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount } from '../support/accounts.js';
import { launchBrowser, newContext, startApp, type RunningApp } from '../support/browser.js';
import { createLetter } from '../support/factories.js';
import { checkConsistency } from '../support/independent-verifier.js';
import { storeSignature } from '../support/stored-signatures.js';

// A letter delivered through the platform's own flow (test, delivery, updates: compiled, committed, sent
// by the worker), then checked where the public checks it: /verify looks up a round's published root
// and size from the link the letter carries, and checks in the browser, like the independent verifier,
// that an update's list extends the delivered one, or says that it does not.

const SECRET = 'test-secret-test-secret-test-secret-0123';
const HOUR = 3_600_000;

let app: RunningApp;
let browser: Browser;
let admin: User;
let letterId: number;
let slug: string;

/** Waits for what the worker and the capture server do in the background. */
async function eventually<T>(what: string, probe: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

interface Published {
  round: number;
  treeSize: number;
  root: string;
}

/** The letter's published list of a round, as the public API gives it (its answers last a count epoch). */
function published(round: number): Promise<Published> {
  return eventually(`round ${round} in the API`, async () => {
    const response = await fetch(`${app.baseUrl}/api/v1/letters/${slug}`);
    expect(response.status).toBe(200);
    const { commitments } = (await response.json()) as { commitments: Published[] };
    return commitments.find((c) => c.round === round);
  });
}

/** Starts a round through the organizer's service, compiles it and waits until its letters are sent. */
async function deliver(kind: 'test' | 'delivery' | 'update', key: string): Promise<number> {
  const { deliveries, roundCompiling } = app.platform;
  const round =
    kind === 'test'
      ? await deliveries.sendTest(admin, letterId, key)
      : kind === 'delivery'
        ? await deliveries.deliverNow(admin, letterId, key)
        : await deliveries.sendUpdate(admin, letterId, key);
  await roundCompiling.compilePending();
  await eventually(`round ${round.id} sent`, async () => {
    const waiting = await app.platform.db
      .selectFrom('outbox_messages')
      .select('id')
      .where('status', 'in', ['pending', 'sending'])
      .executeTakeFirst();
    return waiting ? undefined : true;
  });
  return round.id;
}

const store = (name: string, display: 'full' | 'initials' | 'hidden', country: string) =>
  storeSignature(app.platform.db, SECRET, letterId, {
    name,
    email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`,
    status: 'confirmed',
    country,
    display,
    createdAt: new Date(Date.now() - 3 * HOUR).toISOString(),
  });

const setCount = (count: number) =>
  app.platform.db.updateTable('letters').set({ signature_count: count }).where('id', '=', letterId).execute();

beforeAll(async () => {
  app = await startApp();
  admin = await createAccount(app.platform, 'admin');
  ({ id: letterId, slug } = await createLetter(app.platform.db, new Date(), {
    slug: 'receipts-journey',
    title: 'Let the captured soldiers choose',
    goal: null,
  }));
  await store('Kim Ji-hoon', 'full', 'KR');
  await store('Olena Kovalenko', 'initials', 'UA');
  await store('Hidden Supporter', 'hidden', 'KR');
  await setCount(3);
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

const verdictOf = (page: Page, region: string) => page.locator(`#${region} .verify-result__verdict`);

describe('receipts and published lists, checked in a browser and independently', () => {
  let delivery: number;

  it("fills in a delivered round's published root and size from the link in the letter", async () => {
    await deliver('test', 'journey-test');
    delivery = await deliver('delivery', 'journey-delivery');
    const list = await published(delivery);
    expect(list.treeSize).toBe(3);
    // The recipients' letter links /verify?letter=…&round=…: the page looks that round up by itself.
    const context = await newContext(browser, app);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`/verify?letter=${slug}&round=${delivery}`);
    await expect.poll(() => page.locator('#published-root').inputValue()).toBe(list.root);
    expect(await page.locator('#published-size').inputValue()).toBe('3');
    expect(await page.locator('#published-source').textContent()).toBe(
      `Filled in from this site's public record: round ${delivery} of the letter “Let the captured soldiers choose”.`,
    );
    expect(requests).toContain(`${app.baseUrl}/api/v1/letters/${slug}`);
    await context.close();
  });

  it('checks in the browser that an update after new signatures extends the delivered list, and says when one does not', async () => {
    await store('Park Min-jun', 'full', 'KR');
    await setCount(4);
    const update = await deliver('update', 'journey-update');
    const first = await published(delivery);
    const second = await published(update);
    expect(second.treeSize).toBe(4);

    const context = await newContext(browser, app);
    const page = await context.newPage();
    await page.goto(`/verify?letter=${slug}`);
    expect(await page.getByLabel('Letter', { exact: true }).inputValue()).toBe(slug);
    await page.getByLabel('Earlier round').fill(String(delivery));
    await page.getByLabel('Later round').fill(String(update));
    await page.getByRole('button', { name: 'Check the two lists' }).click();
    await expect.poll(() => verdictOf(page, 'consistency-result').textContent()).toBe('Valid');
    expect(await page.locator('#consistency-result').textContent()).toContain(
      `The list of round ${update} (4 signatures) begins with the list of round ${delivery} (3 signatures)`,
    );
    // The proof the page checked, checked again by the independent verifier.
    const answer = await fetch(
      `${app.baseUrl}/api/v1/letters/${slug}/commitments/${update}/consistency?from=${delivery}`,
    );
    const { proof } = (await answer.json()) as { proof: string[] };
    expect(checkConsistency(first, second, proof)).toBe(true);
    expect(checkConsistency({ ...first, root: second.root }, second, proof)).toBe(false);

    // An earlier root typed from a letter that is not the published one: not consistent with it.
    await page.getByLabel(/Earlier root/).fill('0'.repeat(64));
    await page.getByRole('button', { name: 'Check the two lists' }).click();
    await expect.poll(() => verdictOf(page, 'consistency-result').textContent()).toBe('Not valid');
    await page.getByLabel(/Earlier root/).fill('');

    // A withdrawal, then another update: the platform answers that no proof exists, and the page says so.
    await app.platform.db
      .updateTable('signatures')
      .set({ status: 'withdrawn', withdrawn_at: new Date().toISOString() })
      .where('full_name', '=', 'Olena Kovalenko')
      .execute();
    await setCount(3);
    const after = await deliver('update', 'journey-update-2');
    await published(after);
    await page.getByLabel('Earlier round').fill(String(update));
    await page.getByLabel('Later round').fill(String(after));
    await page.getByRole('button', { name: 'Check the two lists' }).click();
    await expect
      .poll(() => page.locator('#consistency-result').textContent())
      .toContain('does not begin with');
    expect(await verdictOf(page, 'consistency-result').textContent()).toBe('Not valid');
    await context.close();
  });
});
