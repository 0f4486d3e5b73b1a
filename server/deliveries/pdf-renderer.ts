import { accessSync, constants } from 'node:fs';
import type { Browser } from 'playwright-core';
import type { Logger } from '../lib/logger.js';

/** Turns an HTML document into a PDF; `available` is false when no Chromium can be run here. */
export interface PdfRenderer {
  readonly available: boolean;
  render(html: string): Promise<Buffer>;
  close(): Promise<void>;
}

/** Whether a Chromium binary is at this path and may be executed. */
export function chromiumAt(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * PDFs through headless Chromium (Debian's `chromium`, driven by playwright-core). One browser is
 * started on first use and kept for the process, each document gets its own page; fonts come from the
 * system (fonts-nanum for Korean, DejaVu for Cyrillic), and the text stays selectable in the PDF.
 */
export class ChromiumPdfRenderer implements PdfRenderer {
  readonly available: boolean;
  private browser: Promise<Browser> | undefined;

  constructor(
    /** The Chromium binary: the compile worker starts its own renderer with it (letter-compile-worker.ts). */
    readonly executablePath: string,
    private readonly logger: Logger,
  ) {
    this.available = chromiumAt(executablePath);
  }

  private launch(): Promise<Browser> {
    this.browser ??= import('playwright-core').then(({ chromium }) =>
      chromium.launch({
        executablePath: this.executablePath,
        // Flags for a sandboxed server without a display or outside network (see DESIGN.md).
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-dev-shm-usage',
        ],
      }),
    );
    this.browser.catch(() => {
      this.browser = undefined;
    });
    return this.browser;
  }

  async render(html: string): Promise<Buffer> {
    if (!this.available) throw new Error(`no Chromium at ${this.executablePath}`);
    const browser = await this.launch();
    const context = await browser.newContext({ javaScriptEnabled: false, offline: true });
    try {
      const page = await context.newPage();
      await page.setContent(html, { waitUntil: 'load' });
      // Tagged (a structure tree and the document's language, /Lang from <html lang>) and with an
      // outline of its headings: a screen reader reads an untagged PDF as one run of unlabelled text.
      return await page.pdf({
        format: 'A4',
        printBackground: true,
        preferCSSPageSize: true,
        tagged: true,
        outline: true,
      });
    } finally {
      await context.close();
    }
  }

  async close(): Promise<void> {
    const browser = this.browser;
    this.browser = undefined;
    if (browser) {
      try {
        await (await browser).close();
      } catch (error) {
        this.logger.warn({ err: error }, 'could not close Chromium');
      }
    }
  }
}

/** A renderer for hosts without Chromium: letters go without the PDF. */
export const noPdf: PdfRenderer = {
  available: false,
  render: () => Promise.reject(new Error('PDF rendering is off')),
  close: () => Promise.resolve(),
};
