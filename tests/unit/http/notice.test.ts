import type { Request } from 'express';
import { describe, expect, it } from 'vitest';
import { noticeFrom, withNotice } from '../../../server/http/notice.js';
import type { TFunction } from '../../../server/lib/i18n.js';

// Stands in for i18next: shows the key and its parameters, so the test sees exactly what was asked for.
const t = ((key: string, params?: Record<string, unknown>) =>
  `${key}${params && Object.keys(params).length ? ` ${JSON.stringify(params)}` : ''}`) as unknown as TFunction;

const request = (query: Record<string, unknown>) => ({ query }) as unknown as Request;

describe('the notice after a redirect', () => {
  it('names the notice and its counts in the address, before any fragment', () => {
    expect(withNotice('/admin/letters/4', 'saved')).toBe('/admin/letters/4?done=saved');
    expect(withNotice('/admin/letters/4#collaborators', 'shared')).toBe(
      '/admin/letters/4?done=shared#collaborators',
    );
    expect(withNotice('/admin/signatures?letter=2', 'bulk', { count: 3 })).toBe(
      '/admin/signatures?letter=2&done=bulk&count=3',
    );
  });

  it('shows a named notice in its namespace, with the counts from the address', () => {
    expect(noticeFrom(request({ done: 'saved' }), t, 'editor.notices', ['saved'])).toBe(
      'editor.notices.saved',
    );
    expect(noticeFrom(request({ done: 'bulk', count: '3' }), t, 'moderation.notices', ['bulk'])).toBe(
      'moderation.notices.bulk {"count":3}',
    );
  });

  it('shows nothing for a name the page does not allow, a repeated name or none', () => {
    expect(noticeFrom(request({ done: 'published' }), t, 'editor.notices', ['saved'])).toBeUndefined();
    expect(noticeFrom(request({ done: ['saved', 'saved'] }), t, 'editor.notices', ['saved'])).toBeUndefined();
    expect(noticeFrom(request({}), t, 'editor.notices', ['saved'])).toBeUndefined();
  });

  it('passes on whole numbers only, never text from the address', () => {
    expect(
      noticeFrom(request({ done: 'bulk', count: '<b>3</b>', name: 'x' }), t, 'moderation.notices', ['bulk']),
    ).toBe('moderation.notices.bulk');
  });
});
