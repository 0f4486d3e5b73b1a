import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';

const templates = new EmailTemplates(createI18n());

const confirmation = (letterTitle: string, name = 'Kim') =>
  templates.render('signature-confirmation', 'en', {
    name,
    letterTitle,
    letterLanguage: 'ko',
    letterUrl: 'http://localhost/letters/x',
    confirmUrl: 'http://localhost/signatures/confirm/t',
    receiptsUrl: 'http://localhost/signatures/receipts/t',
    withdrawUrl: 'http://localhost/w',
    eraseUrl: 'http://localhost/e',
    privacyUrl: 'http://localhost/p',
  });

describe("a letter's title inside an e-mail's sentence", () => {
  it('is marked with its language in the HTML and left as it is in the text part', () => {
    const email = confirmation('포로를 보호하십시오');
    expect(email.html).toContain('<span lang="ko">포로를 보호하십시오</span>');
    expect(email.text).not.toContain('<span');
    expect(email.text).toContain('포로를 보호하십시오');
  });

  it('stays escaped, as does the sentence around it and every other value', () => {
    const email = confirmation('<b>"Free" & safe</b>', '<i>Kim</i>');
    expect(email.html).toContain('<span lang="ko">&lt;b&gt;&quot;Free&quot; &amp; safe&lt;/b&gt;</span>');
    expect(email.html).not.toContain('<b>');
    expect(email.html).not.toContain('<i>');
    expect(email.html).toContain('&lt;i&gt;Kim&lt;/i&gt;');
  });
});
