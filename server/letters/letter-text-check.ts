import Handlebars from 'handlebars';
import { formatsFor } from '../lib/format.js';
import type { EditorErrors } from './letter-input.js';
import {
  estimateLetterLength,
  MAX_LETTER_TEXT_LENGTH,
  MAX_LIST_BLOCKS,
  MAX_SIGNATORY_BLOCK_LENGTH,
  MAX_SIGNATORY_LISTS,
} from './letter-size.js';
import {
  buildMergeFields,
  EACH_DATA_VARIABLES,
  LETTER_HELPERS,
  MERGE_FIELDS,
  recipientFields,
  SAMPLE_COUNTRIES,
  SAMPLE_SIGNATORIES,
  type LetterMergeFields,
  type MergeField,
} from './merge-fields.js';

/**
 * The save-time check of an organizer-written letter text. Letter texts are untrusted Handlebars
 * templates: this walks the parsed text and accepts only content, comments, the merge fields of
 * merge-fields.ts where they exist, and {{#if}}, {{#unless}} and {{#each}} used plainly. Everything else
 * is refused with a position and a code that the editor turns into a message (locales/en/letter-text.json).
 * No I/O here.
 */

/** Every reason a letter text can be refused; each has a message under letterText.problems. */
export const LETTER_TEXT_PROBLEM_CODES = [
  'too_long',
  'too_deep',
  'parse_error',
  'unclosed_block',
  'unknown_field',
  'unknown_helper',
  'needs_block',
  'partial',
  'decorator',
  'triple_stash',
  'prototype_access',
  'lookup',
  'subexpression',
  'hash_arguments',
  'block_params',
  'parent_path',
  'data_variable',
  'literal',
  'each_needs_list',
  'list_as_text',
  'helper_arguments',
  'field_outside_each',
  'signatories_repeated',
  'signatory_block_too_long',
  'too_many_lists',
  'too_large',
] as const;

/** Why a letter text was refused. */
export type LetterTextProblemCode = (typeof LETTER_TEXT_PROBLEM_CODES)[number];

/** One refused construct: 1-based line and column (in characters) of where it starts, and message parameters. */
export interface LetterTextProblem {
  line: number;
  column: number;
  code: LetterTextProblemCode;
  params: Record<string, string>;
}

/** The longest letter text accepted, in UTF-16 code units as JavaScript counts string length. */
export const MAX_TYPED_TEXT_LENGTH = 50_000;

/**
 * How many blocks may sit inside one another ({{else if}} counts as one more). A letter needs two or
 * three; the limit keeps parsing and compiling far away from the call stack's depth.
 */
export const MAX_BLOCK_DEPTH = 20;

// Names that reach into JavaScript objects rather than letter data. Handlebars 4.7 already refuses
// prototype access at run time; refusing at save time tells the organizer and keeps such texts out.
const PROTOTYPE_NAMES: ReadonlySet<string> = new Set([
  'constructor',
  'prototype',
  '__proto__',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
  'hasOwnProperty',
  'isPrototypeOf',
  'propertyIsEnumerable',
  'toString',
  'toLocaleString',
  'valueOf',
  'apply',
  'bind',
  'call',
  'caller',
  'arguments',
]);

const ALLOWED_HELPERS: ReadonlySet<string> = new Set<string>(LETTER_HELPERS);
// Handlebars' other built-in helpers; the letter environment removes or never calls them.
const OTHER_BUILT_IN_HELPERS: ReadonlySet<string> = new Set([
  'with',
  'log',
  'helperMissing',
  'blockHelperMissing',
]);
const DATA_VARIABLES: ReadonlySet<string> = new Set<string>(EACH_DATA_VARIABLES);
const DATA_VARIABLE_NAMES = EACH_DATA_VARIABLES.map((name) => `@${name}`);
// A Map, so that a path such as "constructor" can never find something on Object.prototype.
const LETTER_FIELDS: ReadonlyMap<string, MergeField> = new Map(Object.entries(MERGE_FIELDS));
const fieldNames = (kind: MergeField['kind']) =>
  [...LETTER_FIELDS].filter(([, field]) => field.kind === kind).map(([name]) => name);
const TEXT_FIELDS = fieldNames('text');
const LIST_FIELDS = fieldNames('list');
const NAME_LIMIT = 60;

// The few AST shapes the checker reads. Handlebars' own typings miss some of what the parser produces
// (a block opened with {{^…}} has no program; empty programs have no position), so they are described here.
interface Position {
  line: number;
  column: number;
}
interface SourceLocation {
  start: Position;
  end: Position;
}
interface AstNode {
  type: string;
  loc?: SourceLocation;
}
interface PathNode extends AstNode {
  type: 'PathExpression';
  data: boolean;
  depth: number;
  parts: string[];
  original: string;
}
interface CallNode extends AstNode {
  path: AstNode;
  params: AstNode[];
  hash?: AstNode;
}
interface ProgramNode extends AstNode {
  body: AstNode[];
  blockParams?: string[];
}
interface MustacheNode extends CallNode {
  escaped: boolean;
}
interface BlockNode extends CallNode {
  program?: ProgramNode;
  inverse?: ProgramNode;
}

/** Where merge fields are resolved: the letter itself, one item of a list, or unknown after a refused block. */
type Scope =
  { kind: 'letter' } | { kind: 'item'; list: string; fields: readonly string[] } | { kind: 'unknown' };

/** What a path is used for decides what it may name. */
type Use = 'text' | 'condition' | 'list';

/** Line starts and texts of the source, to turn Handlebars positions into what an editor shows. */
class SourceText {
  private readonly lines: string[];
  private readonly starts: number[] = [0];

  constructor(readonly full: string) {
    // The same line breaks that Handlebars' lexer counts.
    this.lines = full.split(/\r\n?|\n/);
    for (const lineBreak of full.matchAll(/\r\n?|\n/g))
      this.starts.push(lineBreak.index + lineBreak[0].length);
  }

  line(line: number): string {
    return this.lines[line - 1] ?? '';
  }

  /** Handlebars counts columns from 0 in UTF-16 code units; people count characters from 1. */
  column(line: number, column: number): number {
    return Array.from(this.line(line).slice(0, column)).length + 1;
  }

  /** The 1-based line and column of an offset in the source. */
  position(offset: number): { line: number; column: number } {
    let line = 1;
    while (line < this.starts.length && this.starts[line]! <= offset) line += 1;
    return { line, column: this.column(line, offset - this.starts[line - 1]!) };
  }

  text(loc: SourceLocation | undefined): string {
    if (!loc) return '';
    const from = (this.starts[loc.start.line - 1] ?? 0) + loc.start.column;
    const to = (this.starts[loc.end.line - 1] ?? 0) + loc.end.column;
    return this.full.slice(from, to);
  }
}

function shorten(text: string): string {
  const characters = Array.from(text.replace(/\s+/g, ' ').trim());
  return characters.length > NAME_LIMIT
    ? `${characters.slice(0, NAME_LIMIT - 1).join('')}…`
    : characters.join('');
}

function isPath(node: AstNode): node is PathNode {
  return node.type === 'PathExpression';
}

/** Handlebars calls a helper only for a bare name: not data, not this./../, one segment. */
function helperName(path: PathNode): string | undefined {
  return !path.data && path.depth === 0 && path.parts.length === 1 && !/^\.|this\b/.test(path.original)
    ? path.parts[0]
    : undefined;
}

function blockExample(helper: string): string {
  return helper === 'each'
    ? '{{#each signatories}}…{{/each}}'
    : `{{#${helper} recipient.title}}…{{/${helper}}}`;
}

function listExample(list: string): string {
  const item = MERGE_FIELDS[list];
  const fields = item?.kind === 'list' ? Object.keys(item.item) : [];
  return `{{#each ${list}}}${fields.map((field) => `{{${field}}}`).join(', ')}{{/each}}`;
}

function listsWithItemField(name: string): string[] {
  return LIST_FIELDS.filter((list) => {
    const field = LETTER_FIELDS.get(list);
    return field?.kind === 'list' && Object.hasOwn(field.item, name);
  });
}

const TEXT: MergeField = { kind: 'text' };

/** The merge field a path names in a scope, if any. */
function fieldIn(path: PathNode, scope: Scope & { kind: 'letter' | 'item' }): MergeField | undefined {
  if (path.data || path.parts.length === 0) return undefined;
  if (scope.kind === 'item')
    return path.parts.length === 1 && scope.fields.includes(path.parts[0]!) ? TEXT : undefined;
  // A segment written as [recipient.name] is one property named "recipient.name", which no field is.
  if (path.parts.some((part) => part.includes('.'))) return undefined;
  return LETTER_FIELDS.get(path.parts.join('.'));
}

class LetterTextWalker {
  readonly problems: LetterTextProblem[] = [];
  // Blocks that repeat for every item of a list: what a letter expands to is bounded by counting them.
  private readonly signatoryLists: BlockNode[] = [];
  private listBlocks = 0;

  constructor(private readonly source: SourceText) {}

  private report(node: AstNode, code: LetterTextProblemCode, params: Record<string, string>): void {
    const start = node.loc?.start ?? { line: 1, column: 0 };
    this.problems.push({
      line: start.line,
      column: this.source.column(start.line, start.column),
      code,
      params,
    });
  }

  private name(node: AstNode): string {
    return shorten(this.source.text(node.loc) || (isPath(node) ? node.original : ''));
  }

  program(program: ProgramNode | undefined, scope: Scope, depth: number): void {
    for (const statement of program?.body ?? []) this.statement(statement, scope, depth);
  }

  private statement(node: AstNode, scope: Scope, depth: number): void {
    switch (node.type) {
      case 'ContentStatement':
      case 'CommentStatement':
        return;
      case 'MustacheStatement':
        return this.mustache(node as MustacheNode, scope);
      case 'BlockStatement':
        return this.block(node as BlockNode, scope, depth + 1);
      // Partials and decorators are refused whole: what they contain is not letter text.
      case 'PartialStatement':
      case 'PartialBlockStatement':
        return this.report(node, 'partial', { name: this.name(node) });
      case 'Decorator':
      case 'DecoratorBlock':
        return this.report(node, 'decorator', { name: this.name(node) });
      default:
        return this.report(node, 'parse_error', { name: this.name(node), detail: node.type });
    }
  }

  private mustache(node: MustacheNode, scope: Scope): void {
    if (!node.escaped) this.report(node, 'triple_stash', { name: this.name(node.path) });
    const path = node.path;
    if (!isPath(path)) return this.report(node, 'literal', { name: this.name(path) });
    const helper = helperName(path);
    if (helper === 'lookup') return this.report(node, 'lookup', { name: helper });
    if (helper !== undefined && ALLOWED_HELPERS.has(helper)) {
      return this.report(node, 'needs_block', { name: helper, example: blockExample(helper) });
    }
    if (helper !== undefined && OTHER_BUILT_IN_HELPERS.has(helper)) return this.unknownHelper(node, helper);
    if (node.params.length === 0 && !node.hash) {
      this.path(path, scope, 'text');
      return;
    }
    // A call: the arguments belong to the call and are not examined on their own.
    if (this.unsafePath(path, scope)) return;
    if (!path.data && scope.kind !== 'unknown' && !fieldIn(path, scope)) {
      return this.unknownHelper(node, this.name(path));
    }
    if (node.params.length > 0) {
      this.report(node, 'helper_arguments', { name: this.name(path), example: `{{${this.name(path)}}}` });
    }
    if (node.hash) this.report(node.hash, 'hash_arguments', { name: this.name(node.hash) });
  }

  private block(node: BlockNode, scope: Scope, depth: number): void {
    if (depth > MAX_BLOCK_DEPTH) {
      return this.report(node, 'too_deep', { name: this.name(node.path), max: String(MAX_BLOCK_DEPTH) });
    }
    const path = node.path;
    const helper = isPath(path) ? helperName(path) : undefined;
    // Inside a refused block, fields cannot be judged; its other constructs still are.
    let inner: Scope = { kind: 'unknown' };
    let inverse: Scope = { kind: 'unknown' };
    if (!isPath(path)) {
      this.report(node, 'literal', { name: this.name(path) });
    } else if (helper === 'if' || helper === 'unless' || helper === 'each') {
      if (node.params.length !== 1) {
        this.report(node, 'helper_arguments', { name: helper, example: blockExample(helper) });
      }
      const named = node.params.map((param) =>
        this.argument(param, scope, helper === 'each' ? 'list' : 'condition'),
      );
      const list = node.params.length === 1 ? named[0] : undefined;
      const field = helper === 'each' && list !== undefined ? LETTER_FIELDS.get(list) : undefined;
      if (field?.kind === 'list' && list !== undefined) {
        inner = { kind: 'item', list, fields: Object.keys(field.item) };
        this.listBlock(node, list);
      } else if (helper !== 'each') {
        inner = scope;
      }
      // The {{else}} of an each is rendered with the surrounding data, not with an item.
      inverse = scope;
    } else if (helper === 'lookup') {
      this.report(node, 'lookup', { name: helper });
    } else if (!this.unsafePath(path, scope)) {
      this.unknownHelper(node, this.name(path));
    }
    const blockParams = node.program?.blockParams ?? [];
    if (blockParams.length > 0) {
      const allowed = this.allowedIn(inner.kind === 'unknown' ? scope : inner, 'text').join(', ');
      this.report(node, 'block_params', { name: `as |${blockParams.join(' ')}|`, allowed });
      inner = { kind: 'unknown' };
    }
    if (node.hash) this.report(node.hash, 'hash_arguments', { name: this.name(node.hash) });
    this.program(node.program, inner, depth);
    this.program(node.inverse, inverse, depth);
  }

  /** Counts a list block; a signatory list repeats for every signature, so its length is bounded too. */
  private listBlock(node: BlockNode, list: string): void {
    this.listBlocks += 1;
    const opening = shorten(this.source.text(node.loc).split('}}')[0] ?? '') + '}}';
    if (this.listBlocks === MAX_LIST_BLOCKS + 1)
      this.report(node, 'too_many_lists', { name: opening, max: String(MAX_LIST_BLOCKS) });
    if (list !== 'signatories') return;
    this.signatoryLists.push(node);
    const length = Array.from(this.source.text(node.loc)).length;
    if (length > MAX_SIGNATORY_BLOCK_LENGTH) {
      this.report(node, 'signatory_block_too_long', {
        name: opening,
        length: String(length),
        max: String(MAX_SIGNATORY_BLOCK_LENGTH),
      });
    }
  }

  /** Problems only known once the whole text is read: one report for all the signatory lists too many. */
  finish(): void {
    const extra = this.signatoryLists[MAX_SIGNATORY_LISTS];
    if (extra) {
      this.report(extra, 'signatories_repeated', {
        name: '{{#each signatories}}',
        count: String(this.signatoryLists.length),
        max: String(MAX_SIGNATORY_LISTS),
      });
    }
  }

  private unknownHelper(node: AstNode, name: string): void {
    this.report(node, 'unknown_helper', {
      name,
      allowed: [...ALLOWED_HELPERS].map((h) => `#${h}`).join(', '),
    });
  }

  /** Checks an argument of if, unless or each; returns the field it names when it is a plain path. */
  private argument(node: AstNode, scope: Scope, use: Use): string | undefined {
    if (node.type === 'SubExpression') {
      const path = (node as CallNode).path;
      const code = isPath(path) && helperName(path) === 'lookup' ? 'lookup' : 'subexpression';
      this.report(node, code, { name: this.name(node) });
      return undefined;
    }
    if (!isPath(node)) {
      this.report(node, 'literal', { name: this.name(node) });
      return undefined;
    }
    return this.path(node, scope, use) ? node.parts.join('.') : undefined;
  }

  /** Reports what is wrong with a path whatever the scope; true when something was. */
  private unsafePath(path: PathNode, scope: Scope): boolean {
    const name = this.name(path);
    if (path.parts.some((part) => PROTOTYPE_NAMES.has(part))) {
      this.report(path, 'prototype_access', { name });
      return true;
    }
    if (path.depth > 0) {
      this.report(path, 'parent_path', { name, allowed: this.allowedIn(scope, 'text').join(', ') });
      return true;
    }
    if (path.data) {
      const first = path.parts[0] ?? '';
      if (scope.kind !== 'letter' && path.parts.length === 1 && DATA_VARIABLES.has(first)) return false;
      this.report(path, 'data_variable', { name, allowed: DATA_VARIABLE_NAMES.join(', ') });
      return true;
    }
    return false;
  }

  /** Checks a path used as text, as a condition or as the list of an each; true when it is allowed. */
  private path(path: PathNode, scope: Scope, use: Use): boolean {
    if (this.unsafePath(path, scope)) return false;
    const name = this.name(path);
    if (path.data) {
      if (use !== 'list') return true;
      this.report(path, 'each_needs_list', { name, allowed: LIST_FIELDS.join(', ') });
      return false;
    }
    if (scope.kind === 'unknown') return true;
    const key = path.parts.join('.');
    const field = fieldIn(path, scope);
    if (field) {
      if (use === 'text' && field.kind === 'list') {
        this.report(path, 'list_as_text', { name, example: listExample(key) });
        return false;
      }
      if (use === 'list' && field.kind !== 'list') {
        this.report(path, 'each_needs_list', { name, allowed: LIST_FIELDS.join(', ') });
        return false;
      }
      return true;
    }
    if (use === 'list') {
      this.report(path, 'each_needs_list', { name, allowed: LIST_FIELDS.join(', ') });
      return false;
    }
    const allowed = this.allowedIn(scope, use).join(', ');
    const lists = scope.kind === 'letter' && path.parts.length === 1 ? listsWithItemField(key) : [];
    if (lists.length > 0) {
      this.report(path, 'field_outside_each', { name, allowed, list: lists.join(', ') });
    } else if (scope.kind === 'item' && LETTER_FIELDS.has(key)) {
      this.report(path, 'field_outside_each', { name, allowed, list: scope.list });
    } else {
      this.report(path, 'unknown_field', { name, allowed });
    }
    return false;
  }

  private allowedIn(scope: Scope, use: Use): string[] {
    if (scope.kind === 'item') return [...scope.fields, ...DATA_VARIABLE_NAMES];
    if (use === 'list') return LIST_FIELDS;
    return use === 'text' ? TEXT_FIELDS : [...LETTER_FIELDS.keys()];
  }
}

interface LexerLocation {
  first_line?: unknown;
  first_column?: unknown;
}

/** The position of a template Handlebars could not parse, from the error and the parser's last token. */
function parseErrorProblem(error: unknown, source: SourceText): LetterTextProblem {
  if (error instanceof RangeError) {
    // The parser recursed past the call stack: only deeply nested blocks or expressions get there.
    return { line: 1, column: 1, code: 'too_deep', params: { name: '', max: String(MAX_BLOCK_DEPTH) } };
  }
  const message = error instanceof Error ? error.message : String(error);
  const fields = (error ?? {}) as { lineNumber?: unknown; column?: unknown };
  let line = 1;
  let column = 0;
  let detail = message.split('\n').at(-1) ?? message;
  if (typeof fields.lineNumber === 'number' && typeof fields.column === 'number') {
    // Handlebars' own exceptions (a block closed with another name, an invalid path) carry the position.
    line = fields.lineNumber;
    column = fields.column;
    detail = message.replace(/ - \d+:\d+$/, '');
  } else {
    const reported = /^(?:Parse|Lexical) error on line (\d+)/.exec(message);
    if (reported) line = Number(reported[1]);
    // The message names only the line; the lexer's last token has the column.
    const lexer = (Handlebars as unknown as { Parser?: { lexer?: { yylloc?: LexerLocation } } }).Parser
      ?.lexer;
    const at = lexer?.yylloc;
    if (at && at.first_line === line && typeof at.first_column === 'number') column = at.first_column;
  }
  // The text ended inside a block: the parser says so at the end, where nothing is wrong; the block
  // left open is what to fix, and where.
  const open = /got 'EOF'/.test(message) ? unclosedBlock(source.full) : undefined;
  if (open) {
    const at = source.position(open.offset);
    return {
      ...at,
      code: 'unclosed_block',
      params: { name: shorten(open.text), close: `{{/${open.name}}}` },
    };
  }
  // An empty line (the end of the text) says nothing: the nearest line above with text stands for it,
  // never the parser's own English message.
  let shown = line;
  while (shown > 1 && source.line(shown).trim() === '') shown -= 1;
  return {
    line,
    column: source.column(line, column),
    code: 'parse_error',
    params: { name: shorten(source.line(shown)), detail },
  };
}

/** The last block a text opens and never closes (`{{#if a}}` without `{{/if}}`), by a scan of its mustaches. */
function unclosedBlock(source: string): { offset: number; name: string; text: string } | undefined {
  const open: { offset: number; name: string; text: string }[] = [];
  // Comments hide what they hold ("{{!-- {{#each x}} --}}"): blanked, at the same length, so offsets stay.
  const uncommented = source.replace(/\{\{~?!--[\s\S]*?--~?\}\}|\{\{~?![\s\S]*?\}\}/g, (c) =>
    ' '.repeat(c.length),
  );
  // A name is required: {{^}} alone is an else, not a block.
  for (const match of uncommented.matchAll(/\{\{~?\s*([#^/])\s*([^\s}~]+)[^}]*\}\}/g)) {
    if (match[1] === '/') {
      if (open.at(-1)?.name === match[2]) open.pop();
    } else {
      open.push({ offset: match.index, name: match[2]!, text: match[0] });
    }
  }
  return open.at(-1);
}

/** Checks an organizer-written letter text against the merge fields and helpers a letter may use. */
/** The offset of the first block opened deeper than MAX_BLOCK_DEPTH, by a scan of the mustaches. */
function tooDeepAt(source: string): number | undefined {
  let depth = 0;
  for (const match of source.matchAll(/\{\{~?\s*([#^/])/g)) {
    if (match[1] === '/') depth = Math.max(0, depth - 1);
    else if (++depth > MAX_BLOCK_DEPTH) return match.index;
  }
  return undefined;
}

export function checkLetterText(source: string): { ok: true } | { ok: false; problems: LetterTextProblem[] } {
  if (source.length > MAX_TYPED_TEXT_LENGTH) {
    const params = { name: '', length: String(source.length), max: String(MAX_TYPED_TEXT_LENGTH) };
    return { ok: false, problems: [{ line: 1, column: 1, code: 'too_long', params }] };
  }
  const text = new SourceText(source);
  // Deep nesting is found by a scan before parsing: Handlebars' parser recurses per block and needs
  // seconds (then overflows the stack) on thousands of nested blocks, which a saved text must not cost.
  const deep = tooDeepAt(source);
  if (deep !== undefined) {
    const { line, column } = text.position(deep);
    return {
      ok: false,
      problems: [{ line, column, code: 'too_deep', params: { name: '', max: String(MAX_BLOCK_DEPTH) } }],
    };
  }
  let ast: ProgramNode;
  try {
    ast = Handlebars.parse(source) as unknown as ProgramNode;
  } catch (error) {
    return { ok: false, problems: [parseErrorProblem(error, text)] };
  }
  const walker = new LetterTextWalker(text);
  walker.program(ast, { kind: 'letter' }, 0);
  walker.finish();
  if (walker.problems.length === 0) return { ok: true };
  // A stable sort: problems at the same place keep the order they were found in.
  const problems = walker.problems.sort((a, b) => a.line - b.line || a.column - b.column);
  return { ok: false, problems };
}

/** Problem parameters that are figures: kept as plain digits, formatted in the reader's language when shown. */
const FIGURES = ['count', 'max', 'length'];

/** The problem as "Line L, column C: message" using the i18n t function, figures in the reader's `language` */
export function describeProblem(
  problem: LetterTextProblem,
  t: (key: string, params?: Record<string, unknown>) => string,
  language: string,
): string {
  const formats = formatsFor(language);
  const params = Object.fromEntries(
    Object.entries(problem.params).map(([name, value]) => [
      name,
      FIGURES.includes(name) && /^\d+$/.test(value) ? formats.number(Number(value)) : value,
    ]),
  );
  const message = t(`letterText.problems.${problem.code}`, params);
  return t('letterText.problemAt', { line: problem.line, column: problem.column, message });
}

/**
 * The size check of a checked letter text with data: a `too_large` problem, at the list block that makes
 * it largest, when the text would render past MAX_LETTER_TEXT_LENGTH with `signatures` signatures (the
 * names in `fields` stand for the average signatory). Cheap: nothing is rendered.
 */
export function checkLetterSize(
  source: string,
  fields: LetterMergeFields,
  signatures: number,
): LetterTextProblem | undefined {
  const estimate = estimateLetterLength(source, fields, { signatories: signatures });
  if (!estimate.over) return undefined;
  const block = estimate.largest;
  return {
    line: block?.line ?? 1,
    column: block?.column ?? 1,
    code: 'too_large',
    params: {
      name: block?.name ?? '',
      count: String(signatures),
      max: String(MAX_LETTER_TEXT_LENGTH),
    },
  };
}

/**
 * The size check of a letter text when it is saved, before anyone is listed: sample signatories stand
 * for `signatures` of them (the goal or today's count, whichever is more).
 */
export function checkLetterSizeForSave(
  source: string,
  language: string,
  signatures: number,
  countryName: (code: string, language: string) => string,
): LetterTextProblem | undefined {
  const fields = buildMergeFields(
    {
      recipient: recipientFields(null, language),
      letterTitle: '',
      language,
      date: new Date(0),
      signatureCount: signatures,
      countries: SAMPLE_COUNTRIES,
      signatories: SAMPLE_SIGNATORIES,
      organisations: [],
    },
    countryName,
  );
  return checkLetterSize(source, fields, signatures);
}

/**
 * The size check of every text of a letter being saved, as editor errors beside each body; undefined
 * when all of them fit with `signatures` signatures (the goal or today's count, whichever is more).
 */
export function letterSizeErrors(
  texts: readonly { language: string; body: string }[],
  signatures: number,
  countryName: (code: string, language: string) => string,
): EditorErrors | undefined {
  const errors: EditorErrors = {};
  for (const text of texts) {
    if (text.body === '' || !checkLetterText(text.body).ok) continue;
    const problem = checkLetterSizeForSave(text.body, text.language, signatures, countryName);
    if (problem) errors[`body_${text.language}`] = [{ key: 'letterText.problemAt', problem }];
  }
  return Object.keys(errors).length > 0 ? errors : undefined;
}

/**
 * Whether a saved letter text uses a merge field anywhere: `{{field}}`, `{{#each field}}`, `{{#if field}}`
 * (at the letter's own level, not a signatory's). False for a text that does not parse.
 */
export function usesField(source: string, field: string): boolean {
  if (tooDeepAt(source) !== undefined) return false;
  let ast: hbs.AST.Program;
  try {
    ast = Handlebars.parse(source);
  } catch {
    return false;
  }
  let found = false;
  const finder = new (class extends Handlebars.Visitor {
    override PathExpression(path: hbs.AST.PathExpression): void {
      if (path.depth === 0 && !path.data && path.parts[0] === field) found = true;
    }
  })();
  finder.accept(ast);
  return found;
}
