import { describe, expect, it } from 'vitest';
import { LetterCompiler } from '../../../server/deliveries/letter-compiler.js';
import { countryName } from '../../../server/lib/countries.js';
import { createI18n } from '../../../server/lib/i18n.js';
import { EmailTemplates } from '../../../server/mail/email-templates.js';
import { updateInput } from '../../support/compile-input.js';

const i18n = createI18n();
const compiler = new LetterCompiler(new EmailTemplates(i18n), i18n, countryName);

/** An update of a letter in `language` with `signatures` confirmed signatures, `unnamed` of them counted only. */
function update(language: string, signatures: number, unnamed: number) {
  const compiled = compiler.compile(updateInput(language, signatures, signatures - unnamed));
  return { subject: compiled.email.subject, text: compiled.email.text, print: compiled.printHtml };
}

describe('the figures of a delivered letter, in the plural forms of its language', () => {
  it('says "1 signature" and "1 signatory chose…" in English, and the plural from 2 on', () => {
    const one = update('en', 1, 1);
    expect(one.subject).toBe('Update: Title (1 signature)');
    expect(one.text).toContain('now has 1 signature.');
    expect(one.text).toContain('1 signatory chose to be counted without their name or country.');
    expect(one.print).toContain('1 confirmed signature.');
    const two = update('en', 2, 2);
    expect(two.subject).toBe('Update: Title (2 signatures)');
    expect(two.text).toContain('2 signatories chose to be counted without their names or countries.');
    expect(two.print).toContain('2 confirmed signatures.');
  });

  it('says 1 підпис, 3 підписи, 5 підписів, 21 підпис to a Ukrainian official', () => {
    expect(update('uk', 1, 0).subject).toBe('Оновлення: Title (1 підпис)');
    expect(update('uk', 3, 0).subject).toBe('Оновлення: Title (3 підписи)');
    expect(update('uk', 5, 0).subject).toBe('Оновлення: Title (5 підписів)');
    expect(update('uk', 21, 0).subject).toBe('Оновлення: Title (21 підпис)');
    expect(update('uk', 3, 3).text).toContain('3 підписи враховано без імен');
    expect(update('uk', 5, 1).text).toContain('1 підпис враховано без імені');
    expect(update('uk', 5, 1).print).toContain('5 підтверджених підписів.');
  });

  it('has one form in Korean, whatever the number', () => {
    expect(update('ko', 1, 1).subject).toBe('업데이트: Title (1명 서명)');
    expect(update('ko', 5, 5).subject).toBe('업데이트: Title (5명 서명)');
    expect(update('ko', 5, 5).text).toContain(
      '서명자 5명은 이름과 국가를 밝히지 않고 집계되기를 선택하였습니다.',
    );
  });
});

describe('a copy of a delivered letter made after some of its signatures left', () => {
  /** 5 in the round's count, 3 in the annex read now (named and unnamed). */
  const shorter = {
    ...updateInput('en', 5, 2),
    annex: { entries: updateInput('en', 2, 2).annex.entries, unnamed: 1 },
  };

  it('says how many left since, beside the figures, in a later copy', () => {
    const print = compiler.compile({ ...shorter, laterCopy: true }).printHtml;
    expect(print).toContain('Since the letter was sent, 2 of these signatures were withdrawn or removed');
  });

  it('says nothing of the kind in the letter as it is sent', () => {
    expect(compiler.compile(shorter).printHtml).not.toContain('Since the letter was sent');
  });
});
