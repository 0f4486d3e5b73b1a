import { describe, expect, it } from 'vitest';
import {
  bulkAsked,
  parseBulkCriteria,
  parseBulkInvalidation,
  parseErasure,
  parseInvalidation,
  parseModerationSearch,
} from '../../../server/signatures/moderation-input.js';

describe('the moderation search', () => {
  it('reads every filter, trimmed, and leaves out the empty ones', () => {
    const search = parseModerationSearch({
      letter: ' let-them-choose ',
      status: 'confirmed',
      flag: 'suspect',
      name: ' Kim ',
      email: '',
      country: 'kr',
      ip: 'abc',
      from: '2026-11-23',
      to: '2026-11-23',
      page: '2',
    });
    expect(search).toMatchObject({
      ok: true,
      page: 2,
      filters: {
        letter: 'let-them-choose',
        status: 'confirmed',
        flag: 'suspect',
        name: 'Kim',
        email: undefined,
        country: 'KR',
        ipHash: 'abc',
        from: new Date('2026-11-23T00:00:00Z'),
        // The whole day, to the start of the next.
        to: new Date('2026-11-24T00:00:00Z'),
      },
    });
  });

  it('reports each malformed filter under its field, keeping what was typed', () => {
    const search = parseModerationSearch({
      letter: 'Not A Slug',
      status: 'deleted',
      flag: 'all',
      country: 'XX',
      from: '2026-13-01',
      to: 'yesterday',
    });
    expect(search.ok).toBe(false);
    if (search.ok) return;
    expect(search.errors).toEqual({
      letter: 'moderation.errors.letter',
      status: 'moderation.errors.status',
      flag: 'moderation.screening.errors.flag',
      country: 'moderation.errors.country',
      from: 'moderation.errors.date',
      to: 'moderation.errors.date',
    });
    expect(search.values).toMatchObject({ letter: 'Not A Slug', from: '2026-13-01' });
  });

  it('ignores repeated or non-text values and reads a bad page number as the first page', () => {
    const search = parseModerationSearch({ name: ['a', 'b'], status: { $ne: 1 }, page: '-5' });
    expect(search).toMatchObject({ ok: true, page: 0, filters: { name: undefined, status: undefined } });
    expect(parseModerationSearch({ page: '99999999' }).page).toBe(10_000);
    expect(parseModerationSearch(undefined)).toMatchObject({ ok: true, page: 0 });
  });
});

describe('the bulk criteria', () => {
  it('needs something that narrows them: a connection, a domain or a whole time window', () => {
    expect(parseBulkCriteria({ letter: 'let-them-choose' })).toMatchObject({
      ok: false,
      errors: { criteria: 'moderation.errors.criteria' },
    });
    expect(parseBulkCriteria({ from: '2026-11-23T10:30' })).toMatchObject({ ok: false });
    expect(parseBulkCriteria({ from: '2026-11-23T10:30', to: '2026-11-23T11:30' })).toMatchObject({
      ok: true,
      criteria: { from: new Date('2026-11-23T10:30:00Z'), to: new Date('2026-11-23T11:30:00Z') },
    });
    expect(parseBulkCriteria({ domain: '@SPAM.Example.NET' })).toMatchObject({
      ok: true,
      criteria: { emailDomain: 'spam.example.net' },
    });
  });

  it('refuses a domain that is not one', () => {
    for (const domain of ['example', 'not a domain', '<script>.org'])
      expect(parseBulkCriteria({ domain }), domain).toMatchObject({
        ok: false,
        errors: { domain: 'moderation.errors.domain' },
      });
  });

  it('tells a first visit (nothing asked) from an empty question', () => {
    expect(bulkAsked({})).toBe(false);
    expect(bulkAsked({ domain: '  ' })).toBe(false);
    expect(bulkAsked({ letter: 'x' })).toBe(true);
    // The form's button sent with nothing filled in: a question, answered with what to fill in.
    expect(bulkAsked({ show: '1', domain: '', ip: '' })).toBe(true);
  });
});

describe('the reason for invalidating', () => {
  it('is required, at most 500 characters, without control characters', () => {
    expect(parseInvalidation({ reason: '  Signed with a stolen address ' })).toMatchObject({
      ok: true,
      reason: 'Signed with a stolen address',
    });
    for (const [reason, error] of [
      ['', 'moderation.errors.reason'],
      ['   ', 'moderation.errors.reason'],
      [['a', 'b'], 'moderation.errors.reason'],
      ['x'.repeat(501), 'moderation.errors.reasonTooLong'],
      ['spam\u0000', 'moderation.errors.reasonCharacters'],
      // A bidirectional override shows the reason in another order than it is stored.
      ['spam \u202Emaps', 'moderation.errors.reasonCharacters'],
    ] as const) {
      expect(parseInvalidation({ reason }), JSON.stringify(reason)).toMatchObject({
        ok: false,
        errors: { reason: error },
      });
    }
    expect(parseInvalidation({ reason: 'x'.repeat(500) }).ok).toBe(true);
  });

  it('in bulk, comes with the criteria and the count seen in the preview', () => {
    const input = parseBulkInvalidation({ domain: 'example.org', expected: '4', reason: 'spam' });
    expect(input).toMatchObject({
      expected: 4,
      criteria: { ok: true },
      reason: { ok: true, reason: 'spam' },
      values: { domain: 'example.org', reason: 'spam' },
    });
    expect(parseBulkInvalidation({ domain: 'example.org', expected: 'four' }).expected).toBe(-1);
    expect(parseBulkInvalidation({ domain: 'example.org', expected: '-3' }).expected).toBe(-1);
  });
});

describe('the erasure form', () => {
  it('needs an address and the tick, and keeps the address typed', () => {
    expect(parseErasure({ email: ' kim@example.org ', confirm: 'yes' })).toEqual({
      values: { email: 'kim@example.org' },
      ok: true,
      email: 'kim@example.org',
    });
    expect(parseErasure({ email: 'kim@example.org' })).toMatchObject({
      ok: false,
      status: 422,
      errors: { confirm: 'erasure.errors.confirm' },
      values: { email: 'kim@example.org' },
    });
    expect(parseErasure({ email: 'not an address', confirm: 'yes' })).toMatchObject({
      ok: false,
      status: 400,
      errors: { email: 'erasure.errors.email' },
    });
  });
});
