import { readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import type { Config } from '../../server/config.js';
import { systemClock, type Clock } from '../../server/lib/clock.js';
import type { Platform } from '../../server/wiring.js';
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
 * at /dev/mailbox.
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
