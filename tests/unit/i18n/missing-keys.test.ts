import { describe, expect, it } from 'vitest';
import { createI18n } from '../../../server/lib/i18n.js';

describe('hearing about missing interface texts', () => {
  const heard: string[] = [];
  const i18n = createI18n({ onMissingKey: (language, key) => heard.push(`${language}:${key}`) });
  i18n.addResource('en', 'translation', 'probe.onlyInEnglish', 'Only in English');
  i18n.addResource('en', 'translation', 'probe.counted_one', '{{count}} thing');
  i18n.addResource('en', 'translation', 'probe.counted_other', '{{count}} things');

  it('hears a Korean or Ukrainian text that falls back to English, and still shows the English', () => {
    heard.length = 0;
    expect(i18n.getFixedT('ko')('probe.onlyInEnglish')).toBe('Only in English');
    expect(i18n.getFixedT('uk')('probe.counted', { count: 3 })).toBe('3 things');
    expect(heard).toEqual(['ko:probe.onlyInEnglish', 'uk:probe.counted']);
  });

  it('hears a key no language has', () => {
    heard.length = 0;
    i18n.getFixedT('en')('probe.nowhere');
    expect(heard).toEqual(['en:probe.nowhere']);
  });

  it('stays quiet about a text every language has, and about one asked with its own default', () => {
    heard.length = 0;
    for (const language of ['en', 'ko', 'uk']) i18n.getFixedT(language)('site.name');
    i18n.getFixedT('en')('errors.titles.499', { defaultValue: 'Error' });
    expect(heard).toEqual([]);
  });
});
