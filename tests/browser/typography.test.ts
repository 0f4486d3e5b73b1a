import { readFileSync } from 'node:fs';
import path from 'node:path';
import Handlebars from 'handlebars';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLetter } from '../support/factories.js';
import { launchBrowser, startApp, type RunningApp } from '../support/browser.js';

// Typography is checked where it shows: in a real Chromium with this machine's fonts (DejaVu, and
// fonts-nanum for Hangul, as on a Debian server and in CI), on the letter page and in the document the
// PDF is printed from.

const KOREAN_BODY =
  '<p>{{recipient.salutation}}</p><p>우리는 러시아·우크라이나 전쟁에서 포로가 된 북한군 병사들이 북한으로 강제송환되지 않도록 보호해 주실 것을 요청합니다. 공동-서명인 일동.</p><p>{{signatories}}</p>';
const ENGLISH_BODY =
  '<p>{{recipient.salutation}}</p><p>We, the co-signatories, ask you to protect the captured soldiers.</p><p>{{signatories}}</p>';

/** The width of one hyphen in an element's font, as a share of its font size. */
async function hyphenWidth(page: Page, selector: string): Promise<number> {
  // Page code as a string, as the other browser tests write it: it runs in Chromium, not under Node's types.
  return page.evaluate<number>(`(() => {
    const element = document.querySelector(${JSON.stringify(selector)});
    const probe = document.createElement('span');
    probe.textContent = '-';
    element.appendChild(probe);
    const width = probe.getBoundingClientRect().width / parseFloat(getComputedStyle(probe).fontSize);
    probe.remove();
    return width;
  })()`);
}

/** The computed word-break of the first element a selector finds. */
async function wordBreakOf(page: Page, selector: string): Promise<string> {
  return page.evaluate<string>(
    `getComputedStyle(document.querySelector(${JSON.stringify(selector)})).wordBreak`,
  );
}

describe('typography in Hangul, Cyrillic and Latin', () => {
  let app: RunningApp;
  let browser: Browser;
  let slug: string;

  beforeAll(async () => {
    app = await startApp();
    ({ slug } = await createLetter(app.platform.db, new Date(), {
      texts: [
        {
          language: 'en',
          title: 'Protect the captured soldiers',
          summary: 'A test letter.',
          body: ENGLISH_BODY,
        },
        {
          language: 'ko',
          title: '포로가 된 병사들을 보호해 주십시오',
          summary: '시험 편지.',
          body: KOREAN_BODY,
        },
      ],
    }));
    browser = await launchBrowser();
  });

  afterAll(async () => {
    await browser?.close();
    await app?.close();
  });

  it('keeps a hyphen narrow in the serif letter text, in English and in Korean', async () => {
    const page = await browser.newPage({ baseURL: app.baseUrl });
    try {
      for (const text of ['en', 'ko']) {
        await page.goto(`/letters/${slug}?text=${text}`);
        // A Latin serif hyphen is about a third of an em; NanumMyeongjo's is 0.64 em ("Co−signatories").
        expect(await hyphenWidth(page, '.letter__text')).toBeLessThan(0.45);
      }
    } finally {
      await page.close();
    }
  });

  it('breaks Korean text between words, never inside one', async () => {
    const page = await browser.newPage({ baseURL: app.baseUrl });
    try {
      await page.goto(`/letters/${slug}?text=ko`);
      const wordBreak = await wordBreakOf(page, '.letter__text');
      expect(wordBreak).toBe('keep-all');
      // The English text keeps the usual breaking.
      await page.goto(`/letters/${slug}?text=en`);
      const english = await wordBreakOf(page, '.letter__text');
      expect(english).toBe('normal');
    } finally {
      await page.close();
    }
  });

  it("draws Cyrillic and Latin in the letter text's editing box in a Latin monospace, not Hangul coding fonts", async () => {
    const page = await browser.newPage({ baseURL: app.baseUrl });
    try {
      // Any page with the site's styles: the editing box's font as the editor's own box gets it.
      await page.goto(`/letters/${slug}`);
      const widths = await page.evaluate<Record<string, number>>(`(() => {
        const box = document.createElement('textarea');
        box.className = 'letter-source';
        document.body.appendChild(box);
        const style = getComputedStyle(box);
        const width = (text) => {
          const probe = document.createElement('span');
          probe.style.fontFamily = style.fontFamily;
          probe.style.fontSize = style.fontSize;
          probe.style.whiteSpace = 'pre';
          probe.textContent = text;
          document.body.appendChild(probe);
          const ems = probe.getBoundingClientRect().width / parseFloat(style.fontSize) / text.length;
          probe.remove();
          return ems;
        };
        return { cyrillic: width('Допоможіть'), latin: width('Help them!'), hangul: width('도와주세요') };
      })()`);
      // A Latin monospace gives every letter about 0.6 em; the Korean coding fonts a full em to Cyrillic
      // ("Д о п о м о ж і т ь" in a walkthrough), so Ukrainian text in the box read as if spaced out.
      expect(widths.cyrillic).toBeLessThan(0.7);
      expect(widths.latin).toBeLessThan(0.7);
      // Hangul still comes from a Korean font (a full-width syllable), not a box of missing glyphs.
      expect(widths.hangul).toBeGreaterThan(0.8);
    } finally {
      await page.close();
    }
  });

  it('keeps a hyphen narrow and Korean words whole in the document the PDF is printed from', async () => {
    // The print template with its own styles, as the letter compiler fills it.
    const template = Handlebars.compile(
      readFileSync(path.resolve('templates/documents/letter-print.html.hbs'), 'utf8'),
    );
    const page = await browser.newPage();
    try {
      for (const language of ['en', 'ko', 'uk']) {
        const html = template(
          {
            language,
            letterTitle: 'Co-signatories',
            letterHtml: '<p>Co-signatories · 공동-서명인 · Співпідписанти-учасники</p>',
            testMark: '',
            testBanner: '',
            meta: '',
            intro: [],
            countries: [],
          },
          { helpers: { t: (key: string) => key } },
        );
        await page.setContent(html);
        expect(await hyphenWidth(page, '.letter')).toBeLessThan(0.45);
        const wordBreak = await wordBreakOf(page, '.letter');
        expect(wordBreak).toBe(language === 'ko' ? 'keep-all' : 'normal');
      }
    } finally {
      await page.close();
    }
  });
});
