import i18next, { type TFunction } from 'i18next';
import { describe, expect, it } from 'vitest';
import { readLanguage } from '../../../server/lib/i18n.js';
import type { DashboardLetter } from '../../../server/letters/letter-dashboard-service.js';
import { dashboardLetters } from '../../../server/letters/letter-dashboard-view.js';

/** The catalogs of one language as the platform loads them, with a t fixed to that language. */
function tIn(language: string): TFunction {
  const instance = i18next.createInstance();
  void instance.init({
    resources: { [language]: { translation: readLanguage(language) } },
    lng: language,
    fallbackLng: false,
    initAsync: false,
    interpolation: { escapeValue: false },
  });
  return instance.t;
}

/** A dashboard card whose last 30 days hold `total` confirmed signatures, all on the last day. */
function letterWith(total: number): DashboardLetter {
  const days = Array.from({ length: 30 }, (_, i) => ({
    day: `2026-11-${String(i + 1).padStart(2, '0')}`,
    count: i === 29 ? total : 0,
  }));
  return { letter: { status: 'open' }, title: 'T', today: 0, days } as unknown as DashboardLetter;
}

/** The accessible description of a card's signature chart. */
function chartDescription(language: string, total: number): string {
  const [card] = dashboardLetters(tIn(language), language, [letterWith(total)]);
  return /<desc>([^<]*)<\/desc>/.exec(card!.chart!)![1]!;
}

describe('the dashboard chart counts signatures and days by each language’s rules', () => {
  it('says "1 confirmed signature" in English, and the plural from 2', () => {
    expect(chartDescription('en', 0)).toBe('No confirmed signatures in the last 30 days.');
    expect(chartDescription('en', 1)).toBe(
      '1 confirmed signature in the last 30 days; the busiest day was Nov 30 with 1.',
    );
    expect(chartDescription('en', 2)).toMatch(/^2 confirmed signatures in the last 30 days;/);
  });

  it('uses the one, few and many forms in Ukrainian: 1 підпис, 3 підписи, 5 підписів, 21 підпис', () => {
    expect(chartDescription('uk', 0)).toBe('За останні 30 днів немає підтверджених підписів.');
    expect(chartDescription('uk', 1)).toMatch(/^За останні 30 днів — 1 підтверджений підпис;/);
    expect(chartDescription('uk', 3)).toMatch(/^За останні 30 днів — 3 підтверджені підписи;/);
    expect(chartDescription('uk', 5)).toMatch(/^За останні 30 днів — 5 підтверджених підписів;/);
    expect(chartDescription('uk', 21)).toMatch(/^За останні 30 днів — 21 підтверджений підпис;/);
  });

  it('draws no chart for a draft, which takes no signatures, and says why in each language', () => {
    for (const [language, note] of [
      ['en', 'Not published yet: signatures are collected once it is published.'],
      ['ko', '아직 게시되지 않았습니다. 게시하면 서명을 받기 시작합니다.'],
      ['uk', 'Ще не опубліковано: підписи збиратимуться після публікації.'],
    ] as const) {
      const draft = { ...letterWith(0), letter: { status: 'draft' } } as unknown as DashboardLetter;
      const [card] = dashboardLetters(tIn(language), language, [draft]);
      expect(card).toMatchObject({ chart: null, narrowChart: null, chartNote: note });
    }
    expect(dashboardLetters(tIn('en'), 'en', [letterWith(0)])[0]).toMatchObject({ chartNote: null });
  });

  it('writes Korean with its one form and a counter', () => {
    expect(chartDescription('ko', 0)).toBe('최근 30일 동안 확인된 서명이 없습니다.');
    expect(chartDescription('ko', 1)).toMatch(/^최근 30일 동안 확인된 서명 1건\./);
  });
});

describe('the organizer texts with a count read right for every number', () => {
  const en = tIn('en');
  const uk = tIn('uk');

  it('counts the signatures that stand on the editor and on the close page', () => {
    expect(en('editor.versionInfo', { count: 1, number: 2, signatures: '1' })).toBe(
      'Version 2 · 1 signature that stands',
    );
    expect(en('editor.close.explain', { count: 1, signatures: '1' })).toContain(
      'The letter has 1 confirmed signature.',
    );
    expect(en('editor.close.explain', { count: 2, signatures: '2' })).toContain(
      'The letter has 2 confirmed signatures.',
    );
    const ukClose = (n: number) => uk('editor.close.explain', { count: n, signatures: String(n) });
    expect(ukClose(1)).toContain('Лист має 1 підтверджений підпис.');
    expect(ukClose(4)).toContain('Лист має 4 підтверджені підписи.');
    expect(ukClose(11)).toContain('Лист має 11 підтверджених підписів.');
    expect(ukClose(101)).toContain('Лист має 101 підтверджений підпис.');
    expect(uk('editor.versionInfo', { count: 2, number: 1, signatures: '2' })).toBe(
      'Версія 1 · 2 чинні підписи',
    );
  });

  it('reports an import in the singular as well as the plural', () => {
    expect(en('recipients.notices.imported', { created: 1, updated: 0, skipped: 1 })).toBe(
      'Import finished. Added: 1; updated: 0; rows skipped: 1.',
    );
    expect(uk('recipients.import.counts.skip', { count: 1 })).toBe(
      '1 рядок із проблемами — його буде пропущено',
    );
    expect(uk('recipients.import.counts.skip', { count: 2 })).toBe(
      '2 рядки з проблемами — їх буде пропущено',
    );
    expect(uk('recipients.import.counts.skip', { count: 12 })).toBe(
      '12 рядків із проблемами — їх буде пропущено',
    );
  });

  it('says how long a password link works in the minute’s right form', () => {
    expect(en('emails.password-reset.expires', { count: 1 })).toBe('The link works for 1 minute, once.');
    expect(en('emails.password-reset.expires', { count: 30 })).toBe('The link works for 30 minutes, once.');
    expect(uk('emails.password-reset.expires', { count: 30 })).toBe(
      'Посилання діє 30 хвилин і лише один раз.',
    );
    expect(uk('emails.password-reset.expires', { count: 22 })).toBe(
      'Посилання діє 22 хвилини і лише один раз.',
    );
    expect(uk('account.reset.expired', { count: 1 })).toContain('посилання діє 1 хвилину.');
  });
});
