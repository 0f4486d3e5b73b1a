import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { templatesDir } from '../../../server/lib/paths.js';

const emails = path.join(templatesDir, 'emails');

/** Links whose text is the address itself (`<a href="{{x}}" …>{{x}}</a>`), with their opening tag. */
function addressLinks(html: string): { address: string; tag: string }[] {
  return [...html.matchAll(/(<a\b[^>]*\bhref="\{\{(\w+)\}\}"[^>]*>)\{\{\2\}\}<\/a>/g)].map(
    ([, tag, address]) => ({
      address: address!,
      tag: tag!,
    }),
  );
}

describe('links written out in e-mails', () => {
  it('wrap on a phone: a signed link is one long word that would widen the message past the screen', () => {
    const files = readdirSync(emails).filter((file) => file.endsWith('.html.hbs'));
    const links = files.flatMap((file) =>
      addressLinks(readFileSync(path.join(emails, file), 'utf8')).map((link) => ({ file, ...link })),
    );
    // The footer's withdraw, privacy and erasure links at least.
    expect(links.length).toBeGreaterThan(5);
    for (const { file, address, tag } of links)
      expect(tag, `${file}: {{${address}}}`).toMatch(/word-break:\s*break-all|overflow-wrap:\s*anywhere/);
  });
});
