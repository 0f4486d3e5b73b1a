import { describe, expect, it } from 'vitest';
import { ApiCursor } from '../../../server/api/api-cursor.js';
import {
  ApiUrls,
  chooseHeading,
  groupDeliveries,
  parseListQuery,
  parseSignaturesQuery,
  plausibleSlug,
  preferredLanguages,
} from '../../../server/api/public-api.js';
import { AppError } from '../../../server/lib/errors.js';

const heading = (language: string, complete = true) => ({
  language,
  title: `T-${language}`,
  summary: 's',
  complete,
});

describe('the public API rules', () => {
  it('ranks text languages: ?lang= first, then Accept-Language by q, q=0 and junk left out', () => {
    expect(preferredLanguages(undefined, 'fr;q=0.5, ko-KR, en;q=0.8, de;q=0, *;q=0.1')).toEqual([
      'ko',
      'en',
      'fr',
    ]);
    expect(preferredLanguages('uk', 'ko')).toEqual(['uk', 'ko']);
    expect(preferredLanguages(undefined, undefined)).toEqual([]);
    expect(preferredLanguages(undefined, `${'x,'.repeat(10_000)}ko`)).toEqual([]);
  });

  it('answers in the first preferred language the letter has complete, else its primary one', () => {
    const headings = [heading('en'), heading('ko'), heading('uk', false)];
    expect(chooseHeading(headings, ['uk', 'ko'], 'en')?.language).toBe('ko');
    expect(chooseHeading(headings, ['ja'], 'en')?.language).toBe('en');
    expect(chooseHeading(headings, [], 'ko')?.language).toBe('ko');
  });

  it('reads page and per_page as plain whole numbers within bounds, and names the one refused', () => {
    expect(parseListQuery({})).toEqual({ page: 1, perPage: 25, lang: undefined });
    expect(parseListQuery({ page: '3', per_page: '100', lang: 'ko' })).toEqual({
      page: 3,
      perPage: 100,
      lang: 'ko',
    });
    for (const [query, name] of [
      [{ page: '-1' }, 'page'],
      [{ page: '0' }, 'page'],
      [{ page: '10001' }, 'page'],
      [{ page: '1e3' }, 'page'],
      [{ page: ['1', '2'] }, 'page'],
      [{ per_page: '101' }, 'per_page'],
      [{ per_page: 'abc' }, 'per_page'],
      [{ lang: 'EN' }, 'lang'],
    ] as const) {
      const error = (() => {
        try {
          parseListQuery(query as Record<string, unknown>);
        } catch (e) {
          return e;
        }
      })();
      expect(error, JSON.stringify(query)).toBeInstanceOf(AppError);
      expect((error as AppError).status).toBe(400);
      expect((error as AppError).params.name).toBe(name);
    }
    expect(() => parseSignaturesQuery({ cursor: 'a/b' })).toThrow(AppError);
  });

  it('takes a slug only in the form letters have', () => {
    expect(plausibleSlug('free-them-2026')).toBe(true);
    for (const slug of ['..', 'a/b', '한글', 'A'.repeat(101), '', '-x', 'a b'])
      expect(plausibleSlug(slug)).toBe(false);
  });

  it('groups the delivery record by day, institution and count, newest first', () => {
    const at = (iso: string) => new Date(iso);
    const sent = (organisation: string, iso: string, signatureCount: number, recipientName = 'Desk') => ({
      recipientName,
      recipientId: null,
      organisation,
      sentAt: at(iso),
      signatureCount,
    });
    expect(
      groupDeliveries(
        [
          sent('Embassy A', '2026-12-01T10:00:00Z', 10),
          sent('Embassy A', '2026-12-01T11:00:00Z', 10),
          sent('Ministry B', '2026-12-01T10:00:00Z', 10),
          sent('Embassy A', '2026-12-03T10:00:00Z', 25),
          // No organisation: the recipient's name stands for it.
          sent(' ', '2026-12-03T10:00:00Z', 25, 'UN Special Rapporteur'),
        ],
        [],
        'en',
      ),
    ).toEqual([
      { date: '2026-12-03', institution: 'Embassy A', recipients: 1, signatures: 25 },
      { date: '2026-12-03', institution: 'UN Special Rapporteur', recipients: 1, signatures: 25 },
      { date: '2026-12-01', institution: 'Embassy A', recipients: 2, signatures: 10 },
      { date: '2026-12-01', institution: 'Ministry B', recipients: 1, signatures: 10 },
    ]);
  });

  it("names each institution in the answer's language where the letter's recipient has a name typed for it", () => {
    const row = { recipientName: 'Embassy of Ukraine', organisation: 'Embassy of Ukraine in Seoul' };
    const sentAt = new Date('2026-12-01T10:00:00Z');
    const rows = [
      { ...row, recipientId: 7, sentAt, signatureCount: 3 },
      // Deleted from the directory since: named as the letter went.
      { ...row, recipientId: null, sentAt, signatureCount: 3 },
    ];
    const listed = [
      {
        id: 7,
        name: 'Embassy of Ukraine',
        title: '',
        organisation: 'Embassy of Ukraine in Seoul',
        names: { ko: { name: '', title: '', organisation: '주한 우크라이나 대사관' } },
        language: 'ko',
        country: 'UA',
        salutations: {},
        tier: 1,
      },
    ];
    expect(groupDeliveries(rows, listed, 'ko').map((g) => [g.institution, g.recipients])).toEqual([
      ['Embassy of Ukraine in Seoul', 1],
      ['주한 우크라이나 대사관', 1],
    ]);
    expect(groupDeliveries(rows, listed, 'en').map((g) => [g.institution, g.recipients])).toEqual([
      ['Embassy of Ukraine in Seoul', 2],
    ]);
  });

  it('seals a cursor so that it hides its position, opens the same, and refuses one altered or made up', () => {
    const cursors = new ApiCursor('a-secret-of-enough-length-0123456789');
    const position = { confirmedAt: '2026-12-05T10:00:00.000Z', id: 42 };
    const sealed = cursors.seal(position);
    expect(sealed).toBe(cursors.seal(position));
    expect(sealed).not.toBe(cursors.seal({ ...position, id: 43 }));
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('2026');
    expect(cursors.open(sealed)).toEqual(position);
    const flipped = `${sealed.slice(0, -2)}${sealed.at(-2) === 'A' ? 'B' : 'A'}${sealed.at(-1)}`;
    expect(() => cursors.open(flipped)).toThrow(AppError);
    expect(() => new ApiCursor('another-secret-of-enough-length-0123').open(sealed)).toThrow(AppError);
    expect(() => cursors.open('')).toThrow(AppError);
  });

  it('builds every link on PUBLIC_URL, keeping a path it has (a platform behind /petitions)', () => {
    const urls = new ApiUrls('https://example.org/petitions');
    expect(urls.letter('a-letter', 'ko')).toBe(
      'https://example.org/petitions/api/v1/letters/a-letter?lang=ko',
    );
    expect(urls.signatures('a-letter', { cursor: 'abc', per_page: undefined })).toBe(
      'https://example.org/petitions/api/v1/letters/a-letter/signatures?cursor=abc',
    );
    expect(urls.page('a-letter', 'uk')).toBe('https://example.org/petitions/letters/a-letter?text=uk');
    expect(new ApiUrls('https://example.org').at('/api/v1/letters', { page: 2 })).toBe(
      'https://example.org/api/v1/letters?page=2',
    );
  });
});
