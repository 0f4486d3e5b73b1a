import { describe, expect, it } from 'vitest';
import { parseBlockForm, parseEntryForm } from '../../../server/abuse/abuse-input.js';

describe('the block list forms', () => {
  it('reads an entry as typed, cutting over-long text to what the page accepts', () => {
    expect(
      parseEntryForm({ list: 'block', kind: 'domain', value: 'spam.example', note: 'x'.repeat(2_000) }),
    ).toEqual({
      list: 'block',
      kind: 'domain',
      value: 'spam.example',
      note: 'x'.repeat(1_000),
      confirmed: false,
    });
    // The second press, once the page asked about the range.
    expect(parseEntryForm({ list: 'block', kind: 'ip', value: '10.0.0.0/8', confirm: 'yes' }).confirmed).toBe(
      true,
    );
  });

  it('reads missing or repeated fields as empty text, for the service to refuse', () => {
    expect(parseEntryForm({ value: ['a', 'b'], list: 42 })).toEqual({
      list: '',
      kind: '',
      value: '',
      note: '',
      confirmed: false,
    });
  });

  it('blocks a client hash unless the source is a domain, and only once confirmed', () => {
    expect(parseBlockForm({ kind: 'domain', value: 'spam.example', confirm: 'yes' })).toEqual({
      source: { kind: 'domain', value: 'spam.example' },
      confirmed: true,
    });
    expect(parseBlockForm({ kind: 'anything', value: 'abc' })).toEqual({
      source: { kind: 'ip-hash', value: 'abc' },
      confirmed: false,
    });
  });
});
