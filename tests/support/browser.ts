import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expect } from 'vitest';
import type { Config } from '../../server/config.js';
import { systemClock, type Clock } from '../../server/lib/clock.js';
import type { Platform } from '../../server/wiring.js';
import { TEST_PASSWORD } from './accounts.js';
import { freePort } from './free-port.js';
import { createTestPlatform } from './test-platform.js';

/**
 * Debian Chromium through playwright-core (never `npx playwright install`: it cannot download here).
 * The networking flags keep Chromium from calling home on a machine whose network is closed.
 */
export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-quic',
      '--no-first-run',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export interface RunningApp {
  /** http://127.0.0.1:<port>, also the PUBLIC_URL the links in e-mails start with. */
  baseUrl: string;
  platform: Platform;
  config: Config;
  dataDir: string;
  close(): Promise<void>;
}

/**
 * The real app listening on loopback, as a new user gets it: a fresh SQLite file, the mail worker
 * running in the process, and no SMTP_URL, so mail goes to the embedded capture server and is read
 * at /admin/mailbox, by an admin.
 */
export async function startApp(options: { clock?: Clock } = {}): Promise<RunningApp> {
  // Links in e-mails are built from PUBLIC_URL, so it must name the port the server listens on.
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const t = await createTestPlatform({
    mail: 'capture',
    env: { PUBLIC_URL: baseUrl },
    clock: options.clock ?? systemClock,
  });
  const server: Server = await new Promise((resolve, reject) => {
    const s = t.app.listen(port, '127.0.0.1', (error?: Error) => (error ? reject(error) : resolve(s)));
  });
  t.platform.worker!.start();
  return {
    baseUrl,
    platform: t.platform,
    config: t.config,
    dataDir: t.dataDir,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Chromium keeps connections alive; the server closes only once they are gone.
      server.closeAllConnections();
      await closed;
      await t.close();
    },
  };
}

export interface AxeViolation {
  id: string;
  impact: 'minor' | 'moderate' | 'serious' | 'critical' | null;
  help: string;
  helpUrl: string;
  nodes: { target: unknown[]; failureSummary?: string }[];
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/**
 * Runs axe-core on the page as it is now (WCAG 2.x A and AA rules and best practices) and returns
 * its violations. The app's CSP forbids inline scripts, so axe is evaluated through the DevTools
 * protocol, which the page's CSP does not govern, instead of being added as a script tag.
 */
export async function axeViolations(page: Page): Promise<AxeViolation[]> {
  await page.evaluate(axeSource);
  return page.evaluate<AxeViolation[]>(`
    axe.run(document, { resultTypes: ['violations'] }).then((results) =>
      results.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        helpUrl: v.helpUrl,
        nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
      })),
    )
  `);
}

/** The serious and critical violations only, the ones a supporter with a disability would be stopped by. */
export function seriousViolations(violations: AxeViolation[]): AxeViolation[] {
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/** A readable account of violations for a failure message. */
export function describeViolations(violations: AxeViolation[]): string {
  return violations
    .map(
      (v) =>
        `[${v.impact ?? 'unknown'}] ${v.id}: ${v.help} (${v.helpUrl})\n` +
        v.nodes
          .map((n) => `    ${JSON.stringify(n.target)}: ${(n.failureSummary ?? '').replace(/\n/g, ' ')}`)
          .join('\n'),
    )
    .join('\n');
}

/** A phone, as the layout tests hold one: 375 px wide, with touch. */
export const PHONE = { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true } as const;

/** A fresh browser profile (its own cookies) on the app, on a 1280×900 screen unless told otherwise. */
export function newContext(
  browser: Browser,
  app: Pick<RunningApp, 'baseUrl'>,
  options: Parameters<Browser['newContext']>[0] = {},
): Promise<BrowserContext> {
  return browser.newContext({ baseURL: app.baseUrl, viewport: { width: 1280, height: 900 }, ...options });
}

/** Logs an account in through the login form, as a person would, and waits for the dashboard. */
export async function logIn(page: Page, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.goto('/login');
  await submitLogin(page, email, password);
  await page.waitForURL(/\/admin$/);
}

/** Fills in and sends the login form the page shows now (where a redirect led, with its `next`). */
export async function submitLogin(page: Page, email: string, password = TEST_PASSWORD): Promise<void> {
  await page.getByRole('textbox', { name: 'E-mail address' }).fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Log in' }).click();
}

/** Fails, naming each one, when axe-core finds serious or critical violations on the page as it is now. */
export async function expectNoSeriousViolations(page: Page): Promise<void> {
  const serious = seriousViolations(await axeViolations(page));
  expect(
    serious,
    `axe found serious or critical violations on ${page.url()}:\n${describeViolations(serious)}`,
  ).toEqual([]);
}

/** The page's full width and the window's, to tell whether the reader has to scroll sideways. */
export async function pageWidths(page: Page): Promise<{ scroll: number; inner: number }> {
  return page.evaluate<{ scroll: number; inner: number }>(
    '({ scroll: document.scrollingElement.scrollWidth, inner: window.innerWidth })',
  );
}

/** The first elements in <main> that are wider than the window, to name in a failure message. */
export async function overflowingElements(page: Page): Promise<string[]> {
  return page.evaluate<string[]>(`(() => {
    const width = document.documentElement.clientWidth;
    return [...document.querySelectorAll('main *')]
      .filter((el) => el.getBoundingClientRect().right > width + 0.5)
      .slice(0, 10)
      .map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '') + (typeof el.className === 'string' && el.className ? '.' + el.className.split(' ').join('.') : ''));
  })()`);
}

/** Reloads `page` until `ready` says what it waits for is on it (the worker and scheduler run in the background). */
export async function reloadUntil(
  page: Page,
  ready: () => Promise<boolean>,
  what: string,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await ready())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(150);
    await page.reload();
  }
}

/** Reloads the captured-mail page until a message to `address` is listed. */
export async function waitForMailTo(page: Page, address: string): Promise<void> {
  const row = page.locator('table.mailbox tbody tr', { hasText: address });
  await reloadUntil(
    page,
    async () => (await row.count()) > 0,
    `mail to ${address} in /admin/mailbox`,
    15_000,
  );
}
