import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_EXPORT_COLUMNS,
  describeFilters,
  EXPORT_COLUMNS,
  FORMULA_CHARACTERS,
  neutraliseCell,
  SPLIT_CHARACTERS,
  parseExportRequest,
  type ExportValues,
} from '../../../server/exports/export.js';

/** The columns as the export form lists them and files carry them, in this order. */
const DOCUMENTED_ORDER = [
  'letter',
  'status',
  'name',
  'public_name',
  'display',
  'email',
  'country',
  'city',
  'organisation',
  'title',
  'language',
  'consent_updates',
  'letter_version',
  'signed_at',
  'confirmed_at',
  'withdrawn_at',
  'invalidated_at',
];

function values(overrides: Partial<ExportValues> = {}): ExportValues {
  return {
    letter: 'let-them-choose',
    statuses: ['confirmed'],
    country: '',
    from: '',
    to: '',
    consent: 'any',
    columns: [],
    format: 'csv',
    ...overrides,
  };
}

/** The request of values that must be accepted. */
function requestOf(input: ExportValues) {
  const parsed = parseExportRequest(input);
  if (!parsed.ok) throw new Error(`expected the export to be accepted, got ${JSON.stringify(parsed.errors)}`);
  return parsed.request;
}

/** The error keys of values that must be refused. */
function errorsOf(input: ExportValues): Record<string, string> {
  const parsed = parseExportRequest(input);
  if (parsed.ok) throw new Error(`expected the export to be refused: ${JSON.stringify(input)}`);
  return parsed.errors;
}

describe('an export request', () => {
  it('takes every filter, as typed, into a request', () => {
    const request = requestOf(
      values({
        letter: ' let-them-choose ',
        statuses: ['pending', 'confirmed', 'pending'],
        country: 'kr',
        from: '2026-11-01',
        to: '2026-11-30',
        consent: 'yes',
        columns: ['country', 'name', 'letter'],
        format: 'jsonl',
      }),
    );
    expect(request).toEqual({
      filters: {
        letter: 'let-them-choose',
        statuses: ['pending', 'confirmed'],
        country: 'KR',
        from: new Date('2026-11-01T00:00:00.000Z'),
        // The whole of the last day is included.
        to: new Date('2026-12-01T00:00:00.000Z'),
        consent: true,
      },
      columns: ['letter', 'name', 'country'],
      format: 'jsonl',
    });
  });

  it('exports confirmed signatures of every letter, with the default columns, as CSV when nothing is chosen', () => {
    const request = requestOf(values({ letter: '', statuses: [], consent: '', columns: [], format: '' }));
    expect(request).toEqual({
      filters: {
        letter: undefined,
        statuses: ['confirmed'],
        country: undefined,
        from: undefined,
        to: undefined,
        consent: undefined,
      },
      columns: [...DEFAULT_EXPORT_COLUMNS],
      format: 'csv',
    });
    expect(DEFAULT_EXPORT_COLUMNS).not.toContain('email');
    expect(DEFAULT_EXPORT_COLUMNS).not.toContain('name');
  });

  it('reads consent as yes, no, or either way', () => {
    expect(requestOf(values({ consent: 'no' })).filters.consent).toBe(false);
    expect(requestOf(values({ consent: 'yes' })).filters.consent).toBe(true);
    expect(requestOf(values({ consent: 'any' })).filters.consent).toBeUndefined();
  });

  it('accepts a range of one day, from its start to its end', () => {
    const { filters } = requestOf(values({ from: '2026-11-23', to: '2026-11-23' }));
    expect(filters.from).toEqual(new Date('2026-11-23T00:00:00.000Z'));
    expect(filters.to).toEqual(new Date('2026-11-24T00:00:00.000Z'));
  });

  it('accepts a PDF annex of one letter', () => {
    expect(requestOf(values({ format: 'pdf' })).format).toBe('pdf');
  });

  it.each([
    ['an unknown status', { statuses: ['confirmed', 'deleted'] }, { statuses: 'exports.errors.status' }],
    ['a country that is not a code', { country: 'Korea' }, { country: 'exports.errors.country' }],
    ['an unknown country code', { country: 'XX' }, { country: 'exports.errors.country' }],
    ['the 30th of February', { from: '2026-02-30' }, { from: 'exports.errors.date' }],
    ['a 13th month', { to: '2026-13-01' }, { to: 'exports.errors.date' }],
    ['a date in another format', { from: '23/11/2026' }, { from: 'exports.errors.date' }],
    ['a word for a date', { to: 'yesterday' }, { to: 'exports.errors.date' }],
    ['an end before the start', { from: '2026-11-23', to: '2026-11-22' }, { to: 'exports.errors.range' }],
    ['an unknown column', { columns: ['name', 'password'] }, { columns: 'exports.errors.columns' }],
    ['an unknown format', { format: 'xlsx' }, { format: 'exports.errors.format' }],
    ['a PDF of every letter', { letter: '', format: 'pdf' }, { letter: 'exports.errors.pdfNeedsLetter' }],
    ['a consent that is not yes or no', { consent: 'maybe' }, { consent: 'exports.errors.consent' }],
    ['a letter that is not a web address', { letter: '../etc/passwd' }, { letter: 'exports.errors.letter' }],
  ] as const)('refuses %s with that field’s message', (_case, overrides, expected) => {
    expect(errorsOf(values(overrides as Partial<ExportValues>))).toEqual(expected);
  });

  it('reports every bad field at once', () => {
    expect(errorsOf(values({ country: 'XX', from: 'soon', columns: ['secret'], format: 'doc' }))).toEqual({
      country: 'exports.errors.country',
      from: 'exports.errors.date',
      columns: 'exports.errors.columns',
      format: 'exports.errors.format',
    });
  });

  it('puts columns in the documented order, whatever order they were asked in', () => {
    expect(EXPORT_COLUMNS).toEqual(DOCUMENTED_ORDER);
    const reversed = [...DOCUMENTED_ORDER].reverse();
    expect(requestOf(values({ columns: reversed })).columns).toEqual(DOCUMENTED_ORDER);
    fc.assert(
      fc.property(fc.shuffledSubarray(DOCUMENTED_ORDER, { minLength: 1 }), (chosen) => {
        const columns = requestOf(values({ columns: chosen })).columns;
        expect(columns).toEqual(DOCUMENTED_ORDER.filter((c) => chosen.includes(c)));
      }),
    );
  });

  it('has the columns and defaults the README documents, in its order', () => {
    const readme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').replace(/\s+/g, ' ');
    const match = /Columns: ((?:`[a-z_]+`,? )+)\(default: ([a-z_, ]+)\)/.exec(readme);
    if (!match) throw new Error('the README no longer lists the export columns');
    expect([...match[1]!.matchAll(/`([a-z_]+)`/g)].map((m) => m[1])).toEqual(DOCUMENTED_ORDER);
    expect(match[2]!.split(', ')).toEqual([...DEFAULT_EXPORT_COLUMNS]);
  });

  it('describes its filters for the audit log with the days as the admin typed them', () => {
    const request = requestOf(
      values({ country: 'UA', from: '2026-11-01', to: '2026-11-30', consent: 'no', columns: ['email'] }),
    );
    expect(describeFilters(request)).toEqual({
      letter: 'let-them-choose',
      statuses: ['confirmed'],
      country: 'UA',
      from: '2026-11-01',
      to: '2026-11-30',
      consent: false,
      columns: ['email'],
      format: 'csv',
    });
    // A PDF holds the annex whatever was ticked: the log says what left, not an address it never held.
    const pdf = requestOf(values({ columns: ['email', 'name'], format: 'pdf' }));
    expect(describeFilters(pdf)).toMatchObject({
      columns: ['status', 'public_name', 'title', 'organisation', 'country'],
      format: 'pdf',
    });
  });
});

/** What spreadsheets run as a formula when a cell begins with it (OWASP, CSV injection), full-width forms too. */
const FORMULA_START = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

/** Strings of any characters, half of them beginning with a character a spreadsheet would act on. */
const cells = fc.oneof(
  fc.string({ unit: 'binary' }),
  fc.string({ unit: 'grapheme' }),
  fc
    .tuple(
      fc.constantFrom('=', '+', '-', '@', '\t', '\r', '\uff1d', '\uff20', "'", "'=", 'a;@', 'a,='),
      fc.string({ unit: 'binary' }),
    )
    .map(([start, rest]) => start + rest),
);

describe('a cell in a CSV export', () => {
  it('never begins with a formula character unless behind the apostrophe it added', () => {
    fc.assert(
      fc.property(cells, (value) => {
        const cell = neutraliseCell(value);
        expect(FORMULA_START.test(cell)).toBe(false);
        if (FORMULA_START.test(value)) expect(cell.startsWith("'")).toBe(true);
      }),
    );
  });

  it('leaves a value with no formula character at the start of any piece unchanged', () => {
    fc.assert(
      fc.property(
        cells.filter(
          (value) =>
            !FORMULA_START.test(value) &&
            !/(?:^|[,;\t|\n\r\uff0c\uff1b])[ \u00a0\u3000]*[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/.test(value),
        ),
        (value) => {
          expect(neutraliseCell(value)).toBe(value);
        },
      ),
    );
  });

  it('only ever adds apostrophes: without them it is the original', () => {
    fc.assert(
      fc.property(cells, (value) => {
        const cell = neutraliseCell(value);
        expect(cell.replaceAll("'", '')).toBe(value.replaceAll("'", ''));
        expect(cell.length).toBeGreaterThanOrEqual(value.length);
      }),
    );
  });

  it('leaves no piece starting with a formula character, whatever separator a spreadsheet splits on', () => {
    const formula = fc.constantFrom(...FORMULA_CHARACTERS);
    const separator = fc.constantFrom(...SPLIT_CHARACTERS);
    const piece = fc.oneof(
      fc.string({ maxLength: 6 }),
      fc.tuple(formula, fc.string({ maxLength: 6 })).map(([f, rest]) => f + rest),
      fc.tuple(formula, formula, fc.string({ maxLength: 3 })).map(([a, b, rest]) => a + b + rest),
    );
    const value = fc
      .array(fc.tuple(piece, separator), { minLength: 1, maxLength: 8 })
      .map((parts) => parts.map(([p, s]) => p + s).join(''));
    fc.assert(
      fc.property(value, separator, (raw, splitOn) => {
        for (const part of neutraliseCell(raw).split(splitOn)) {
          expect(
            FORMULA_CHARACTERS.some((f) => part.startsWith(f)),
            JSON.stringify(part),
          ).toBe(false);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it.each([
    ['=HYPERLINK("http://evil.example","click")', `'=HYPERLINK("http://evil.example","click")`],
    ['+82 10 1234 5678', "'+82 10 1234 5678"],
    ['-1', "'-1"],
    ['@SUM(A1:A9)', "'@SUM(A1:A9)"],
    ['\tcmd', "'\tcmd"],
    ['\rcmd', "'\rcmd"],
    ['Org;@SUM(1+1)', "Org;'@SUM(1+1)"],
    ['Org,=1+1', "Org,'=1+1"],
    ['Org|+1', "Org|'+1"],
    ['Org\n-1', "Org\n'-1"],
    ['\uff1d1+1', "'\uff1d1+1"],
    ['Org;\uff20SUM(1)', "Org;'\uff20SUM(1)"],
    // A spreadsheet told to trim spaces drops them before it looks for a formula.
    ['Org; =HYPERLINK("http://evil.example")', `Org; '=HYPERLINK("http://evil.example")`],
    [' =1+1', " '=1+1"],
    ['Org,\u00a0\u3000+1', "Org,\u00a0\u3000'+1"],
    ['Org; a =1', 'Org; a =1'],
    ['김지훈', '김지훈'],
    ['Олена Коваленко', 'Олена Коваленко'],
    ['Anne-Marie = chair', 'Anne-Marie = chair'],
    ['', ''],
  ])('turns %j into %j', (value, expected) => {
    expect(neutraliseCell(value)).toBe(expected);
  });
});
