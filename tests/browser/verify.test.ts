import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  inclusionProof,
  leafHash,
  treeRoot,
  type LeafFields,
  type Receipt,
} from '../../server/commitments/merkle.js';
import {
  expectNoSeriousViolations,
  launchBrowser,
  newContext,
  overflowingElements,
  pageWidths,
  PHONE,
  startApp,
  type RunningApp,
} from '../support/browser.js';

// /verify in Chromium, with receipts the platform's own code makes (server/commitments/merkle.ts): the
// page's script recomputes the leaf, walks the proof and says the result in words. The receipt never
// leaves the browser: every request the page makes is recorded and none carries any of it.

let app: RunningApp;
let browser: Browser;

const leaves: LeafFields[] = Array.from({ length: 7 }, (_, i) => ({
  reference: `ref${i}xxxxxxxxxxxxxxxxx`,
  name: i === 3 ? '김민지' : i === 5 ? 'counted, not named' : `Supporter ${i}`,
  country: i % 2 ? 'KR' : 'UA',
  confirmedAt: new Date(Date.UTC(2026, 10, 2 + i)).toISOString(),
  salt: `${i}`.repeat(64),
}));
const hashes = leaves.map(leafHash);
const root = treeRoot(hashes).toString('hex');

function receiptOf(index: number): Receipt {
  return {
    version: 1,
    letter: 'no-such-letter',
    round: 1,
    treeSize: leaves.length,
    root,
    leafIndex: index,
    leaf: leaves[index]!,
    proof: inclusionProof(hashes, index).map((h) => h.toString('hex')),
  };
}

beforeAll(async () => {
  app = await startApp();
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await app?.close();
});

/** Every request a page makes, with its body: none may carry a receipt. */
function recordRequests(page: Page): { url: string; body: string }[] {
  const seen: { url: string; body: string }[] = [];
  page.on('request', (r) => seen.push({ url: r.url(), body: r.postData() ?? '' }));
  return seen;
}

async function typePublished(page: Page, publishedRoot: string, size: number): Promise<void> {
  await page.locator('#published-root').fill(publishedRoot);
  await page.locator('#published-size').fill(String(size));
}

const verdict = (page: Page) => page.locator('#receipt-result .verify-result__verdict');

describe('/verify in a browser', () => {
  it('says a pasted receipt is valid against the root and size typed from the letter, and shows each step', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    const requests = recordRequests(page);
    await page.goto('/verify?lang=en');
    await expect.poll(() => page.locator('#verify-needs-js').isHidden()).toBe(true);
    const receipt = receiptOf(3);
    await page.getByLabel('Receipt', { exact: true }).fill(JSON.stringify(receipt));
    await typePublished(page, root, leaves.length);
    await page.getByRole('button', { name: 'Check the receipt' }).click();
    await expect.poll(() => verdict(page).textContent()).toBe('Valid');
    const result = await page.locator('#receipt-result').textContent();
    expect(result).toContain(`round 1 of the letter “no-such-letter”`);
    expect(result).toContain(root);
    // The steps: the leaf's data and hash, one line per proof hash, the root reached and the published one.
    await page.locator('#receipt-steps summary').click();
    const steps = await page.locator('#receipt-step-list dd').allTextContents();
    expect(steps).toHaveLength(2 + receipt.proof.length + 2);
    expect(steps[1]).toBe(hashes[3]!.toString('hex'));
    expect(steps.at(-2)).toBe(root);
    expect(steps.at(-1)).toBe(root);
    expect(await page.locator('#published-source').textContent()).toBe('Typed by you.');
    // Nothing sent: the requests are the page, its assets, and the public record of the letter named.
    for (const request of requests) {
      expect(request.url).not.toContain(receipt.leaf.salt);
      expect(request.url).not.toContain(encodeURIComponent(receipt.leaf.name));
      expect(request.body).toBe('');
    }
    expect(requests.every((r) => r.url.startsWith(app.baseUrl))).toBe(true);
    await expectNoSeriousViolations(page);
    await context.close();
  });

  it('says "Not valid" in words when a leaf field, the size or the root differs', async () => {
    const context = await newContext(browser, app);
    const page = await context.newPage();
    await page.goto('/verify?lang=en');
    const receipt = receiptOf(4);
    const check = async (text: string, size: number, against = root) => {
      await page.getByLabel('Receipt', { exact: true }).fill(text);
      await typePublished(page, against, size);
      await page.getByRole('button', { name: 'Check the receipt' }).click();
      await expect.poll(() => verdict(page).textContent()).not.toBeNull();
      return {
        verdict: await verdict(page).textContent(),
        text: await page.locator('#receipt-result').textContent(),
      };
    };
    expect((await check(JSON.stringify(receipt), 7)).verdict).toBe('Valid');
    const renamed = await check(
      JSON.stringify({ ...receipt, leaf: { ...receipt.leaf, name: 'Someone else' } }),
      7,
    );
    expect(renamed.verdict).toBe('Not valid');
    expect(renamed.text).toContain('do not lead to the published root');
    const resized = await check(JSON.stringify(receipt), 8);
    expect(resized.verdict).toBe('Not valid');
    expect(resized.text).toContain('the published size is 8');
    const otherRoot = await check(JSON.stringify(receipt), 7, hashes[0]!.toString('hex'));
    expect(otherRoot.verdict).toBe('Not valid');
    expect(otherRoot.text).toContain("receipt's root is not the published root");
    // Not a receipt: said at the field, linked to it, and no verdict pretends to have checked.
    await page.getByLabel('Receipt', { exact: true }).fill('{"version":1,"letter":"x"}');
    await page.getByRole('button', { name: 'Check the receipt' }).click();
    await expect
      .poll(() => page.locator('#receipt-error').textContent())
      .toContain('“round” is missing or wrong');
    expect(await page.getByLabel('Receipt', { exact: true }).getAttribute('aria-invalid')).toBe('true');
    expect(await verdict(page).count()).toBe(0);
    await context.close();
  });

  it('reads a receipt from a #receipt= link, which no request carries, and from a chosen file', async () => {
    const context = await newContext(browser, app, PHONE);
    const page = await context.newPage();
    const requests = recordRequests(page);
    const receipt = receiptOf(0);
    const encoded = Buffer.from(JSON.stringify(receipt)).toString('base64url');
    await page.goto(`/verify?lang=ko#receipt=${encoded}`);
    await expect.poll(() => page.locator('#receipt-from-link').isVisible()).toBe(true);
    expect(JSON.parse(await page.locator('#receipt').inputValue())).toEqual(receipt);
    // Read once, then gone from the address (and the history): copying it to share /verify shares no receipt.
    expect(page.url()).not.toContain('receipt=');
    expect(page.url()).toMatch(/\/verify\?lang=ko$/);
    // The letter it names has published nothing here: the page says so, in Korean, and waits for a root.
    await expect.poll(() => page.locator('#published-source').textContent()).toContain('no-such-letter');
    await typePublished(page, root, leaves.length);
    await page.getByRole('button', { name: '영수증 확인' }).click();
    await expect.poll(() => verdict(page).textContent()).toBe('유효함');
    for (const request of requests) {
      expect(request.url).not.toContain(encoded.slice(0, 40));
      expect(request.url).not.toContain(receipt.leaf.salt);
    }
    const widths = await pageWidths(page);
    // A phone browser zooms out to fit a page that is too wide, which widens innerWidth too.
    expect(widths.inner, `zoomed out to fit ${widths.scroll}px`).toBe(375);
    expect(widths.scroll, (await overflowingElements(page)).join(', ')).toBeLessThanOrEqual(widths.inner);

    const other = receiptOf(6);
    await page.locator('#receipt-file').setInputFiles({
      name: 'receipt.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(other)),
    });
    await expect.poll(() => page.locator('#receipt').inputValue()).toContain(other.leaf.reference);
    await page.getByRole('button', { name: '영수증 확인' }).click();
    await expect.poll(() => page.locator('#receipt-result').textContent()).toContain(other.root);
    expect(await verdict(page).textContent()).toBe('유효함');
    await context.close();
  });

  it('says plainly without JavaScript that the check needs it, and links the algorithm', async () => {
    const context = await newContext(browser, app, { javaScriptEnabled: false });
    const page = await context.newPage();
    await page.goto('/verify?lang=uk');
    expect(await page.locator('#verify-needs-js').isVisible()).toBe(true);
    expect(await page.locator('#verify-tool').isVisible()).toBe(false);
    expect(await page.locator('#verify-needs-js').textContent()).toContain('JavaScript');
    await page.locator('#verify-needs-js a').click();
    await page.waitForURL(/\/verify\/how\?lang=uk$/);
    expect(await page.locator('h1').textContent()).toBe('Як перевірити квитанцію самостійно');
    await context.close();
    // (axe runs as a script: the algorithm's page is checked with JavaScript on.)
    const withScripts = await newContext(browser, app, PHONE);
    const how = await withScripts.newPage();
    await how.goto('/verify/how?lang=uk');
    await expectNoSeriousViolations(how);
    // On a phone in every language: the API's long paths in the text break instead of widening the page.
    for (const language of ['uk', 'en', 'ko']) {
      await how.goto(`/verify/how?lang=${language}`);
      const widths = await pageWidths(how);
      // A phone browser zooms out to fit a page that is too wide, which widens innerWidth too.
      expect(widths.inner, `${language}: zoomed out to fit ${widths.scroll}px`).toBe(375);
      expect(
        widths.scroll,
        `${language}: ${(await overflowingElements(how)).join(', ')}`,
      ).toBeLessThanOrEqual(widths.inner);
    }
    await withScripts.close();
  });
});
