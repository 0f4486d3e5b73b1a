import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import i18next from 'i18next';
import { describe, expect, it } from 'vitest';
import Handlebars from 'handlebars';
import {
  estimateLetterLength,
  MAX_LETTER_TEXT_LENGTH,
  MAX_LIST_BLOCKS,
  MAX_SIGNATORY_BLOCK_LENGTH,
} from '../../../server/letters/letter-size.js';
import {
  checkLetterSize,
  checkLetterSizeForSave,
  checkLetterText,
  describeProblem,
  MAX_BLOCK_DEPTH,
  MAX_TYPED_TEXT_LENGTH,
  LETTER_TEXT_PROBLEM_CODES,
  type LetterTextProblem,
  type LetterTextProblemCode,
  usesField,
} from '../../../server/letters/letter-text-check.js';
import { renderLetter } from '../../../server/letters/letter-text.js';
import type { LetterMergeFields } from '../../../server/letters/merge-fields.js';
import { localesDir, templatesDir } from '../../../server/lib/paths.js';
import { SIMPLE_LETTER_BODY } from '../../support/factories.js';

function problemsOf(source: string): LetterTextProblem[] {
  const result = checkLetterText(source);
  return result.ok ? [] : result.problems;
}

/** The single problem of a letter text, as [code, line, column]. */
function onlyProblem(source: string): [LetterTextProblemCode, number, number] {
  const problems = problemsOf(source);
  expect(problems, source).toHaveLength(1);
  const [problem] = problems as [LetterTextProblem];
  return [problem.code, problem.line, problem.column];
}

const FULL_FIELDS: LetterMergeFields = {
  recipient: {
    name: 'Ms Park',
    title: 'Ambassador',
    organisation: 'Embassy of Testland',
    salutation: 'Dear Ambassador',
  },
  letter: { title: 'Protect the captured soldiers' },
  date: '23 November 2026',
  signatureCount: '1,234',
  countries: [
    { name: 'South Korea', count: '800' },
    { name: 'Ukraine', count: '434' },
  ],
  signatories: [
    { name: 'Kim Ji-hoon', country: 'South Korea' },
    { name: 'O. K.', country: '' },
  ],
  organisations: [{ name: 'Friends of Testland' }],
};

const EMPTY_FIELDS: LetterMergeFields = {
  recipient: { name: '', title: '', organisation: '', salutation: '' },
  letter: { title: '' },
  date: '',
  signatureCount: '0',
  countries: [],
  signatories: [],
  organisations: [],
};

const seedTextsDir = path.join(templatesDir, 'letters');
const seedTexts = readdirSync(seedTextsDir).filter((file) => file.endsWith('.hbs'));

describe('checkLetterText accepts what letters are written with', () => {
  it('finds the seed letter texts to check', () => {
    expect(seedTexts.length).toBeGreaterThan(0);
  });

  it.each(seedTexts)('accepts the seed letter text %s', (file) => {
    expect(checkLetterText(readFileSync(path.join(seedTextsDir, file), 'utf8'))).toEqual({
      ok: true,
    });
  });

  it('accepts the letter body the test factories use', () => {
    expect(checkLetterText(SIMPLE_LETTER_BODY)).toEqual({ ok: true });
  });

  it.each([
    ['plain text', 'We ask you to protect the captured soldiers.'],
    ['an empty text', ''],
    [
      'Korean text and emoji',
      '{{date}}\n\n{{recipient.salutation}}\n\n저희는 북한을 탈출해 자유를 찾은 사람들입니다. 🕊️',
    ],
    [
      'every text field',
      '{{recipient.name}} {{recipient.title}} {{recipient.organisation}} {{letter.title}} {{signatureCount}}',
    ],
    ['this.field as the field', '{{this.date}} {{this.recipient.name}}'],
    ['comments', '{{! a note }}{{!-- a note with }} inside --}}'],
    ['whitespace control', '{{~date~}}\n{{~#if recipient.title~}} {{recipient.title}} {{~/if~}}'],
    ['if with else', '{{#if recipient.title}}{{recipient.title}}{{else}}Sir or Madam{{/if}}'],
    ['unless', '{{#unless recipient.title}}Sir or Madam{{/unless}}'],
    ['if over a list', '{{#if organisations}}With:{{/if}}'],
    [
      'an else if chain',
      '{{#if recipient.title}}a{{else if recipient.name}}b{{else if date}}c{{else}}d{{/if}}',
    ],
    ['an else unless chain', '{{#if recipient.title}}a{{else unless date}}b{{/if}}'],
    [
      'each over every list',
      '{{#each countries}}{{name}}: {{count}}{{/each}}{{#each organisations}}{{name}}{{/each}}',
    ],
    [
      'each with else',
      '{{#each signatories}}{{name}}{{else}}No one has signed yet, as of {{date}}.{{/each}}',
    ],
    [
      'the each data variables and item fields under if',
      '{{#each signatories}}{{@index}}. {{this.name}}{{#if country}} ({{country}}){{/if}}{{#unless @last}}, {{/unless}}{{#if @first}}!{{/if}}{{/each}}',
    ],
    ['an escaped merge field', 'Write \\{{date}} to insert the date.'],
    ['Windows line ends', '{{date}}\r\n\r\n{{recipient.salutation}},\r\n'],
  ])('accepts %s', (_label, source) => {
    expect(checkLetterText(source)).toEqual({ ok: true });
  });
});

describe('checkLetterText refuses each construct outside the allow-list, naming its line and column', () => {
  it.each<[string, string, LetterTextProblemCode, number, number]>([
    ['a partial', 'Dear {{> partial}}', 'partial', 1, 6],
    ['a partial block', '{{#> layout}}x{{/layout}}', 'partial', 1, 1],
    ['a dynamic partial', '{{> (lookup . "name")}}', 'partial', 1, 1],
    ['a decorator', '{{*decorator}}', 'decorator', 1, 1],
    ['an inline partial decorator block', '{{#*inline "x"}}y{{/inline}}', 'decorator', 1, 1],
    ['a triple stash', 'To {{{recipient.name}}}', 'triple_stash', 1, 4],
    ['an unescaped ampersand field', '{{&recipient.name}}', 'triple_stash', 1, 1],
    ['an unknown field', 'Dear {{recipient.nam}},', 'unknown_field', 1, 8],
    ['a part of a field', '{{recipient}}', 'unknown_field', 1, 3],
    ['this on its own', '{{this}}', 'unknown_field', 1, 3],
    ['a bracketed segment that is not the dotted field', '{{[recipient.name]}}', 'unknown_field', 1, 3],
    ['an unknown helper', '{{shout date}}', 'unknown_helper', 1, 1],
    ['the with helper', '{{#with recipient}}{{name}}{{/with}}', 'unknown_helper', 1, 1],
    ['the log helper', '{{log "x"}}', 'unknown_helper', 1, 1],
    ['a section over a list', '{{#signatories}}{{name}}{{/signatories}}', 'unknown_helper', 1, 1],
    ['an inverted section', '{{^signatories}}No one yet{{/signatories}}', 'unknown_helper', 1, 1],
    ['a raw block', '{{{{raw}}}}{{date}}{{{{/raw}}}}', 'unknown_helper', 1, 1],
    ['if written without a block', '{{if date}}', 'needs_block', 1, 1],
    ['each written without a block', '{{each signatories}}', 'needs_block', 1, 1],
    ['a prototype segment', '{{recipient.__proto__}}', 'prototype_access', 1, 3],
    ['constructor', '{{constructor}}', 'prototype_access', 1, 3],
    ['a bracketed prototype segment', '{{this.[constructor]}}', 'prototype_access', 1, 3],
    ['a prototype method as a condition', '{{#if date.toString}}x{{/if}}', 'prototype_access', 1, 7],
    [
      'hasOwnProperty inside each',
      '{{#each signatories}}{{hasOwnProperty}}{{/each}}',
      'prototype_access',
      1,
      24,
    ],
    ['the lookup helper', '{{lookup recipient "name"}}', 'lookup', 1, 1],
    ['a lookup block', '{{#lookup recipient "name"}}x{{/lookup}}', 'lookup', 1, 1],
    ['lookup as an argument', '{{#if (lookup . "date")}}x{{/if}}', 'lookup', 1, 7],
    ['a subexpression', '{{#if (date)}}x{{/if}}', 'subexpression', 1, 7],
    ['hash arguments on a field', '{{date format="long"}}', 'hash_arguments', 1, 8],
    ['hash arguments on each', '{{#each signatories key="name"}}{{name}}{{/each}}', 'hash_arguments', 1, 21],
    ['block params', '{{#each signatories as |s|}}{{s.name}}{{/each}}', 'block_params', 1, 1],
    ['a parent path inside each', '{{#each signatories}}{{../date}}{{/each}}', 'parent_path', 1, 24],
    ['a parent path at the top', '{{../date}}', 'parent_path', 1, 3],
    ['@root', '{{@root.date}}', 'data_variable', 1, 3],
    ['@key inside each', '{{#each signatories}}{{@key}}{{/each}}', 'data_variable', 1, 24],
    ['@index outside each', '{{@index}}', 'data_variable', 1, 3],
    ['@first as a condition outside each', '{{#if @first}}x{{/if}}', 'data_variable', 1, 7],
    [
      '@index in the else of each',
      '{{#each signatories}}{{else}}{{@index}}{{/each}}',
      'data_variable',
      1,
      32,
    ],
    ['a string literal as output', 'Hello {{"x"}}', 'literal', 1, 7],
    ['a number literal as output', '{{1}}', 'literal', 1, 1],
    ['a boolean literal as output', '{{true}}', 'literal', 1, 1],
    ['a literal as the argument of if', '{{#if "yes"}}x{{/if}}', 'literal', 1, 7],
    ['a literal as the list of each', '{{#each 3}}x{{/each}}', 'literal', 1, 9],
    ['each over a text field', '{{#each date}}x{{/each}}', 'each_needs_list', 1, 9],
    ['each over an unknown name', '{{#each signatures}}{{name}}{{/each}}', 'each_needs_list', 1, 9],
    ['each over this', '{{#each this}}x{{/each}}', 'each_needs_list', 1, 9],
    [
      'each over @index',
      '{{#each signatories}}{{#each @index}}x{{/each}}{{/each}}',
      'each_needs_list',
      1,
      30,
    ],
    [
      'each inside each',
      '{{#each signatories}}{{#each countries}}x{{/each}}{{/each}}',
      'each_needs_list',
      1,
      30,
    ],
    ['a list written as text', 'Signed by {{signatories}}', 'list_as_text', 1, 13],
    ['if without an argument', '{{#if}}x{{/if}}', 'helper_arguments', 1, 1],
    ['unless with two arguments', '{{#unless date recipient.name}}x{{/unless}}', 'helper_arguments', 1, 1],
    ['each without a list', '{{#each}}x{{/each}}', 'helper_arguments', 1, 1],
    ['arguments to a plain field', '{{date recipient.name}}', 'helper_arguments', 1, 1],
    ['an item field outside its each', 'Dear {{name}}', 'field_outside_each', 1, 8],
    ['an item field as a condition outside its each', '{{#if country}}x{{/if}}', 'field_outside_each', 1, 7],
    ['a letter field inside each', '{{#each signatories}}{{date}}{{/each}}', 'field_outside_each', 1, 24],
    ['an item field of another list', '{{#each organisations}}{{country}}{{/each}}', 'unknown_field', 1, 26],
    [
      'an item field in the else of its each',
      '{{#each signatories}}{{else}}{{name}}{{/each}}',
      'field_outside_each',
      1,
      32,
    ],
    ['a close that does not match its block', '{{#if date}}x{{/each}}', 'parse_error', 1, 4],
    ['an unclosed merge field', 'Dear {{recipient.name', 'parse_error', 1, 18],
    ['an unclosed block, where it opens', '{{#if date}}x', 'unclosed_block', 1, 1],
    ['an else outside a block', 'x {{else}}', 'parse_error', 1, 3],
    ['an invalid path', '{{date.this}}', 'parse_error', 1, 3],
  ])('refuses %s', (_label, source, code, line, column) => {
    expect(onlyProblem(source)).toEqual([code, line, column]);
  });

  it('refuses a text longer than the limit at line 1, column 1, without reading it', () => {
    const source = '{{> partial}}'.padEnd(MAX_TYPED_TEXT_LENGTH + 1, 'x');
    expect(checkLetterText(source)).toEqual({
      ok: false,
      problems: [
        {
          line: 1,
          column: 1,
          code: 'too_long',
          params: { name: '', length: '50001', max: String(MAX_TYPED_TEXT_LENGTH) },
        },
      ],
    });
    expect(checkLetterText('x'.repeat(MAX_TYPED_TEXT_LENGTH))).toEqual({ ok: true });
  });

  it('refuses blocks nested more deeply than the limit, at the first block too deep', () => {
    const depth = MAX_BLOCK_DEPTH + 1;
    const source = '{{#if date}}'.repeat(depth) + 'x' + '{{/if}}'.repeat(depth);
    expect(onlyProblem(source)).toEqual(['too_deep', 1, 12 * MAX_BLOCK_DEPTH + 1]);
    const allowed = '{{#if date}}'.repeat(MAX_BLOCK_DEPTH) + 'x' + '{{/if}}'.repeat(MAX_BLOCK_DEPTH);
    expect(checkLetterText(allowed)).toEqual({ ok: true });
  });

  it('refuses nesting deep enough to exhaust the parser, and goes on working afterwards', () => {
    const source = '{{^a}}'.repeat(4000) + '{{/a}}'.repeat(4000);
    expect(source.length).toBeLessThanOrEqual(MAX_TYPED_TEXT_LENGTH);
    const problems = problemsOf(source);
    expect(problems[0]?.code).toBe('too_deep');
    expect(checkLetterText('{{date}}')).toEqual({ ok: true });
  });
});

describe('checkLetterText refuses the hostile classics', () => {
  it.each<[string, LetterTextProblemCode, number, number]>([
    ['{{constructor.constructor "return process"}}', 'prototype_access', 1, 3],
    ['{{#with this}}{{/with}}', 'unknown_helper', 1, 1],
    ['{{lookup this "constructor"}}', 'lookup', 1, 1],
    ['{{> partial}}', 'partial', 1, 1],
    ['{{#> layout}}{{/layout}}', 'partial', 1, 1],
    ['{{*decorator}}', 'decorator', 1, 1],
    ['{{{recipient.name}}}', 'triple_stash', 1, 1],
    ['{{&recipient.name}}', 'triple_stash', 1, 1],
    ['{{recipient.__proto__}}', 'prototype_access', 1, 3],
    ['{{@root.recipient}}', 'data_variable', 1, 3],
    ['{{#each signatories}}{{../date}}{{/each}}', 'parent_path', 1, 24],
    ['{{log "x"}}', 'unknown_helper', 1, 1],
    ['{{#each signatories as |s|}}{{s.name}}{{/each}}', 'block_params', 1, 1],
    ['{{date (lookup .)}}', 'helper_arguments', 1, 1],
    ['{{#if}}{{/if}}', 'helper_arguments', 1, 1],
    ['{{recipient.name.length}}', 'unknown_field', 1, 3],
    ['{{signatories}}', 'list_as_text', 1, 3],
  ])('refuses %s', (source, code, line, column) => {
    expect(onlyProblem(source)).toEqual([code, line, column]);
  });

  it('names what was written and what is allowed instead', () => {
    expect(problemsOf('{{recipient.nam}}')[0]?.params).toEqual({
      name: 'recipient.nam',
      allowed:
        'recipient.name, recipient.title, recipient.organisation, recipient.salutation, letter.title, date, signatureCount',
    });
    expect(problemsOf('{{#each signatories}}{{date}}{{/each}}')[0]?.params).toEqual({
      name: 'date',
      list: 'signatories',
      allowed: 'name, country, @index, @first, @last',
    });
    expect(problemsOf('{{name}}')[0]?.params).toMatchObject({
      name: 'name',
      list: 'countries, signatories, organisations',
    });
    expect(problemsOf('{{signatories}}')[0]?.params).toEqual({
      name: 'signatories',
      example: '{{#each signatories}}{{name}}, {{country}}{{/each}}',
    });
  });
});

describe('checkLetterText positions and lists problems', () => {
  it('gives 1-based lines and columns in a multi-line text', () => {
    const source =
      'Dear {{recipient.salutation}},\n\nWe ask you\n  to act. {{> footer}}\n{{#each signatories}}\n- {{date}}\n{{/each}}';
    expect(problemsOf(source).map((p) => [p.code, p.line, p.column])).toEqual([
      ['partial', 4, 11],
      ['field_outside_each', 6, 5],
    ]);
  });

  it('counts columns in characters after Korean text and emoji', () => {
    expect(onlyProblem('편지 😀 {{nope}}')).toEqual(['unknown_field', 1, 8]);
    expect(onlyProblem('첫 줄\n둘째 줄 {{{date}}}')).toEqual(['triple_stash', 2, 6]);
  });

  it('counts lines after Windows and old Mac line ends as Handlebars does', () => {
    expect(onlyProblem('a\r\nb\rc\n  {{nope}}')).toEqual(['unknown_field', 4, 5]);
  });

  it('gives the line and column of a parse error on a later line', () => {
    expect(onlyProblem('Dear Sir,\n\nWe ask {{#if date}}\nyou {{/if}\n')).toEqual(['parse_error', 4, 10]);
  });

  it('reports every problem, sorted by position', () => {
    const source = '{{nope}} {{> partial}}\n{{#each date}}{{name}}{{/each}} {{{date}}}';
    expect(problemsOf(source).map((p) => [p.code, p.line, p.column])).toEqual([
      ['unknown_field', 1, 3],
      ['partial', 1, 10],
      ['each_needs_list', 2, 9],
      ['triple_stash', 2, 33],
    ]);
  });

  it('reports only the one problem that stops the reading when the text cannot be parsed', () => {
    const problems = problemsOf('{{> partial}} {{nope}}\n{{#if date}}');
    expect(problems.map((p) => p.code)).toEqual(['unclosed_block']);
    expect(problems[0]?.line).toBe(2);
    expect(problems[0]?.params.name).toBe('{{#if date}}');
  });

  it('names a block left open where it opens and how to close it, not the end of the text', () => {
    // The parser stops at the end ("line 33: Expecting 'OPEN_INVERSE_CHAIN', … got 'EOF'"), in English.
    const source = `{{#if recipient.title}}Dear {{recipient.title}},\n${'We ask you.\n'.repeat(30)}\n`;
    const [problem] = problemsOf(source);
    expect(problem).toMatchObject({
      line: 1,
      column: 1,
      code: 'unclosed_block',
      params: { name: '{{#if recipient.title}}', close: '{{/if}}' },
    });
    // {{^}} is an else, not a block; a block in a comment is no block.
    expect(problemsOf('{{#if date}}a{{^}}b')[0]).toMatchObject({
      code: 'unclosed_block',
      params: { close: '{{/if}}' },
    });
    expect(problemsOf('{{#if date}}\n{{!-- {{#each signatories}} --}}x')[0]).toMatchObject({
      line: 1,
      code: 'unclosed_block',
      params: { close: '{{/if}}' },
    });
    // The innermost block left open, when blocks close in between.
    expect(
      problemsOf('{{#each signatories}}{{name}}{{/each}}\n{{#if date}}\n{{#unless goal}}x{{/unless}}\n')[0],
    ).toMatchObject({
      line: 2,
      code: 'unclosed_block',
      params: { close: '{{/if}}' },
    });
  });

  it('shows the nearest line with text for a parse error found on an empty line, never the parser message', () => {
    const [problem] = problemsOf('Dear Sir,\nWe ask {{recipient.name\n\n');
    expect(problem?.code).toBe('parse_error');
    expect(problem?.params.name).not.toMatch(/Expecting|EOF/);
    expect(problem?.params.name).toBe('We ask {{recipient.name');
  });

  it('checks every branch of an else if chain', () => {
    const source = '{{#if date}}a{{else if nope}}b{{else if date}}{{> p}}{{else}}{{name}}{{/if}}';
    expect(problemsOf(source).map((p) => [p.code, p.column])).toEqual([
      ['unknown_field', 24],
      ['partial', 47],
      ['field_outside_each', 64],
    ]);
  });
});

type LetterTextMessages = { letterText: { problemAt: string; problems: Record<string, string> } };
const messageFile = (file: string) =>
  JSON.parse(readFileSync(path.join(localesDir, 'en', file), 'utf8')) as LetterTextMessages;
// The bounds on what a letter expands to keep their messages in limits.json; the keys are merged.
const messages: LetterTextMessages = {
  letterText: {
    ...messageFile('letter-text.json').letterText,
    problems: {
      ...messageFile('letter-text.json').letterText.problems,
      ...messageFile('limits.json').letterText.problems,
    },
  },
};

describe('letter text problem messages', () => {
  const examples: Record<Exclude<LetterTextProblemCode, 'too_large'>, string> = {
    too_long: 'x'.repeat(MAX_TYPED_TEXT_LENGTH + 1),
    too_deep: '{{#if date}}'.repeat(MAX_BLOCK_DEPTH + 1) + '{{/if}}'.repeat(MAX_BLOCK_DEPTH + 1),
    parse_error: 'Dear {{recipient.name',
    unclosed_block: '{{#if date}}',
    unknown_field: '{{nope}}',
    unknown_helper: '{{#with recipient}}{{/with}}',
    needs_block: '{{if date}}',
    partial: '{{> partial}}',
    decorator: '{{*decorator}}',
    triple_stash: '{{{date}}}',
    prototype_access: '{{constructor}}',
    lookup: '{{lookup . "date"}}',
    subexpression: '{{#if (date)}}{{/if}}',
    hash_arguments: '{{date a=1}}',
    block_params: '{{#each signatories as |s|}}{{/each}}',
    parent_path: '{{../date}}',
    data_variable: '{{@root}}',
    literal: '{{"x"}}',
    each_needs_list: '{{#each date}}{{/each}}',
    list_as_text: '{{signatories}}',
    helper_arguments: '{{#if}}{{/if}}',
    field_outside_each: '{{name}}',
    signatories_repeated: '{{#each signatories}}{{name}}{{/each}}'.repeat(2),
    signatory_block_too_long: `{{#each signatories}}${'x'.repeat(MAX_SIGNATORY_BLOCK_LENGTH)}{{/each}}`,
    too_many_lists: '{{#each countries}}{{name}}{{/each}}'.repeat(MAX_LIST_BLOCKS + 1),
  };

  it('has an English message for every problem code and no others', () => {
    expect(Object.keys(messages.letterText.problems).sort()).toEqual([...LETTER_TEXT_PROBLEM_CODES].sort());
  });

  it.each(LETTER_TEXT_PROBLEM_CODES)('fills every placeholder of the %s message from the problem', (code) => {
    const [problem] =
      code === 'too_large'
        ? [checkLetterSize('{{#each signatories}}{{name}}\n{{/each}}', FULL_FIELDS, 10_000_000)]
        : problemsOf(examples[code]);
    expect(problem?.code).toBe(code);
    const placeholders = [...(messages.letterText.problems[code] ?? '').matchAll(/\{\{(\w+)\}\}/g)].map(
      (m) => m[1],
    );
    expect(placeholders.length).toBeGreaterThan(0);
    for (const placeholder of placeholders) expect(Object.keys(problem!.params)).toContain(placeholder);
  });

  it('describes a problem with its position, using the i18n t function', async () => {
    const instance = i18next.createInstance();
    await instance.init({
      lng: 'en',
      resources: { en: { translation: messages } },
      interpolation: { escapeValue: false },
    });
    const t = (key: string, params?: Record<string, unknown>) => instance.t(key, params);
    const [problem] = problemsOf('Dear {{recipient.nam}},');
    expect(describeProblem(problem!, t, 'en')).toBe(
      'Line 1, column 8: recipient.nam is not a merge field. Use one of: recipient.name, recipient.title, recipient.organisation, recipient.salutation, letter.title, date, signatureCount.',
    );
    // Braces in what was written are shown as written, not interpolated again.
    const [list] = problemsOf('\n{{signatories}}');
    expect(describeProblem(list!, t, 'en')).toBe(
      'Line 2, column 3: signatories is a list and cannot be written out directly. Go through it like this: {{#each signatories}}{{name}}, {{country}}{{/each}}',
    );
  });
});

// Pieces of letter texts, allowed and hostile, so that generated texts are often accepted and often not.
const PIECES = [
  'Dear ',
  '편지 ',
  '🕊️',
  '\n',
  '\n\n',
  '{{date}}',
  '{{recipient.name}}',
  '{{this.signatureCount}}',
  '{{#if recipient.title}}',
  '{{#unless date}}',
  '{{else}}',
  '{{else if letter.title}}',
  '{{/if}}',
  '{{/unless}}',
  '{{#each signatories}}',
  '{{#each countries}}',
  '{{#each organisations}}',
  '{{/each}}',
  '{{name}}',
  '{{country}}',
  '{{count}}',
  '{{@index}}',
  '{{#if @first}}',
  '{{~date~}}',
  '{{!-- note --}}',
  '\\{{date}}',
  '{{',
  '}}',
  '{{{date}}}',
  '{{> p}}',
  '{{../date}}',
  '{{lookup . "date"}}',
  '{{#with recipient}}',
  '{{/with}}',
  '{{constructor}}',
  '{{^}}',
  '{{"x"}}',
  '{{@root.date}}',
  '{{signatories}}',
];

const itemFields: Record<string, string[]> = {
  signatories: ['name', 'country'],
  countries: ['name', 'count'],
  organisations: ['name'],
};
const text = fc.constantFrom(
  'Dear ',
  '편지 ',
  '🕊️ ',
  '\n',
  '\n\n',
  ', ',
  '{{!-- note --}}',
  '\\{{date}}',
  'a}}b',
);

/** Letter texts built only from allowed constructs, nested up to `depth` blocks. */
function allowedText(depth: number, list?: string): fc.Arbitrary<string> {
  const fields = list
    ? [...(itemFields[list] ?? []), '@index', '@first', '@last', `this.${itemFields[list]?.[0]}`]
    : ['date', 'recipient.name', 'recipient.salutation', 'letter.title', 'this.signatureCount'];
  const conditions = list ? fields : [...fields, 'signatories', 'countries'];
  const leaves = [text, fc.constantFrom(...fields).map((field) => `{{${field}}}`)];
  if (depth === 0) return fc.array(fc.oneof(...leaves), { maxLength: 6 }).map((parts) => parts.join(''));
  const inner = allowedText(depth - 1, list);
  const ifBlock = fc
    .tuple(fc.constantFrom('if', 'unless'), fc.constantFrom(...conditions), inner, fc.option(inner))
    .map(([helper, field, body, otherwise]) =>
      otherwise === null
        ? `{{#${helper} ${field}}}${body}{{/${helper}}}`
        : `{{#${helper} ${field}}}${body}{{else}}${otherwise}{{/${helper}}}`,
    );
  const blocks: fc.Arbitrary<string>[] = [ifBlock];
  if (!list) {
    blocks.push(
      fc
        .constantFrom(...Object.keys(itemFields))
        .chain((each) =>
          fc
            .tuple(allowedText(depth - 1, each), fc.option(inner))
            .map(([body, otherwise]) =>
              otherwise === null
                ? `{{#each ${each}}}${body}{{/each}}`
                : `{{#each ${each}}}${body}{{else}}${otherwise}{{/each}}`,
            ),
        ),
    );
  }
  return fc.array(fc.oneof(...leaves, ...blocks), { maxLength: 5 }).map((parts) => parts.join(''));
}

function renders(source: string): void {
  for (const fields of [FULL_FIELDS, EMPTY_FIELDS]) renderLetter(source, fields);
}

describe('checkLetterText properties', () => {
  // 500 runs take ~1.6 s alone and went past vitest's 5 s on a loaded two-core machine: a time limit
  // for a hung check, not a speed target.
  it('never throws, whatever the text', { timeout: 30_000 }, () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (source) => {
        expect(() => checkLetterText(source)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });

  it('only accepts texts that compile and render, for texts mixing allowed and hostile pieces', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constantFrom(...PIECES), fc.string()), { maxLength: 12 }), (parts) => {
        const source = parts.join('');
        if (checkLetterText(source).ok) {
          accepted += 1;
          expect(() => renders(source), source).not.toThrow();
        } else {
          refused += 1;
        }
      }),
      { numRuns: 1000 },
    );
    // Both kinds were generated, so rendering was tried on accepted texts (and the mix is not all refused).
    expect(accepted).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  it('accepts and renders every text built from the allowed constructs', () => {
    fc.assert(
      fc.property(allowedText(3), (source) => {
        // One signatory list at most, and a short one: the bounds on what a letter expands to.
        fc.pre((source.match(/\{\{#each signatories\}\}/g) ?? []).length <= 1);
        fc.pre(source.length <= MAX_SIGNATORY_BLOCK_LENGTH);
        expect(checkLetterText(source)).toEqual({ ok: true });
        renders(source);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts and renders the seed letter texts', () => {
    expect(seedTexts.length).toBeGreaterThan(0);
    for (const file of seedTexts) {
      expect(() => renders(readFileSync(path.join(seedTextsDir, file), 'utf8')), file).not.toThrow();
    }
  });
});

describe('what a letter text can expand to', () => {
  const LIST = '{{#each signatories}}{{name}}, {{country}}\n{{/each}}';

  it('refuses a text that lists its signatories more than once, once, at the second list, with how many there are', () => {
    // The text of the report: 1,200 lists made a 47 MB e-mail at 1,000 signatures.
    const problems = problemsOf(
      `Dear {{recipient.name}},\n\n${'{{#each signatories}}{{name}}{{/each}}'.repeat(1200)}`,
    );
    // Reported once (not 1,199 times), beside the count of list blocks, also past its limit.
    expect(problems.map((p) => p.code)).toEqual(['signatories_repeated', 'too_many_lists']);
    expect(problems[0]).toMatchObject({
      code: 'signatories_repeated',
      line: 3,
      column: 39,
      params: { count: '1200', max: '1', name: '{{#each signatories}}' },
    });
  });

  it('accepts one signatory list, and the seed letters', () => {
    expect(checkLetterText(`Dear {{recipient.name}},\n\n${LIST}`)).toEqual({ ok: true });
    for (const file of seedTexts) {
      expect(checkLetterText(readFileSync(path.join(seedTextsDir, file), 'utf8')), file).toEqual({
        ok: true,
      });
    }
  });

  it('refuses a signatory list longer than its limit, since it repeats for every signature', () => {
    const long = `{{#each signatories}}{{name}} ${'signed. '.repeat(70)}\n{{/each}}`;
    const [problem] = problemsOf(`Hello\n${long}`);
    expect(problem).toMatchObject({
      code: 'signatory_block_too_long',
      line: 2,
      column: 1,
      params: { max: String(MAX_SIGNATORY_BLOCK_LENGTH), length: String(long.length) },
    });
  });

  it('refuses more list blocks than its limit, at the first one too many', () => {
    const list = '{{#each countries}}{{name}}: {{count}}\n{{/each}}';
    const problems = problemsOf(`${list}\n`.repeat(MAX_LIST_BLOCKS) + list);
    // Each list takes two lines.
    expect(problems.map((p) => [p.code, p.line])).toEqual([['too_many_lists', 2 * MAX_LIST_BLOCKS + 1]]);
    expect(checkLetterText(`${list}\n`.repeat(MAX_LIST_BLOCKS))).toEqual({ ok: true });
  });

  it('cannot nest a signatory list in another list', () => {
    expect(problemsOf(`{{#each countries}}${LIST}{{/each}}`).map((p) => p.code)).toContain('each_needs_list');
  });

  it('refuses a signatory list that would pass the length limit at the expected signatures, naming its line', () => {
    const source = `{{recipient.salutation}},\n\nWe ask you to act.\n${LIST}`;
    const problem = checkLetterSizeForSave(source, 'en', 100_000, (code) => code);
    expect(problem).toMatchObject({
      code: 'too_large',
      line: 4,
      column: 1,
      // Plain figures: the page formats them in the reader's language (describeProblem).
      params: { name: '{{#each signatories}}', count: '100000', max: '1000000' },
    });
    expect(checkLetterSizeForSave(source, 'en', 5_000, (code) => code)).toBeUndefined();
    // Without a list, any number of signatures is fine.
    expect(checkLetterSizeForSave('{{signatureCount}} signed.', 'en', 10_000_000, (c) => c)).toBeUndefined();
  });

  // 300 random texts rendered by Handlebars: seconds of CPU on a busy machine, more than the default 5 s.
  it('estimates at least the length Handlebars renders, exactly without data variables, for every text built from the allowed constructs', () => {
    const handlebars = Handlebars.create();
    fc.assert(
      fc.property(allowedText(3), (source) => {
        for (const fields of [FULL_FIELDS, EMPTY_FIELDS]) {
          const rendered = handlebars.compile(source, { strict: true, noEscape: true })(fields);
          const estimate = estimateLetterLength(source, fields);
          expect(estimate.over).toBe(false);
          // Handlebars renders @first/@last oddly inside the {{else}} of a block; the estimate counts them in full.
          if (source.includes('@')) expect(estimate.length).toBeGreaterThanOrEqual(rendered.length);
          else expect(estimate.length).toBe(rendered.length);
          expect(renderLetter(source, fields).text.length).toBeLessThanOrEqual(rendered.length);
        }
      }),
      { numRuns: 300 },
    );
  }, 30_000);

  it('stops estimating once past the limit, and names the list that makes the text large', () => {
    const signatories = Array.from({ length: 30_000 }, (_, i) => ({ name: `Name ${i}`, country: 'Korea' }));
    const estimate = estimateLetterLength(
      `Intro\n{{#each countries}}{{name}}{{/each}}\n${LIST}`,
      {
        ...FULL_FIELDS,
        signatories,
      },
      { limit: 100_000 },
    );
    expect(estimate.over).toBe(true);
    expect(estimate.length).toBeLessThanOrEqual(100_000 + 50);
    expect(estimate.largest).toMatchObject({ line: 3, column: 1, name: '{{#each signatories}}' });
    expect(MAX_LETTER_TEXT_LENGTH).toBeGreaterThan(100_000);
  });
});

describe('usesField: whether a saved text uses a merge field', () => {
  it('finds the field as a value, a list and a condition, at the letter level only', () => {
    expect(usesField('{{#each organisations}}{{this}}{{/each}}', 'organisations')).toBe(true);
    expect(usesField('{{#if organisations}}With us: …{{/if}}', 'organisations')).toBe(true);
    expect(usesField('Signed by {{organisations}}', 'organisations')).toBe(true);
    expect(usesField('The undersigned organisations', 'organisations')).toBe(false);
    expect(usesField('{{#each signatories}}{{organisation}}{{/each}}', 'organisations')).toBe(false);
    expect(usesField('{{sponsor}}', 'organisations')).toBe(false);
    expect(usesField('{{#each', 'organisations')).toBe(false);
  });
});
