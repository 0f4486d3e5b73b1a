import { describe, expect, it } from 'vitest';
import {
  canConfirm,
  daysLeft,
  isPublic,
  progressPercent,
  publishWarnings,
  signingState,
  textIn,
  type LetterStatus,
} from '../../../server/letters/letter.js';
import { langMark, pickLanguage, titleFor } from '../../../server/lib/languages.js';

const NOW = new Date('2026-11-23T10:00:00.000Z');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs);

describe('signingState', () => {
  const letter = (
    status: LetterStatus,
    opensAt: Date | null = at(-DAY),
    closesAt: Date | null = at(30 * DAY),
  ) => ({ status, opensAt, closesAt });

  it('is open for an open letter between its opening and closing dates', () => {
    expect(signingState(letter('open'), NOW)).toBe('open');
  });

  it('is open for an open letter without dates', () => {
    expect(signingState(letter('open', null, null), NOW)).toBe('open');
  });

  it('is unpublished for a draft, whatever its dates', () => {
    expect(signingState(letter('draft'), NOW)).toBe('unpublished');
    expect(signingState(letter('draft', null, null), NOW)).toBe('unpublished');
  });

  it('is not yet open before the opening date, and open from that instant', () => {
    expect(signingState(letter('open', at(1)), NOW)).toBe('not-yet-open');
    expect(signingState(letter('open', NOW), NOW)).toBe('open');
  });

  it('is closed from the closing instant on, even while the status still says open', () => {
    expect(signingState(letter('open', at(-DAY), at(1)), NOW)).toBe('open');
    expect(signingState(letter('open', at(-DAY), NOW), NOW)).toBe('closed');
    expect(signingState(letter('open', at(-2 * DAY), at(-DAY)), NOW)).toBe('closed');
  });

  it('is closed for a closed or delivered letter, even inside its dates', () => {
    expect(signingState(letter('closed'), NOW)).toBe('closed');
    expect(signingState(letter('delivered'), NOW)).toBe('closed');
  });
});

describe('isPublic', () => {
  it('hides drafts and shows every other status', () => {
    expect(isPublic({ status: 'draft' })).toBe(false);
    for (const status of ['open', 'closed', 'delivered'] as const) expect(isPublic({ status })).toBe(true);
  });
});

describe('canConfirm', () => {
  it('lets a pending signature be confirmed while the letter is open or closed', () => {
    expect(canConfirm({ status: 'open' })).toBe(true);
    expect(canConfirm({ status: 'closed' })).toBe(true);
  });

  it('refuses confirmation once the letter is delivered with its final count, or for a draft', () => {
    expect(canConfirm({ status: 'delivered' })).toBe(false);
    expect(canConfirm({ status: 'draft' })).toBe(false);
  });
});

describe('progressPercent', () => {
  it('is null for a letter without a goal', () => {
    expect(progressPercent(10, null)).toBeNull();
    expect(progressPercent(10, 0)).toBeNull();
    expect(progressPercent(10, -5)).toBeNull();
  });

  it('is a whole percentage, rounded down so a goal is never shown as reached early', () => {
    expect(progressPercent(0, 100)).toBe(0);
    expect(progressPercent(50, 100)).toBe(50);
    expect(progressPercent(1, 3)).toBe(33);
    expect(progressPercent(999, 1000)).toBe(99);
    expect(progressPercent(1000, 1000)).toBe(100);
  });

  it('stops at 100 when the goal is passed', () => {
    expect(progressPercent(250, 100)).toBe(100);
    expect(progressPercent(1_000_000, 1)).toBe(100);
  });
});

describe('pickLanguage', () => {
  it('gives the requested language when the letter has it', () => {
    expect(pickLanguage(['en', 'ko', 'uk'], 'ko', 'en')).toBe('ko');
  });

  it('falls back to the primary language when the requested one is missing or not given', () => {
    expect(pickLanguage(['en', 'ko'], 'uk', 'ko')).toBe('ko');
    expect(pickLanguage(['en', 'ko'], undefined, 'ko')).toBe('ko');
    expect(pickLanguage(['en', 'ko'], '', 'en')).toBe('en');
  });

  it('falls back to the first translation when even the primary language is missing', () => {
    expect(pickLanguage(['uk', 'ko'], 'fr', 'en')).toBe('uk');
  });

  it('returns the primary language when there are no translations at all', () => {
    expect(pickLanguage([], 'ko', 'en')).toBe('en');
  });
});

describe('titleFor', () => {
  const letter = { slug: 'free-them', primaryLanguage: 'en' };

  it("gives the reader's title when the letter has one in their language", () => {
    expect(titleFor(letter, { primary: 'Free them', reader: '석방하라' }, 'ko')).toEqual({
      title: '석방하라',
      titleLanguage: 'ko',
    });
  });

  it("falls back to the primary language's title when the reader's text has none yet", () => {
    expect(titleFor(letter, { primary: 'Free them', reader: '  ' }, 'ko')).toEqual({
      title: 'Free them',
      titleLanguage: 'en',
    });
    expect(titleFor(letter, { primary: 'Free them', reader: null }, 'uk')).toEqual({
      title: 'Free them',
      titleLanguage: 'en',
    });
  });

  it("falls back to the web address, in the reader's language, when no text has a title", () => {
    expect(titleFor(letter, { primary: '', reader: undefined }, 'ko')).toEqual({
      title: 'free-them',
      titleLanguage: 'ko',
    });
  });
});

describe('langMark', () => {
  it("marks text in another language than the page's, and nothing else", () => {
    expect(langMark('en', 'ko')).toBe('en');
    expect(langMark('ko', 'ko')).toBeNull();
    expect(langMark(undefined, 'ko')).toBeNull();
  });
});

describe('daysLeft', () => {
  it('is null without a closing date', () => {
    expect(daysLeft(null, NOW)).toBeNull();
  });

  it('counts whole days remaining beyond the last day', () => {
    expect(daysLeft(at(7 * DAY + 12 * HOUR), NOW)).toBe(7);
    expect(daysLeft(at(DAY + 1), NOW)).toBe(1);
    expect(daysLeft(at(2 * DAY + HOUR), NOW)).toBe(2);
  });

  it('is 0 during the final 24 hours (the last day)', () => {
    expect(daysLeft(at(DAY), NOW)).toBe(0);
    expect(daysLeft(at(12 * HOUR), NOW)).toBe(0);
    expect(daysLeft(at(1), NOW)).toBe(0);
  });

  it('is never negative after the letter closed', () => {
    expect(daysLeft(NOW, NOW)).toBe(0);
    expect(daysLeft(at(-10 * DAY), NOW)).toBe(0);
  });
});

describe('textIn', () => {
  const text = (language: string, body = 'Text') => ({ language, title: 'Title', summary: 'Summary', body });

  it('gives the complete translation in the requested language', () => {
    expect(textIn([text('en'), text('ko')], 'ko', 'en')?.language).toBe('ko');
  });

  it('passes over an unfinished translation in the requested language for the primary one', () => {
    expect(textIn([text('en'), text('ko', '')], 'ko', 'en')?.language).toBe('en');
  });

  it('falls back over unfinished texts when no translation is complete yet', () => {
    expect(textIn([text('en', ''), text('ko', '')], 'ko', 'en')?.language).toBe('ko');
    expect(textIn([], 'ko', 'en')).toBeUndefined();
  });
});

describe('publishWarnings: what to point out before publishing, without refusing it', () => {
  const keys = (...args: Parameters<typeof publishWarnings>) => publishWarnings(...args).map((w) => w.key);
  const none = { organisationsInText: false, sameTitled: [] };

  it("points out an address still named as a template's copy, and only at its end", () => {
    for (const slug of ['coalition-letter-draft', 'coalition-letter-draft-2'])
      expect(keys({ slug, organisations: [] }, none), slug).toEqual(['editor.publish.warnings.draftSlug']);
    for (const slug of ['draft-of-a-letter', 'coalition-drafts', 'let-them-choose'])
      expect(keys({ slug, organisations: [] }, none), slug).toEqual([]);
  });

  it('points out co-signing organisations that no text names', () => {
    const listed = { slug: 'a', organisations: ['Org A'] };
    expect(keys(listed, none)).toEqual(['editor.publish.warnings.organisationsUnused']);
    expect(keys(listed, { ...none, organisationsInText: true })).toEqual([]);
    expect(keys({ slug: 'a', organisations: [] }, none)).toEqual([]);
  });

  it('names each published letter with the same title once, however many of its texts match', () => {
    const warnings = publishWarnings(
      { slug: 'a', organisations: [] },
      {
        organisationsInText: false,
        sameTitled: [
          { slug: 'b', title: 'Let them choose', language: 'en' },
          { slug: 'b', title: '선택하게 하십시오', language: 'ko' },
          { slug: 'c', title: 'Let them choose', language: 'en' },
        ],
      },
    );
    expect(warnings).toEqual([
      { key: 'editor.publish.warnings.sameTitle', params: { slug: 'b', title: 'Let them choose' } },
      { key: 'editor.publish.warnings.sameTitle', params: { slug: 'c', title: 'Let them choose' } },
    ]);
  });

  it("quotes a letter's title in the reader's language when it is one of those that match", () => {
    // A Korean page quoted the Ukrainian title, though the Korean one was the same too.
    const sameTitled = [
      { slug: 'b', title: 'Дайте їм обрати', language: 'uk' },
      { slug: 'b', title: '선택하게 하십시오', language: 'ko' },
      { slug: 'c', title: 'Дайте їм обрати', language: 'uk' },
    ];
    const titles = (readerLanguage: string) =>
      publishWarnings(
        { slug: 'a', organisations: [] },
        { organisationsInText: false, sameTitled, readerLanguage },
      ).map((w) => w.params.title);
    expect(titles('ko')).toEqual(['선택하게 하십시오', 'Дайте їм обрати']);
    expect(titles('en')).toEqual(['Дайте їм обрати', 'Дайте їм обрати']);
  });
});
