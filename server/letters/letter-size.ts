import Handlebars from 'handlebars';
import type { LetterMergeFields } from './merge-fields.js';

/**
 * What a letter may expand to, and how large it would be before it is rendered. A letter text is short,
 * but a list block repeats for every item: `{{#each signatories}}` written many times, or a long text
 * inside it, multiplies by the number of signatures. Rendering such a text builds strings of tens of
 * megabytes (an e-mail no relay accepts, seconds of CPU, and past V8's string limit a crash), so its
 * size is computed first, from the parsed text and the data, without building the text. No I/O here.
 */

/**
 * The longest rendered letter text (characters) the platform builds. The text goes into the e-mail
 * twice (plain text and HTML) and into the PDF; at 1,000,000 characters of Korean (3 bytes each in
 * UTF-8, 4 once base64-encoded) the two bodies alone reach 8 MB, so the message budget below stays
 * reachable. Twenty-five thousand signatories listed as "name, country" fit.
 */
export const MAX_LETTER_TEXT_LENGTH = 1_000_000;

/**
 * The largest compiled e-mail the platform queues, attachments included, as it travels (encoded). Under
 * the embedded capture server's 25 MB and the 10 MB that many ministries' and embassies' relays still
 * accept, so an official's server never refuses a letter for its size.
 */
export const MAX_MESSAGE_BYTES = 10 * 1024 * 1024;

/** How many times a letter text may list its signatories: the full list is the annex already. */
export const MAX_SIGNATORY_LISTS = 1;

/** How many list blocks ({{#each}} over any list) a letter text may hold. */
export const MAX_LIST_BLOCKS = 10;

/** The longest signatory block, in characters of the letter text: it is repeated for every signature. */
export const MAX_SIGNATORY_BLOCK_LENGTH = 500;

/** The list block that makes a letter largest: where it starts (1-based line and column) and how it begins. */
export interface LargestBlock {
  line: number;
  column: number;
  name: string;
  length: number;
}

export interface LetterSizeEstimate {
  /** Characters of the rendered text (before blank lines are squeezed: never less than the result). */
  length: number;
  /** True when the estimate stopped early because it passed the limit it was given. */
  over: boolean;
  largest: LargestBlock | undefined;
}

interface Loc {
  start: { line: number; column: number };
  end: { line: number; column: number };
}
interface Node {
  type: string;
  loc?: Loc;
}
interface PathNode extends Node {
  data: boolean;
  parts: string[];
}
interface StatementNode extends Node {
  value?: string;
  path?: PathNode;
  params?: Node[];
  program?: { body: Node[] };
  inverse?: { body: Node[] };
}

/** Stops the walk once the limit is passed: the rest cannot make the letter acceptable again. */
class OverLimit extends Error {}

type Scope =
  { kind: 'letter' } | { kind: 'item'; item: Record<string, unknown>; index: number; count: number };

const parsed = new Map<string, { body: Node[] }>();
const PARSE_CACHE_LIMIT = 200;

function parse(source: string): { body: Node[] } {
  let program = parsed.get(source);
  if (!program) {
    program = Handlebars.parse(source) as unknown as { body: Node[] };
    if (parsed.size >= PARSE_CACHE_LIMIT) parsed.clear();
    parsed.set(source, program);
  }
  return program;
}

/** Handlebars' idea of truth for {{#if}}: empty lists, empty text and zero are false. */
function truthy(value: unknown): boolean {
  return Array.isArray(value) ? value.length > 0 : Boolean(value);
}

class Estimator {
  length = 0;
  private readonly blocks = new Map<Node, number>();

  constructor(
    private readonly source: string,
    private readonly fields: LetterMergeFields,
    private limit: number,
    /** The signatures a signatory list would hold, when more than the names given (projected from them). */
    private readonly signatories: number,
  ) {}

  private add(length: number): void {
    this.length += length;
    if (this.length > this.limit) throw new OverLimit();
  }

  private value(path: PathNode, scope: Scope): unknown {
    if (path.data) {
      if (scope.kind !== 'item') return undefined;
      const name = path.parts[0];
      if (name === 'index') return scope.index;
      if (name === 'first') return scope.index === 0;
      if (name === 'last') return scope.index === scope.count - 1;
      return undefined;
    }
    let value: unknown = scope.kind === 'item' ? scope.item : this.fields;
    for (const part of path.parts) {
      if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
      value = (value as Record<string, unknown>)[part];
    }
    return value;
  }

  program(body: readonly Node[] | undefined, scope: Scope): void {
    for (const node of body ?? []) this.statement(node as StatementNode, scope);
  }

  private statement(node: StatementNode, scope: Scope): void {
    if (node.type === 'ContentStatement') return this.add(node.value?.length ?? 0);
    if (node.type === 'MustacheStatement' && node.path?.type === 'PathExpression') {
      const value = this.value(node.path, scope);
      return this.add(value === undefined || value === null ? 0 : String(value).length);
    }
    if (node.type !== 'BlockStatement' || node.path?.type !== 'PathExpression') return;
    const helper = node.path.parts[0];
    const argument = node.params?.[0];
    const value = argument?.type === 'PathExpression' ? this.value(argument as PathNode, scope) : undefined;
    if (helper === 'if' || helper === 'unless') {
      const yes = truthy(value) === (helper === 'if');
      return this.program((yes ? node.program : node.inverse)?.body, scope);
    }
    if (helper !== 'each') return;
    const items = Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
    if (items.length === 0) return this.program(node.inverse?.body, scope);
    const before = this.length;
    try {
      this.each(node, scope, argument as PathNode, items);
    } finally {
      // Recorded even when the limit stopped the walk inside it: it is the block to name.
      this.blocks.set(node, (this.blocks.get(node) ?? 0) + this.length - before);
    }
  }

  private each(
    node: StatementNode,
    scope: Scope,
    argument: PathNode,
    items: Record<string, unknown>[],
  ): void {
    const isSignatories = scope.kind === 'letter' && argument.parts.join('.') === 'signatories';
    const count = isSignatories ? Math.max(items.length, this.signatories) : items.length;
    if (count === items.length) {
      items.forEach((item, index) => this.program(node.program?.body, { kind: 'item', item, index, count }));
    } else {
      // More signatures than names at hand (a preview, a save): the names given stand for the average one.
      const start = this.length;
      const limit = this.limit;
      this.limit = Number.POSITIVE_INFINITY;
      try {
        items.forEach((item, index) =>
          this.program(node.program?.body, { kind: 'item', item, index, count }),
        );
      } finally {
        this.limit = limit;
      }
      const given = this.length - start;
      this.length = start;
      this.add(Math.ceil((given / items.length) * count));
    }
  }

  largest(): LargestBlock | undefined {
    let found: [Node, number] | undefined;
    for (const entry of this.blocks) if (!found || entry[1] > found[1]) found = entry;
    if (!found?.[0].loc) return undefined;
    const { line, column } = found[0].loc.start;
    const text = this.source.split(/\r\n?|\n/)[line - 1] ?? '';
    const opening = /^\{\{~?#each[^}]*\}\}/.exec(text.slice(column))?.[0] ?? '{{#each}}';
    return { line, column: Array.from(text.slice(0, column)).length + 1, name: opening, length: found[1] };
  }
}

/**
 * The length of a letter text rendered with these fields, computed without rendering it; stops as soon
 * as it passes `limit`. With `signatories` larger than the names in `fields`, a signatory list is
 * counted as that many names of the average length given. The text must have passed the letter text check.
 */
export function estimateLetterLength(
  source: string,
  fields: LetterMergeFields,
  options: { limit?: number; signatories?: number } = {},
): LetterSizeEstimate {
  const estimator = new Estimator(
    source,
    fields,
    options.limit ?? MAX_LETTER_TEXT_LENGTH,
    options.signatories ?? fields.signatories.length,
  );
  let over = false;
  try {
    estimator.program(parse(source).body, { kind: 'letter' });
  } catch (error) {
    if (!(error instanceof OverLimit)) throw error;
    over = true;
  }
  return { length: estimator.length, over, largest: estimator.largest() };
}

/** The size of an e-mail as it travels: each part's UTF-8 bytes base64-encoded (4 for every 3), plus headers. */
export function encodedMessageBytes(message: {
  subject: string;
  text: string;
  html: string;
  attachments?: readonly { content: Buffer | Uint8Array }[];
}): number {
  const encoded = (bytes: number) => Math.ceil(bytes / 3) * 4 + Math.ceil(bytes / 57) * 2;
  const HEADERS = 4096;
  return (
    HEADERS +
    encoded(Buffer.byteLength(message.subject)) +
    encoded(Buffer.byteLength(message.text)) +
    encoded(Buffer.byteLength(message.html)) +
    (message.attachments ?? []).reduce((sum, a) => sum + encoded(a.content.byteLength), 0)
  );
}
