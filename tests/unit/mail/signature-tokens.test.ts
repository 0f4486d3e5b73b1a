import { describe, expect, it } from 'vitest';
import { randomRef } from '../../../server/lib/ids.js';
import { refFromToken, signatureToken } from '../../../server/mail/signature-tokens.js';

const SECRET = 'unit-secret-unit-secret-unit-secret-01';

/** The same string with one character at `index` replaced by a different base64url character. */
function flip(text: string, index: number): string {
  const at = index < 0 ? text.length + index : index;
  const replacement = text[at] === 'A' ? 'B' : 'A';
  return text.slice(0, at) + replacement + text.slice(at + 1);
}

describe('signature tokens in e-mail links', () => {
  it('gives back the signature reference it was made for', () => {
    const ref = randomRef();
    expect(refFromToken(SECRET, signatureToken(SECRET, ref, 'confirm'), 'confirm')).toBe(ref);
    expect(refFromToken(SECRET, signatureToken(SECRET, ref, 'withdraw'), 'withdraw')).toBe(ref);
  });

  it('is the same for the same signature each time, so a re-sent link is still valid', () => {
    const ref = randomRef();
    expect(signatureToken(SECRET, ref, 'confirm')).toBe(signatureToken(SECRET, ref, 'confirm'));
    expect(signatureToken(SECRET, ref, 'confirm')).toMatch(new RegExp(`^${ref}\\.[A-Za-z0-9_-]{32}$`));
  });

  it('does not accept a confirm token as a withdraw token, or the other way round', () => {
    const ref = randomRef();
    const confirm = signatureToken(SECRET, ref, 'confirm');
    const withdraw = signatureToken(SECRET, ref, 'withdraw');
    expect(confirm).not.toBe(withdraw);
    expect(refFromToken(SECRET, confirm, 'withdraw')).toBeNull();
    expect(refFromToken(SECRET, withdraw, 'confirm')).toBeNull();
  });

  it('refuses a token whose mac was altered', () => {
    const token = signatureToken(SECRET, randomRef(), 'confirm');
    expect(refFromToken(SECRET, flip(token, -1), 'confirm')).toBeNull();
    expect(refFromToken(SECRET, flip(token, token.indexOf('.') + 1), 'confirm')).toBeNull();
  });

  it('refuses a token whose reference was altered, so one link cannot be turned into another signature', () => {
    const token = signatureToken(SECRET, randomRef(), 'confirm');
    expect(refFromToken(SECRET, flip(token, 0), 'confirm')).toBeNull();
    const [, mac] = token.split('.');
    expect(refFromToken(SECRET, `${randomRef()}.${mac}`, 'confirm')).toBeNull();
  });

  it('refuses a token made with another secret', () => {
    const ref = randomRef();
    const forged = signatureToken('another-secret-another-secret-another', ref, 'confirm');
    expect(refFromToken(SECRET, forged, 'confirm')).toBeNull();
  });

  it('refuses malformed strings without throwing', () => {
    const ref = randomRef();
    const good = signatureToken(SECRET, ref, 'confirm');
    const malformed = [
      '',
      '.',
      ref,
      `${ref}.`,
      `.${good.split('.')[1]}`,
      `${good}.extra`,
      `${good}A`,
      good.slice(0, -1),
      ` ${good}`,
      `${good}\n`,
      good.replace('.', '/'),
      `${ref}.${'+'.repeat(32)}`,
      `${ref}.${'='.repeat(32)}`,
      '../../etc/passwd',
      'x'.repeat(5000),
    ];
    for (const token of malformed)
      expect(refFromToken(SECRET, token, 'confirm'), JSON.stringify(token)).toBeNull();
  });

  it('refuses a reference shorter than 16 characters even with a valid mac', () => {
    const short = 'abcdefghijklmno';
    expect(refFromToken(SECRET, signatureToken(SECRET, short, 'confirm'), 'confirm')).toBeNull();
  });
});
