import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import type { Browser, Frame, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, startApp, type RunningApp } from '../support/browser.js';
import { embedSnippet } from '../../server/pages/embed-view.js';
import { createLetter } from '../support/factories.js';
import { freePort } from '../support/free-port.js';

const TITLE = 'Protect the captured soldiers';

/** The captured .eml files (DATA_DIR/mailbox) that mention `address`. */
function capturedMailTo(app: RunningApp, address: string): string[] {
  const dir = path.join(app.dataDir, 'mailbox');
  let files: string[] = [];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.eml'));
  } catch {
    return [];
  }
  return files.map((f) => readFileSync(path.join(dir, f), 'utf8')).filter((m) => m.includes(address));
}

/** The iframe's frame on an organisation's page, once it has navigated. */
async function embedFrame(page: Page): Promise<Frame> {
  const handle = await page.waitForSelector('iframe');
  const frame = await handle.contentFrame();
  if (!frame) throw new Error('the iframe has no frame');
  return frame;
}

/** Where `selector` (inside the frame) sits in the organisation's page's viewport, in its pixels. */
async function placeInViewport(page: Page, frame: Frame, selector: string) {
  const box = await page.locator('iframe').boundingBox();
  const inner = await frame.locator(selector).boundingBox();
  const viewport = page.viewportSize()!;
  return { frameTop: box!.y, top: inner!.y, bottom: inner!.y + inner!.height, viewport: viewport.height };
}

/**
 * Waits until the iframe on the organisation's page is as tall as the page inside it, measured as
 * public/embed-height.js measures it (the body with its margins): the document's scrollHeight is never
 * less than the frame, so it matched the 110rem fallback before the embed had said anything.
 */
async function frameFitsItsPage(page: Page, frame: Frame): Promise<number> {
  const iframe = page.locator('iframe');
  const needed = () =>
    frame.evaluate<number>(
      `(() => { const style = getComputedStyle(document.body); return Math.ceil(document.body.getBoundingClientRect().height + parseFloat(style.marginTop) + parseFloat(style.marginBottom)); })()`,
    );
  await expect
    .poll(async () => Math.abs(((await iframe.boundingBox())?.height ?? 0) - (await needed())))
    .toBeLessThanOrEqual(1);
  return (await iframe.boundingBox())!.height;
}

/** Fills the signing form in the frame and sends it. */
async function signInFrame(frame: Frame, email: string): Promise<void> {
  await frame.getByRole('textbox', { name: /Your name/ }).fill('Choi Yu-na');
  await frame.getByRole('textbox', { name: /E-mail address/ }).fill(email);
  await frame.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
  await frame.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
  const button = frame.getByRole('button', { name: 'Sign the letter' });
  // The button is reached by scrolling the organisation's page, so the frame's top is above the view.
  await button.scrollIntoViewIfNeeded();
  await button.click();
}

describe("an organisation's site frames the embed and a supporter signs in it", () => {
  let app: RunningApp;
  let browser: Browser;
  let site: Server;
  /** Another origin and another site: localhost on its own port, where the platform is 127.0.0.1. */
  let siteUrl: string;
  let letter: { id: number; slug: string };

  beforeAll(async () => {
    app = await startApp();
    letter = await createLetter(app.platform.db, new Date(), { title: TITLE, goal: 100 });
    const port = await freePort();
    siteUrl = `http://localhost:${port}`;
    // The organisation's page, with the snippet as the organizer pastes it.
    site = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><html lang="en"><head><title>Our campaign</title></head><body><h1>Our campaign</h1>` +
          `${embedSnippet(app.baseUrl, letter.slug, TITLE)}` +
          // The rest of the organisation's page goes on below the frame, as on a campaign's site.
          `<div style="height:1500px"></div><p>Footer of our campaign.</p></body></html>`,
      );
    });
    await new Promise<void>((resolve) => site.listen(port, '127.0.0.1', resolve));
    browser = await launchBrowser();
  });

  /** The organisation's page in a new browser of this size, once the signing form has loaded in its frame. */
  async function formOnTheSite(viewport: { width: number; height: number }) {
    const context = await browser.newContext({ viewport });
    const page = await context.newPage();
    await page.goto(siteUrl);
    const frame = await embedFrame(page);
    await frame.waitForSelector('form');
    return { context, page, frame };
  }

  afterAll(async () => {
    await browser?.close();
    await new Promise((resolve) => site?.close(resolve));
    await app?.close();
  });

  it('signs inside the frame on another site, is answered there, and gets the confirmation e-mail', async () => {
    const email = 'embed-browser@example.org';
    const { context, page, frame } = await formOnTheSite({ width: 400, height: 900 });
    await expect(frame.locator('h1').innerText()).resolves.toBe(TITLE);
    await expect(frame.locator('.stats__count').innerText()).resolves.toBe('0 signatures');

    await frame.getByRole('textbox', { name: /Your name/ }).fill('Choi Yu-na');
    await frame.getByRole('textbox', { name: /E-mail address/ }).fill(email);
    await frame.getByRole('combobox', { name: /Country/ }).selectOption({ label: 'South Korea' });
    await frame.getByRole('checkbox', { name: /I have read the privacy notice/ }).check();
    await frame.getByRole('button', { name: 'Sign the letter' }).click();

    // The answer comes back inside the frame; the organisation's page stays where it was.
    await frame.waitForURL(`${app.baseUrl}/letters/${letter.slug}/embed/check-your-inbox`);
    await expect(frame.locator('h1').innerText()).resolves.toBe('Check your inbox');
    expect(page.url()).toBe(`${siteUrl}/`);
    // The platform set no cookie in the frame: nothing third-party.
    await expect(context.cookies(app.baseUrl)).resolves.toEqual([]);

    // The mail worker sends the confirmation, as for any signature.
    const deadline = Date.now() + 15_000;
    while (capturedMailTo(app, email).length === 0 && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 200));
    const [mail] = capturedMailTo(app, email);
    expect(mail, 'the confirmation e-mail').toBeDefined();
    expect(mail).toContain('/signatures/confirm/');
    await context.close();
  });

  it('grows the frame to the whole form, in the longest language on a phone, so the button is never hidden inside it', async () => {
    // The frame's own first load (lazy, so perhaps after the page's) ends before it is sent elsewhere:
    // going to the Ukrainian form meanwhile was cut short by it now and then.
    const { context, page, frame } = await formOnTheSite({ width: 360, height: 800 });
    await frame.goto(`${app.baseUrl}/letters/${letter.slug}/embed?lang=uk`);
    await frame.waitForSelector('form');
    // The fallback height (110rem) is what it starts from; the embed's message sets its own.
    await frameFitsItsPage(page, frame);
    // Nothing scrolls inside the frame: the button is reached by scrolling the organisation's page.
    const inner = await frame.evaluate<{ scroll: number; view: number }>(
      '({ scroll: document.documentElement.scrollHeight, view: window.innerHeight })',
    );
    expect(inner.scroll).toBeLessThanOrEqual(inner.view + 1);
    const button = frame.getByRole('button', { name: 'Підписати лист' });
    await button.scrollIntoViewIfNeeded();
    await expect(button.isVisible()).resolves.toBe(true);
    await context.close();
  });

  it('brings the top of the frame into view with the error summary when a signature is refused', async () => {
    const { context, page, frame } = await formOnTheSite({ width: 400, height: 900 });
    await signInFrame(frame, 'not-an-address');
    await frame.waitForSelector('.error-summary');
    // The supporter sees what went wrong: Chromium will not autofocus it in a frame of another site, so
    // the organisation's page scrolls to the frame's top when the new page in it says its height.
    await expect
      .poll(async () => {
        const at = await placeInViewport(page, frame, '.error-summary');
        return at.frameTop >= -1 && at.top >= 0 && at.bottom <= at.viewport;
      })
      .toBe(true);
    // And focused, as on the letter page: Tab goes on to its links, a screen reader reads it.
    await expect
      .poll(() => frame.evaluate<string>('document.activeElement?.className ?? ""'))
      .toBe('error-summary');
    await context.close();
  });

  it('shrinks the frame to "check your inbox" after signing, and brings it into view', async () => {
    const { context, page, frame } = await formOnTheSite({ width: 400, height: 900 });
    const iframe = page.locator('iframe');
    // The form's own height first (the fallback of 110rem until the embed says it).
    const formHeight = await frameFitsItsPage(page, frame);

    await signInFrame(frame, 'embed-shrink@example.org');
    await frame.waitForURL(`${app.baseUrl}/letters/${letter.slug}/embed/check-your-inbox`);
    // The frame fits the shorter page: no empty block of the form's height under the message.
    await expect
      .poll(async () => {
        const content = await frame.evaluate<number>('document.body.getBoundingClientRect().height');
        const height = (await iframe.boundingBox())?.height ?? 0;
        return height < formHeight && Math.abs(height - content) <= 1;
      })
      .toBe(true);
    await expect
      .poll(async () => {
        const at = await placeInViewport(page, frame, 'h1');
        return at.frameTop >= -1 && at.top >= 0 && at.bottom <= at.viewport;
      })
      .toBe(true);
    await expect(frame.locator('h1').innerText()).resolves.toBe('Check your inbox');
    await context.close();
  });

  it("takes a height only from the platform's origin: the organisation's page posting one changes nothing", async () => {
    const { context, page, frame } = await formOnTheSite({ width: 400, height: 900 });
    const iframe = page.locator('iframe');
    const before = await frameFitsItsPage(page, frame);
    await page.evaluate('window.scrollTo(0, 1200)');
    // Another script on the site (or a frame of another site) says a new page of 300 px.
    await page.evaluate(
      'window.postMessage({ type: "undersigned:embed-height", height: 300, fresh: true }, "*")',
    );
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await iframe.boundingBox())!.height).toBe(before);
    await expect(page.evaluate<number>('window.scrollY')).resolves.toBe(1200);
    await context.close();
  });

  it('does not render in the frame once the organizer lists only other sites', async () => {
    await app.platform.repositories.letters.setEmbedOrigins(
      letter.id,
      ['https://campaign.example.org'],
      new Date(),
    );
    const context = await browser.newContext();
    const page = await context.newPage();
    const answered = page.waitForResponse((r) => r.url() === `${app.baseUrl}/letters/${letter.slug}/embed`);
    await page.goto(siteUrl);
    const response = await answered;
    expect(response.headers()['content-security-policy']).toContain(
      "frame-ancestors 'self' https://campaign.example.org",
    );
    const frame = await embedFrame(page);
    // Chromium refuses to show it: once the frame has loaded, it holds its error page, with no form and
    // nothing of ours.
    await frame.waitForLoadState('load');
    expect(frame.url()).not.toBe(`${app.baseUrl}/letters/${letter.slug}/embed`);
    await expect(frame.locator('form').count()).resolves.toBe(0);
    await expect(
      frame
        .locator('body')
        .innerText()
        .catch(() => ''),
    ).resolves.not.toContain(TITLE);

    // Opened on its own, the same embed still works (the platform itself may show it).
    const own = await context.newPage();
    await own.goto(`${app.baseUrl}/letters/${letter.slug}/embed`);
    await expect(own.locator('form').count()).resolves.toBe(1);
    await context.close();
  });
});
