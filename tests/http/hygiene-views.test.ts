import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { viewsDir } from '../../server/lib/paths.js';

/** Every view outside the partials, as its path under views/ and its source. */
function views(): { name: string; source: string }[] {
  return readdirSync(viewsDir, { recursive: true, encoding: 'utf8' })
    .filter((file) => file.endsWith('.hbs') && !file.startsWith(`partials${path.sep}`))
    .map((name) => ({ name, source: readFileSync(path.join(viewsDir, name), 'utf8') }));
}

describe('views share one way of doing the things every page does', () => {
  it('finds the views', () => {
    expect(views().map((v) => v.name)).toContain(path.join('layouts', 'main.hbs'));
  });

  it('say a form’s errors only through the error summary partial (one markup, one focus behaviour)', () => {
    const handWritten = views().filter((v) => /class="error-summary/.test(v.source));
    expect(handWritten.map((v) => v.name)).toEqual([]);
  });

  it('show the notice after a redirect only through the notice partial', () => {
    const handWritten = views().filter((v) => /\{\{#if notice\}\}/.test(v.source));
    expect(handWritten.map((v) => v.name)).toEqual([]);
  });

  it('set the page title one way: pageTitle, never the older titleKey or titleText', () => {
    const older = views().filter((v) => /\b(titleKey|titleText)\b/.test(v.source));
    expect(older.map((v) => v.name)).toEqual([]);
  });
});
