import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { viewsDir } from '../../../server/lib/paths.js';

/** Every .hbs file under a folder. */
function hbsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (statSync(file).isDirectory()) return hbsFiles(file);
    return name.endsWith('.hbs') ? [file] : [];
  });
}

/** What makes a browser check a field itself before sending: its bubble is in the browser's language. */
const BROWSER_CHECKED = /<(?:input|textarea|select)\b[^>]*(?:\srequired\b|\s(?:min|max|minlength|pattern)=|\stype="(?:email|url|number)")/i;

describe('forms', () => {
  it("leave checking to the server (novalidate) wherever a field has rules a browser would check in its own language", () => {
    // A settings form without novalidate stopped a 0 with Chromium's bubble in the browser's language,
    // not the page's, and the translated message beside the field never came.
    const checkedByTheBrowser: string[] = [];
    for (const file of hbsFiles(viewsDir)) {
      const html = readFileSync(file, 'utf8');
      for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
        const [, attributes, inner] = form;
        if (/\bmethod="get"/i.test(attributes!) || /\snovalidate\b/i.test(attributes!)) continue;
        if (BROWSER_CHECKED.test(inner!))
          checkedByTheBrowser.push(`${path.relative(viewsDir, file)}: <form${attributes}>`);
      }
    }
    expect(checkedByTheBrowser).toEqual([]);
  });
});
