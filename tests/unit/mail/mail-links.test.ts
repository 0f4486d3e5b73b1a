import { describe, expect, it } from 'vitest';
import { randomRef } from '../../../server/lib/ids.js';
import { MailLinks } from '../../../server/mail/mail-links.js';

const links = new MailLinks('https://letters.example.org', 'unit-secret-unit-secret-unit-secret-01');

/** The token at the end of a link. */
const tokenOf = (url: string) => url.slice(url.lastIndexOf('/') + 1);

describe('the links in the platform e-mails', () => {
  it('builds each signed link on its own path, and reads its token back to the signature for that purpose only', () => {
    const ref = randomRef();
    const signed = {
      confirm: links.confirmUrl(ref),
      withdraw: links.withdrawUrl(ref),
      erase: links.eraseUrl(ref),
      unsubscribe: links.unsubscribeUrl(ref),
    } as const;
    expect(signed.confirm).toMatch(
      /^https:\/\/letters\.example\.org\/signatures\/confirm\/[\w-]+\.[\w-]{32}$/,
    );
    expect(signed.withdraw).toMatch(/^https:\/\/letters\.example\.org\/signatures\/withdraw\//);
    expect(signed.erase).toMatch(/^https:\/\/letters\.example\.org\/privacy\/erase\//);
    expect(signed.unsubscribe).toMatch(/^https:\/\/letters\.example\.org\/signatures\/unsubscribe\//);
    for (const [purpose, url] of Object.entries(signed)) {
      for (const other of Object.keys(signed) as (keyof typeof signed)[]) {
        expect(links.refFrom(tokenOf(url), other), `${purpose} link read as ${other}`).toBe(
          other === purpose ? ref : null,
        );
      }
    }
  });

  it("gives a supporter's footer the withdraw, erase and privacy links of that signature", () => {
    const ref = randomRef();
    expect(links.supporterFooter(ref)).toEqual({
      withdrawUrl: links.withdrawUrl(ref),
      eraseUrl: links.eraseUrl(ref),
      privacyUrl: 'https://letters.example.org/privacy',
    });
  });

  it('builds the unsigned links from the public URL', () => {
    expect(links.letterUrl('let-them-choose')).toBe('https://letters.example.org/letters/let-them-choose');
    expect(links.editorUrl(12)).toBe('https://letters.example.org/admin/letters/12');
    expect(links.invitationUrl('abc')).toBe('https://letters.example.org/account/invite/abc');
    expect(links.passwordResetUrl('abc')).toBe('https://letters.example.org/account/reset/abc');
  });

  it("keeps the e-mail's language (?lang=) on every link, and the text the supporter read (?text=) where a letter follows", () => {
    const ref = randomRef();
    const korean = { interface: 'ko', text: 'uk' };
    const query = (url: string) => Object.fromEntries(new URL(url).searchParams);
    expect(query(links.confirmUrl(ref, korean))).toEqual({ lang: 'ko', text: 'uk' });
    expect(query(links.withdrawUrl(ref, korean))).toEqual({ lang: 'ko', text: 'uk' });
    expect(query(links.letterUrl('let-them-choose', korean))).toEqual({ lang: 'ko', text: 'uk' });
    expect(query(links.eraseUrl(ref, korean))).toEqual({ lang: 'ko' });
    expect(query(links.unsubscribeUrl(ref, korean))).toEqual({ lang: 'ko' });
    expect(query(links.privacyUrl(korean))).toEqual({ lang: 'ko' });
    expect(links.supporterFooter(ref, korean)).toEqual({
      withdrawUrl: links.withdrawUrl(ref, korean),
      eraseUrl: links.eraseUrl(ref, korean),
      privacyUrl: 'https://letters.example.org/privacy?lang=ko',
    });
    // The token is the path's last segment: the query never changes what it reads back to.
    const confirm = new URL(links.confirmUrl(ref, korean));
    expect(links.refFrom(tokenOf(confirm.pathname), 'confirm')).toBe(ref);
    expect(links.editorUrl(12, 'uk')).toBe('https://letters.example.org/admin/letters/12?lang=uk');
    expect(links.passwordResetUrl('abc', 'ko')).toBe('https://letters.example.org/account/reset/abc?lang=ko');
    expect(links.invitationUrl('abc', 'ko')).toBe('https://letters.example.org/account/invite/abc?lang=ko');
  });
});
