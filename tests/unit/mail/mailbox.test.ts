import { describe, expect, it } from 'vitest';
import { attachmentDelivery, extractLinks, previewDocument } from '../../../server/mail/mailbox.js';

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

  it('reads a link with a query as Handlebars escapes it in HTML (&#x3D;) as the same link as in the text part', () => {
    const html =
      '<a href="https://x.example/signatures/confirm/abc.def?lang&#x3D;ko&amp;text&#x3D;uk">확인</a>';
    expect(extractLinks(`${html}\nhttps://x.example/signatures/confirm/abc.def?lang=ko&text=uk`)).toEqual([
      'https://x.example/signatures/confirm/abc.def?lang=ko&text=uk',
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

describe('previewDocument', () => {
  it('makes links and forms open outside the preview frame, from the head of the message', () => {
    expect(
      previewDocument('<!doctype html><html><head lang="en"><title>x</title></head><body>b</body></html>'),
    ).toBe(
      '<!doctype html><html><head lang="en"><base target="_blank"><title>x</title></head><body>b</body></html>',
    );
  });

  it('puts its base first in a message without a head, and before any base of the message’s own', () => {
    expect(previewDocument('<p><a href="https://x.example/">x</a></p>')).toBe(
      '<base target="_blank"><p><a href="https://x.example/">x</a></p>',
    );
    expect(previewDocument('<HEAD><base target="_self"></HEAD>')).toBe(
      '<HEAD><base target="_blank"><base target="_self"></HEAD>',
    );
  });

  it('is not fooled by a <header> element', () => {
    expect(previewDocument('<header>h</header>')).toBe('<base target="_blank"><header>h</header>');
  });
});

describe('attachmentDelivery', () => {
  it('opens a PDF in the browser, whatever the letter case and parameters of its type', () => {
    expect(attachmentDelivery('application/pdf')).toEqual({ contentType: 'application/pdf', inline: true });
    expect(attachmentDelivery('Application/PDF; name="annex.pdf"')).toEqual({
      contentType: 'application/pdf',
      inline: true,
    });
  });

  it('downloads text and pictures under their own type', () => {
    expect(attachmentDelivery('text/csv')).toEqual({ contentType: 'text/csv', inline: false });
    expect(attachmentDelivery('image/png')).toEqual({ contentType: 'image/png', inline: false });
  });

  it('downloads anything a browser could run as plain bytes', () => {
    for (const type of [
      'text/html',
      'image/svg+xml',
      'application/xhtml+xml',
      'text/xml',
      'application/javascript',
      '',
    ]) {
      expect(attachmentDelivery(type), type).toEqual({
        contentType: 'application/octet-stream',
        inline: false,
      });
    }
  });
});
