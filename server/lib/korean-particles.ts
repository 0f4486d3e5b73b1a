/**
 * Korean particles written for either ending ("버전 {{number}}(으)로", "“{{value}}”은(는)") made to fit
 * the word before them once it is known: a particle depends on whether the last syllable ends in a
 * consonant (받침), which a sentence with a value put in cannot know in advance. Where the word before is
 * not Hangul or a digit (a web address, a Latin name), its reading is unknown and both forms stay.
 */

/** Each written pair and its two forms: after a final consonant, after a vowel. */
const PAIRS: Record<string, { consonant: string; vowel: string }> = {
  '은(는)': { consonant: '은', vowel: '는' },
  '이(가)': { consonant: '이', vowel: '가' },
  '을(를)': { consonant: '을', vowel: '를' },
  '과(와)': { consonant: '과', vowel: '와' },
  '와(과)': { consonant: '과', vowel: '와' },
  '(으)로': { consonant: '으로', vowel: '로' },
  '(이)라': { consonant: '이라', vowel: '라' },
};

// The word's last character, then closing quotes or brackets that may stand between it and the particle.
const PATTERN = /([^\s])([”’"'」』)\]]*)(은\(는\)|이\(가\)|을\(를\)|과\(와\)|와\(과\)|\(으\)로|\(이\)라)/gu;

/** Whether the digits' Korean readings end in a consonant: 영 일 이 삼 사 오 육 칠 팔 구; ㄹ for 일 칠 팔. */
const DIGIT_ENDING: Record<string, 'none' | 'rieul' | 'other'> = {
  '0': 'other',
  '1': 'rieul',
  '2': 'none',
  '3': 'other',
  '4': 'none',
  '5': 'none',
  '6': 'other',
  '7': 'rieul',
  '8': 'rieul',
  '9': 'none',
};

/** How a character's reading ends: no final consonant, ㄹ, another one; undefined when unknown. */
function ending(char: string): 'none' | 'rieul' | 'other' | undefined {
  const code = char.codePointAt(0)!;
  if (code >= 0xac00 && code <= 0xd7a3) {
    const final = (code - 0xac00) % 28;
    return final === 0 ? 'none' : final === 8 ? 'rieul' : 'other';
  }
  return DIGIT_ENDING[char];
}

/** `text` with each written particle pair fitted to the word before it where that word's ending is known. */
export function fitKoreanParticles(text: string): string {
  if (!text.includes('(')) return text;
  return text.replace(PATTERN, (whole, last: string, closing: string, pair: string) => {
    const end = ending(last);
    if (end === undefined) return whole;
    const forms = PAIRS[pair]!;
    // (으)로 takes 로 after a vowel and after ㄹ ("서울로"); every other particle only asks for a consonant.
    const vowelForm = pair === '(으)로' ? end !== 'other' : end === 'none';
    return `${last}${closing}${vowelForm ? forms.vowel : forms.consonant}`;
  });
}
