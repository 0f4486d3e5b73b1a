import { describe, expect, it } from 'vitest';
import { extractLinks } from '../../../server/mail/mailbox.js';

describe('extractLinks', () => {
  it('finds every http and https link, in order of appearance', () => {
    expect(
      extractLinks('Confirm: https://undersigned.example/confirm/abc\nRead: http://localhost:3000/letters/x'),
    ).toEqual(['https://undersigned.example/confirm/abc', 'http://localhost:3000/letters/x']);
  });

  it('lists a link once even when the HTML and the text part both carry it', () => {
    const html = '<a href="https://undersigned.example/c/abc.def">https://undersigned.example/c/abc.def</a>';
    expect(extractLinks(`${html}\nhttps://undersigned.example/c/abc.def`)).toEqual([
      'https://undersigned.example/c/abc.def',
    ]);
  });

  it('decodes &amp; in links taken from HTML attributes', () => {
    expect(extractLinks('<a href="https://x.example/share?a=1&amp;b=2">share</a>')).toEqual([
      'https://x.example/share?a=1&b=2',
    ]);
  });

  it('stops at quotes, angle brackets and white space', () => {
    expect(extractLinks(`<https://a.example/one> 'https://b.example/two' "https://c.example/three"`)).toEqual(
      ['https://a.example/one', 'https://b.example/two', 'https://c.example/three'],
    );
  });

  it('leaves out sentence punctuation after a link', () => {
    expect(
      extractLinks('See https://a.example/page. Or https://b.example/x, or (https://c.example/y); done'),
    ).toEqual(['https://a.example/page', 'https://b.example/x', 'https://c.example/y']);
  });

  it('ignores other schemes and text without links', () => {
    expect(
      extractLinks('mailto:a@example.org ftp://files.example/x javascript:alert(1) www.example.org'),
    ).toEqual([]);
    expect(extractLinks('')).toEqual([]);
  });
});
