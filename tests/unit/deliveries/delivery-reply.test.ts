import { describe, expect, it } from 'vitest';
import {
  capText,
  deliveryOfReplyAddress,
  isAutomatic,
  oneLine,
  parseReplyAddress,
  publicReplyText,
  publishRefusal,
  replyAddressOf,
  replyTag,
  fieldCountsOf,
  senderDomainOf,
} from '../../../server/deliveries/delivery-reply.js';
import { quote } from '../../../server/deliveries/delivery-reply-receiver.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const BASE = 'replies@undersigned.example.org';

describe("a delivery's reply address", () => {
  it('names the delivery with a tag only the platform can make', () => {
    const address = replyAddressOf(SECRET, BASE, 42);
    expect(address).toMatch(/^replies\+d42-[0-9a-f]{16}@undersigned\.example\.org$/);
    expect(deliveryOfReplyAddress(SECRET, BASE, address)).toBe(42);
    // A relay that changes the case still brings it home.
    expect(deliveryOfReplyAddress(SECRET, BASE, address.toUpperCase())).toBe(42);
  });

  it('refuses a forged tag, another delivery’s tag, another secret and other addresses', () => {
    const tag = replyTag(SECRET, 42);
    expect(
      deliveryOfReplyAddress(SECRET, BASE, `replies+d43-${tag}@undersigned.example.org`),
    ).toBeUndefined();
    expect(
      deliveryOfReplyAddress(SECRET, BASE, 'replies+d42-0000000000000000@undersigned.example.org'),
    ).toBeUndefined();
    expect(
      deliveryOfReplyAddress('another-secret-another-secret-0123456', BASE, replyAddressOf(SECRET, BASE, 42)),
    ).toBeUndefined();
    for (const address of [
      `replies+d42-${tag}@elsewhere.example.org`,
      `bounces+d42-${tag}@undersigned.example.org`,
      `replies+m42-${tag}@undersigned.example.org`,
      'replies@undersigned.example.org',
      `replies+d42-${tag}`,
    ])
      expect(parseReplyAddress(address, BASE), address).toBeUndefined();
  });
});

describe('automatic replies', () => {
  it('are told by RFC 3834, Precedence, the marks of mail programs, reports and out-of-office subjects', () => {
    for (const headers of [
      { autoSubmitted: 'auto-replied' },
      { autoSubmitted: 'auto-generated' },
      { precedence: 'bulk' },
      { precedence: 'auto_reply' },
      { autoReplyMark: true },
      { contentType: 'multipart/report' },
      { from: 'MAILER-DAEMON@mx.example.org' },
      { subject: 'Out of Office: Re: Let them choose' },
      { subject: 'Automatic reply: your letter' },
      { subject: '부재 중: 서한' },
      { subject: 'Автовідповідь: лист' },
    ])
      expect(isAutomatic(headers), JSON.stringify(headers)).toBe(true);
  });

  it('leave a reply a person wrote as it is', () => {
    for (const headers of [
      {},
      { autoSubmitted: 'no' },
      { subject: 'Re: Let them choose freedom', from: 'consul@example.org', contentType: 'text/plain' },
      { subject: 'About the office visit', precedence: '' },
    ])
      expect(isAutomatic(headers), JSON.stringify(headers)).toBe(false);
  });
});

describe('what is kept and published of a reply', () => {
  it('cuts a long text on a whole character and says so', () => {
    expect(capText('abc', 10)).toBe('abc');
    const cut = capText('a'.repeat(20), 10);
    expect(cut).toHaveLength(10);
    expect(cut.endsWith('[…]')).toBe(true);
    // A character outside the basic plane is never split in two.
    const emoji = capText(`${'a'.repeat(5)}${'😀'.repeat(10)}`, 12);
    expect(emoji).not.toMatch(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])/);
  });

  it('keeps one line of a subject or name, without control characters', () => {
    expect(oneLine(' Re:\r\n  the\u0000letter ')).toBe('Re: the letter');
    expect(oneLine('x'.repeat(400)).length).toBeLessThanOrEqual(300);
  });

  it('publishes the text without quoted lines or any e-mail address', () => {
    const text = publicReplyText(
      'Thank you.\nWrite to consul@embassy.example.org or <desk@mfa.example>.\n\n\n\nOn Monday, letters@undersigned.example.org wrote:\n> Dear Ambassador,\n>\n> We ask you',
    );
    expect(text).toBe('Thank you.\nWrite to […] or <[…]>.\n\nOn Monday, […] wrote:');
  });

  it('never publishes the original letter a mail program copied below the answer without quoting it', () => {
    const annex = 'Signatories\n1. Kim Ji-hoon (KR)\n2. Olena Kovalenko (UA)';
    const outlook = `Thank you for your letter.\n\nRegards,\nDesk officer\n\n-----Original Message-----\nFrom: Undersigned <letters@undersigned.example.org>\nSent: Monday\nSubject: Open letter\n\nDear Ambassador,\n${annex}`;
    const headersOnly = `We will reply in writing.\n\n________________________________\nFrom: Undersigned\n${annex}`;
    const korean = `감사합니다.\n\n보낸 사람: Undersigned <letters@undersigned.example.org>\n보낸 날짜: 2026년 12월 6일\n제목: 공개 서한\n\n${annex}`;
    const ukrainian = `Дякуємо.\n\n-----Оригінальне повідомлення-----\nВід: Undersigned\n${annex}`;
    expect(publicReplyText(outlook)).toBe('Thank you for your letter.\n\nRegards,\nDesk officer');
    expect(publicReplyText(headersOnly)).toBe('We will reply in writing.');
    expect(publicReplyText(korean)).toBe('감사합니다.');
    expect(publicReplyText(ukrainian)).toBe('Дякуємо.');
    // An answer that mentions a sender or a date in its own words keeps them.
    expect(publicReplyText('From: the consul\nWe met your delegation.\nDate: to be set')).toBe(
      'From: the consul\nWe met your delegation.\nDate: to be set',
    );
  });

  it('is never published when automatic or an answer to a test', () => {
    expect(publishRefusal({ automatic: true, roundKind: 'delivery' })).toBe('automatic');
    expect(publishRefusal({ automatic: false, roundKind: 'test' })).toBe('test');
    expect(publishRefusal({ automatic: false, roundKind: 'update' })).toBeNull();
  });

  it('is quoted in a forward as mail programs quote', () => {
    expect(quote('Thank you.\n\nRegards')).toBe('> Thank you.\n>\n> Regards');
  });
});

describe('the domain that vouches for a reply sender', () => {
  /** A reply with one From, Subject and Content-Type, as most are. */
  const ONCE = fieldCountsOf([{ key: 'from' }, { key: 'to' }, { key: 'subject' }, { key: 'content-type' }]);
  const pass = (
    aligned: string | boolean,
    signingDomain = 'embassy.example.org',
    keys = 'From: To: Subject: Content-Type',
  ) => ({
    signingDomain,
    signingHeaders: { keys },
    status: { result: 'pass', aligned },
  });

  it('is that of a signature that verified, is aligned with the From and covers what is shown, lower case', () => {
    expect(senderDomainOf([pass('Embassy.Example.ORG')], ONCE)).toBe('embassy.example.org');
    // mailauth's types say boolean: then the signing domain is the aligned one.
    expect(senderDomainOf([pass(true, 'mfa.example.gov')], ONCE)).toBe('mfa.example.gov');
  });

  it('is none for a signature that failed, did not verify, or names another domain than the From', () => {
    const failing = (result: string) => ({
      signingHeaders: { keys: 'From: Subject: Content-Type' },
      status: { result, aligned: 'embassy.example.org' },
    });
    expect(senderDomainOf([], ONCE)).toBeNull();
    for (const result of ['fail', 'neutral', 'temperror', 'policy'])
      expect(senderDomainOf([failing(result)], ONCE), result).toBeNull();
    expect(senderDomainOf([pass(false, 'bulk-mailer.example.com')], ONCE)).toBeNull();
  });

  it('is none when the signature leaves part of what is shown unsigned', () => {
    // l=: the body after the signed length is anyone's.
    expect(
      senderDomainOf([{ ...pass('embassy.example.org'), canonBodyLengthLimited: true }], ONCE),
    ).toBeNull();
    // The subject, or how the body is read, not covered.
    expect(
      senderDomainOf([pass('embassy.example.org', 'embassy.example.org', 'From: To: Content-Type')], ONCE),
    ).toBeNull();
    expect(
      senderDomainOf([pass('embassy.example.org', 'embassy.example.org', 'From: Subject')], ONCE),
    ).toBeNull();
    // A field the reply does not have need not be covered.
    const noType = fieldCountsOf([{ key: 'from' }, { key: 'subject' }]);
    expect(
      senderDomainOf([pass('embassy.example.org', 'embassy.example.org', 'From: Subject')], noType),
    ).toBe('embassy.example.org');
  });

  it('is none when a shown field appears twice: a copy added above a signed message is what would be read', () => {
    const twice = fieldCountsOf([
      { key: 'Subject' },
      { key: 'from' },
      { key: 'subject' },
      { key: 'content-type' },
    ]);
    expect(senderDomainOf([pass('embassy.example.org')], twice)).toBeNull();
    const twoFroms = fieldCountsOf([
      { key: 'from' },
      { key: 'From' },
      { key: 'subject' },
      { key: 'content-type' },
    ]);
    expect(senderDomainOf([pass('embassy.example.org')], twoFroms)).toBeNull();
  });

  it("takes the aligned one among several signatures (a mailing service's and the sender's own)", () => {
    expect(senderDomainOf([pass(false, 'bulk-mailer.example.com'), pass('embassy.example.org')], ONCE)).toBe(
      'embassy.example.org',
    );
  });
});
