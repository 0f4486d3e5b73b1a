import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { createI18n, fixedT, INTERFACE_LANGUAGES } from '../../../server/lib/i18n.js';
import { publicDir } from '../../../server/lib/paths.js';

// The page the reverse proxy answers with when every connection to the app is busy (README, "Behind
// nginx"). It is a static file the proxy reads itself, so nothing renders it from the locales: this keeps
// its texts the same as the app's own 503 page in every interface language.
const page = readFileSync(path.join(publicDir, 'busy.html'), 'utf8');
const i18n = createI18n();

/** The section of the page in `language`. */
function section(language: string): string {
  const match = new RegExp(`<section lang="${language}">([\\s\\S]*?)</section>`).exec(page);
  if (!match) throw new Error(`public/busy.html has no section in ${language}`);
  return match[1]!;
}

describe('the busy page a reverse proxy serves', () => {
  it.each(INTERFACE_LANGUAGES)('says in %s what the app’s own 503 page says', (language) => {
    const t = fixedT(i18n, language);
    const text = section(language);
    expect(text).toContain(`<h1>${t('errors.titles.503')}</h1>`);
    expect(text).toContain(`<p>${t('errors.overloaded')}</p>`);
    expect(text).toContain(`>${t('errors.goHome')}</a>`);
    expect(page).toContain(t('errors.titles.503'));
  });

  it('needs nothing from the app: no script, stylesheet or image to fetch', () => {
    expect(page).not.toMatch(/<script|<link|<img|src=/i);
    expect(page).toContain('name="viewport"');
  });
});
