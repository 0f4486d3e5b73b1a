import { describe, expect, it } from 'vitest';
import { recipientFields } from '../../../server/letters/merge-fields.js';

/** An embassy listed in English, reading English, with its names typed for the Korean pages. */
const EMBASSY = {
  name: 'Ambassador Jane Doe',
  title: 'Ambassador',
  organisation: 'Embassy of Canada',
  language: 'en',
  salutations: { en: 'Dear Ambassador' },
  names: {
    ko: { name: '제인 도 대사', title: '대사', organisation: '' },
    en: { name: 'Jane', title: '', organisation: '' },
  },
};

describe('recipientFields: how a letter names its recipient', () => {
  it("names them as typed for the letter's language, even their own, since the directory's fields are often English", () => {
    expect(recipientFields(EMBASSY, 'en')).toEqual({
      name: 'Jane',
      title: 'Ambassador',
      organisation: 'Embassy of Canada',
      salutation: 'Dear Ambassador',
    });
  });

  it("names them as typed for another language in a letter in it, each field left empty taken from the directory's", () => {
    expect(recipientFields(EMBASSY, 'ko')).toEqual({
      name: '제인 도 대사',
      title: '대사',
      organisation: 'Embassy of Canada',
      salutation: '존경하는 관계자 여러분께',
    });
  });

  it("keeps the directory's fields in a language nobody typed names for", () => {
    expect(recipientFields(EMBASSY, 'uk')).toMatchObject({
      name: 'Ambassador Jane Doe',
      organisation: 'Embassy of Canada',
    });
  });

  it('leaves every field but the greeting empty without a recipient', () => {
    expect(recipientFields(null, 'en')).toEqual({
      name: '',
      title: '',
      organisation: '',
      salutation: 'Dear Sir or Madam',
    });
  });
});
