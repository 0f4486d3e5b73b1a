import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount } from '../support/accounts.js';
import { launchBrowser, newContext, startApp, type RunningApp } from '../support/browser.js';
import { createLetter } from '../support/factories.js';
import { checkConsistency, checkReceipt } from '../support/independent-verifier.js';
import { storeSignature } from '../support/stored-signatures.js';

// Issue 15's test: a letter is delivered through the platform's own flow (a supporter signs and confirms
// in Chromium; test, delivery and updates compiled, committed and sent by the worker); the supporter's
// receipt, reached from the link in their e-mail, is checked on /verify in the browser and by the
// independent verifier (tests/support/independent-verifier.ts, written from docs/verification.md alone);
// one leaf field changed, both say it fails. Then /verify looks up a round from the letter's link, and
// checks that an update's list extends the delivered one, or says that it does not.

const SECRET = 'test-secret-test-secret-test-secret-0123';
const HOUR = 3_600_000;

let app: RunningApp;
let browser: Browser;
let admin: User;
let letterId: number;
let slug: string;

/** The links in the captured messages to an address (the capture server keeps each as an .eml file). */
async function linksTo(address: string): Promise<string[]> {
  const dir = app.config.mailboxDir;
  const files = (await readdir(dir).catch(() => [] as string[])).filter((f) => f.endsWith('.eml'));
  const links: string[] = [];
  for (const file of files.sort()) {
    const parsed = await simpleParser(await readFile(path.join(dir, file)));
    const to = [parsed.to ?? []].flat().flatMap((a) => a.value.map((v) => v.address));
    if (to.includes(address)) links.push(...(parsed.text?.match(/https?:\/\/\S+/g) ?? []));
  }
  return links;
}

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

/** A confirmed signature stored directly; confirmed `confirmedAgo` ms ago (storeSignature confirms an hour after signing). */
const store = (
  name: string,
  display: 'full' | 'initials' | 'hidden',
  country: string,
  confirmedAgo = 2 * HOUR,
) =>
  storeSignature(app.platform.db, SECRET, letterId, {
    name,
    email: `${name.toLowerCase().replace(/\W+/g, '.')}@example.org`,
    status: 'confirmed',
    country,
    display,
    createdAt: new Date(Date.now() - HOUR - confirmedAgo).toISOString(),
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
  const supporter = { name: '김민지', email: 'minji.kim@example.org' };
  let receiptsLink: string;
  let delivery: number;

  it('has a supporter sign and confirm in the browser; her e-mail carries her receipts link', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await page.goto(`/letters/${slug}?lang=en`);
    await page.getByRole('textbox', { name: /Your name/ }).fill(supporter.name);
    await page.getByRole('textbox', { name: /E-mail address/ }).fill(supporter.email);
    await page.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
    await page.getByRole('radio', { name: /My full name/ }).check();
    await page.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await page.getByRole('button', { name: 'Sign the letter' }).click();
    await page.waitForURL(`**/letters/${slug}/check-your-inbox*`);
    const links = await eventually('the confirmation e-mail', async () => {
      const found = await linksTo(supporter.email);
      return found.some((l) => l.includes('/signatures/confirm/')) ? found : undefined;
    });
    receiptsLink = links.find((l) => l.includes('/signatures/receipts/'))!;
    expect(receiptsLink).toMatch(new RegExp(`^${app.baseUrl}/signatures/receipts/`));
    await page.goto(links.find((l) => l.includes('/signatures/confirm/'))!);
    await page.getByRole('button', { name: 'Confirm my signature' }).click();
    await page.waitForURL(`**/letters/${slug}/thank-you*`);
    await context.close();
  });

  it("fills in a delivered round's published root and size from the link in the letter", async () => {
    await deliver('test', 'journey-test');
    delivery = await deliver('delivery', 'journey-delivery');
    const list = await published(delivery);
    expect(list.treeSize).toBe(4);
    // The recipients' letter links /verify?letter=…&round=…: the page looks that round up by itself.
    const context = await newContext(browser, app);
    const page = await context.newPage();
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    await page.goto(`/verify?letter=${slug}&round=${delivery}`);
    await expect.poll(() => page.locator('#published-root').inputValue()).toBe(list.root);
    expect(await page.locator('#published-size').inputValue()).toBe('4');
    expect(await page.locator('#published-source').textContent()).toBe(
      `Filled in from this site's public record: round ${delivery} of the letter “Let the captured soldiers choose”.`,
    );
    // Asked in the page's language, so the title it quotes is the page's, not the browser's.
    expect(requests).toContain(`${app.baseUrl}/api/v1/letters/${slug}?lang=en`);
    await context.close();
  });

  it('checks her receipt, from the link in her e-mail, on /verify and independently; a changed name fails both', async () => {
    const list = await published(delivery);
    const context = await newContext(browser, app);
    const page = await context.newPage();
    const requests: { url: string; body: string }[] = [];
    page.on('request', (r) => requests.push({ url: r.url(), body: r.postData() ?? '' }));
    await page.goto(receiptsLink);
    const check = page.getByRole('link', { name: 'Check it in your browser' });
    const href = (await check.getAttribute('href'))!;
    // In the language of the link she followed.
    expect(href).toMatch(/^\/verify\?lang=en#receipt=[\w-]+$/);
    await check.click();
    // The page takes the receipt out of its address once read (public/verify.js).
    await page.waitForURL(/\/verify(\?lang=en)?(#receipt=[\w-]+)?$/);
    // The page reads the receipt from the fragment, looks up the list it names and checks it by itself.
    await expect
      .poll(() => verdictOf(page, 'receipt-result').textContent(), { timeout: 10_000 })
      .toBe('Valid');
    expect(page.url()).not.toContain('receipt=');
    expect(await page.locator('#published-root').inputValue()).toBe(list.root);
    expect(await page.locator('#published-size').inputValue()).toBe('4');
    const receipt = JSON.parse(await page.locator('#receipt').inputValue()) as {
      round: number;
      leaf: { name: string; salt: string };
    };
    expect(receipt.round).toBe(delivery);
    expect(receipt.leaf.name).toBe(supporter.name);
    // The receipt never left the browser: no request carries its salt or its encoded form.
    const encoded = href.slice(href.indexOf('#receipt=') + '#receipt='.length);
    for (const request of requests.filter((r) => !r.url.includes('/signatures/receipts/'))) {
      expect(request.url).not.toContain(receipt.leaf.salt);
      expect(request.url).not.toContain(encoded.slice(0, 32));
      expect(request.body).not.toContain(receipt.leaf.salt);
    }

    // The independent verifier, from the same link, against the root and size the API publishes.
    const fromLink = JSON.parse(Buffer.from(encoded, 'base64url').toString('utf8')) as typeof receipt;
    expect(fromLink).toEqual(receipt);
    expect(checkReceipt(fromLink, list)).toBe(true);

    // One leaf field changed (the name): the page and the independent verifier both say it fails.
    const tampered = { ...fromLink, leaf: { ...fromLink.leaf, name: '김민자' } };
    expect(checkReceipt(tampered, list)).toBe(false);
    await page.locator('#receipt').fill(JSON.stringify(tampered, null, 2));
    await page.getByRole('button', { name: 'Check the receipt' }).click();
    await expect.poll(() => verdictOf(page, 'receipt-result').textContent()).toBe('Not valid');
    expect(await page.locator('#receipt-result').textContent()).toContain(
      'do not lead to the published root',
    );
    await context.close();
  });

  it('checks in the browser that an update after new signatures extends the delivered list, and says when one does not', async () => {
    // Confirmed now, after the supporter who signed in the browser: the annex lists by confirmation.
    await store('Park Min-jun', 'full', 'KR', 0);
    await setCount(5);
    const update = await deliver('update', 'journey-update');
    const first = await published(delivery);
    const second = await published(update);
    expect(second.treeSize).toBe(5);

    const context = await newContext(browser, app);
    const page = await context.newPage();
    await page.goto(`/verify?letter=${slug}`);
    expect(await page.getByLabel('Letter', { exact: true }).inputValue()).toBe(slug);
    await page.getByLabel('Earlier round').fill(String(delivery));
    await page.getByLabel('Later round').fill(String(update));
    await page.getByRole('button', { name: 'Check the two lists' }).click();
    await expect.poll(() => verdictOf(page, 'consistency-result').textContent()).toBe('Valid');
    expect(await page.locator('#consistency-result').textContent()).toContain(
      `The list of round ${update} (signatures: 5) begins with the list of round ${delivery} (signatures: 4)`,
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
    await setCount(4);
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
