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

/** The partials a view includes (`{{> name}}`), written out in it, so the fields they hold are read too. */
function withPartials(html: string): string {
  return html.replace(/\{\{>\s*([\w-]+)[^}]*\}\}/g, (_whole, name: string) =>
    readFileSync(path.join(viewsDir, 'partials', `${name}.hbs`), 'utf8'),
  );
}

describe('forms', () => {
  it("leave checking to the server (novalidate) wherever a field has rules a browser would check in its own language", () => {
    // A settings form without novalidate stopped a 0 with Chromium's bubble in the browser's language,
    // not the page's, and the translated message beside the field never came. Search forms too: a
    // browser checks a GET form's fields as well.
    const checkedByTheBrowser: string[] = [];
    let forms = 0;
    for (const file of hbsFiles(viewsDir)) {
      const html = withPartials(readFileSync(file, 'utf8'));
      for (const form of html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)) {
        forms += 1;
        const [, attributes, inner] = form;
        if (/\snovalidate\b/i.test(attributes!)) continue;
        if (BROWSER_CHECKED.test(inner!))
          checkedByTheBrowser.push(`${path.relative(viewsDir, file)}: <form${attributes}>`);
      }
    }
    // Every view's forms were read (the signing form, the editor, the exports, the settings…).
    expect(forms).toBeGreaterThan(50);
    expect(checkedByTheBrowser).toEqual([]);
  });
});
