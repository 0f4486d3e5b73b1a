import { describe, expect, it } from 'vitest';
import type { Recipient } from '../../../server/recipients/recipient.js';
import { languageFallbacks } from '../../../server/letters/letter-editor-view.js';
import {
  changeLanguages,
  editorValues,
  languageChange,
  LIMITS,
  previewChoice,
} from '../../../server/letters/letter-input.js';

const complete = { title: 'T', summary: 'S', body: 'B' };
const recipient = (name: string, language: string) => ({ id: 1, name, language }) as Recipient;

describe("the editor form's preview choices", () => {
  it('reads a recipient id, a letter language and real signatories', () => {
    expect(
      previewChoice({ preview_recipient: '12', preview_language: 'ko', preview_signatories: 'real' }),
    ).toEqual({ recipientId: 12, language: 'ko', signatories: 'real' });
  });

  it.each([
    ['nothing', {}],
    ['a zero id and an unknown language', { preview_recipient: '0', preview_language: 'xx' }],
    ['an id in exponent notation', { preview_recipient: '1e3' }],
    ['an id too long to be one', { preview_recipient: '9'.repeat(40) }],
    ['an id past the 32-bit ids of the database', { preview_recipient: '2147483648' }],
    ['markup as the signatories', { preview_signatories: '<script>' }],
    ['lists where one value is expected', { preview_recipient: ['1', '2'], preview_language: ['en'] }],
  ])('falls back to the first recipient, its language and sample signatories for %s', (_, body) => {
    expect(previewChoice(body)).toEqual({
      recipientId: undefined,
      language: undefined,
      signatories: 'sample',
    });
  });
});

describe("the editor form's recipients", () => {
  it('keeps the ids the database can hold and drops the rest, so no query fails on a forged one', () => {
    const values = editorValues({
      primary_language: 'en',
      languages: ['en'],
      recipients: ['12', '2147483647', '2147483648', '9999999999999999', '0', '1e3', '12'],
    });
    expect(values.recipientIds).toEqual([12, 2147483647]);
  });
});

describe("the editor's translation buttons, which change the form and save nothing", () => {
  const values = editorValues({ primary_language: 'en', languages: ['en', 'ko'] });

  it('adds a letter language once, with empty texts', () => {
    const added = changeLanguages(values, languageChange('add-language', { new_language: 'uk' })!);
    expect(added.languages).toEqual(['en', 'ko', 'uk']);
    expect(added.texts.uk).toEqual({ title: '', summary: '', body: '' });
    expect(changeLanguages(added, { add: 'uk' }).languages).toEqual(['en', 'ko', 'uk']);
  });

  it('ignores a language that is not a letter language, and stops at the limit', () => {
    expect(changeLanguages(values, { add: '__proto__' })).toBe(values);
    const full = { ...values, languages: Array.from({ length: LIMITS.languages }, (_, i) => `l${i}`) };
    expect(changeLanguages(full, { add: 'uk' })).toBe(full);
  });

  it('removes a translation but never the primary one', () => {
    expect(changeLanguages(values, languageChange('remove-language:ko', {})!).languages).toEqual(['en']);
    expect(changeLanguages(values, { remove: 'en' })).toBe(values);
  });

  it('is no language change for the other buttons', () => {
    expect(languageChange('save', {})).toBeUndefined();
    expect(languageChange('preview', {})).toBeUndefined();
  });
});

describe('the recipients the editor warns will get another language', () => {
  it('follows the one language fallback: a complete translation in their language, else the primary one', () => {
    const values = {
      ...editorValues({ primary_language: 'en', languages: ['en', 'ko'] }),
      texts: { en: complete, ko: { ...complete, body: '' } },
    };
    const warned = languageFallbacks(values, [recipient('Ministry', 'ko'), recipient('Embassy', 'en')], 'en');
    expect(warned).toEqual([{ name: 'Ministry', wants: 'Korean', gets: 'English' }]);
  });

  it('names the complete translation they get when the primary one is not complete either', () => {
    const values = {
      ...editorValues({ primary_language: 'en', languages: ['en', 'uk'] }),
      texts: { en: { ...complete, summary: '' }, uk: complete },
    };
    expect(languageFallbacks(values, [recipient('Ministry', 'ko')], 'en')).toEqual([
      { name: 'Ministry', wants: 'Korean', gets: 'Ukrainian' },
    ]);
  });
});
