import { describe, expect, it } from 'vitest';
import { createI18n, fixedT } from '../../../server/lib/i18n.js';
import { fitKoreanParticles } from '../../../server/lib/korean-particles.js';

describe('Korean particles fitted to the word before them', () => {
  it('chooses by the final consonant of the syllable before', () => {
    expect(fitKoreanParticles('대사관이(가) 답했습니다')).toBe('대사관이 답했습니다');
    expect(fitKoreanParticles('대사이(가) 답했습니다')).toBe('대사가 답했습니다');
    expect(fitKoreanParticles('“편지”을(를) 승인했습니다')).toBe('“편지”를 승인했습니다');
    expect(fitKoreanParticles('“성명”을(를) 승인했습니다')).toBe('“성명”을 승인했습니다');
    expect(fitKoreanParticles('국가은(는)')).toBe('국가는');
    expect(fitKoreanParticles('국적은(는)')).toBe('국적은');
  });

  it('takes 로 after a vowel or ㄹ, 으로 after any other final consonant, digits read aloud', () => {
    expect(fitKoreanParticles('서울(으)로')).toBe('서울로');
    expect(fitKoreanParticles('부산(으)로')).toBe('부산으로');
    expect(fitKoreanParticles('버전 2(으)로 저장')).toBe('버전 2로 저장');
    expect(fitKoreanParticles('버전 3(으)로 저장')).toBe('버전 3으로 저장');
    expect(fitKoreanParticles('버전 7(으)로 저장')).toBe('버전 7로 저장');
    expect(fitKoreanParticles('버전 10(으)로 저장')).toBe('버전 10으로 저장');
  });

  it('leaves both forms where the reading of the word before is unknown', () => {
    expect(fitKoreanParticles('https://crm.example.org(으)로 보냅니다')).toBe(
      'https://crm.example.org(으)로 보냅니다',
    );
    expect(fitKoreanParticles('recipient.nickname은(는) 병합 필드가 아닙니다')).toBe(
      'recipient.nickname은(는) 병합 필드가 아닙니다',
    );
    expect(fitKoreanParticles('괄호 (참고) 그대로')).toBe('괄호 (참고) 그대로');
    expect(fitKoreanParticles('Nothing to fit here.')).toBe('Nothing to fit here.');
  });
});

describe('the interface in Korean', () => {
  it('fits the particles of a translated sentence to the value put in, and leaves other languages alone', () => {
    const i18n = createI18n();
    expect(fixedT(i18n, 'ko')('editor.confirmVersion.title', { number: 2 })).toBe(
      '변경 내용을 버전 2로 저장하시겠습니까?',
    );
    expect(fixedT(i18n, 'ko')('editor.confirmVersion.title', { number: 3 })).toBe(
      '변경 내용을 버전 3으로 저장하시겠습니까?',
    );
    expect(fixedT(i18n, 'en')('editor.confirmVersion.title', { number: 2 })).not.toContain('(');
  });
});

describe('the interface in Ukrainian', () => {
  it('ends a sentence that ends with a date with one full stop, not the date’s "р." and another', () => {
    const i18n = createI18n();
    const date = '7 грудня 2026 р.';
    expect(fixedT(i18n, 'uk')('letter.closedDetail', { date })).toBe(
      'Підписи збирали до 7 грудня 2026 р. Дякуємо всім, хто підписав.',
    );
    expect(fixedT(i18n, 'uk')('policy.review.saved', { date })).toBe('Збережено 7 грудня 2026 р.');
    // A date inside a sentence, and other languages, are left as they are.
    expect(
      fixedT(i18n, 'uk')('errata.change.corrected', { date, formatted: '1', count: 1, root: 'ab' }),
    ).toContain('2026 р.: 1 підпис');
    expect(fixedT(i18n, 'en')('letter.closedDetail', { date: 'Dec 7, 2026' })).toBe(
      'Signatures were collected until Dec 7, 2026. Thank you to everyone who signed.',
    );
  });
});
