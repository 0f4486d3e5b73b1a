import type { Compilable, CompiledQuery, QueryResult } from 'kysely';
import type { Executor } from './database.js';
import { dialectOf } from './dialect.js';

/**
 * Stands for a named parameter while a reusable query is compiled. It may only be passed as a value:
 * anything computed from it (`now + windowMs`, a template string) would be compiled into the statement
 * as a constant, so turning it into a primitive throws instead.
 */
class Parameter {
  constructor(readonly name: string) {}

  [Symbol.toPrimitive](): never {
    throw new Error(`reusable query: parameter "${this.name}" is computed with, not passed as a value`);
  }
}

/** The compiled text of a query, with each of its parameters either a constant or a named slot. */
interface Template<R> {
  readonly compiled: CompiledQuery<R>;
  readonly slots: readonly unknown[];
}

/**
 * A query built and compiled once per database dialect and set of named values, then run again with new
 * values: building and compiling a Kysely query costs more than SQLite takes to run the small statements
 * of a signing (issue 12), and the text is the same every time. `build` receives stand-ins for the
 * values (those not undefined) and must pass each one as a value as it is: a value computed from others
 * is a value of its own. The text and the constants it compiles to are those Kysely builds on every call;
 * a set of names (an insert's columns) compiles a text of its own.
 */
export class ReusableQuery<P extends Record<string, unknown>, R> {
  private readonly templates = new Map<string, Template<R>>();

  constructor(private readonly build: (db: Executor, values: P) => Compilable<R>) {}

  /** Runs the query on `db` (the database or an open transaction) with `values`. */
  async execute(db: Executor, values: P): Promise<QueryResult<R>> {
    const names = Object.keys(values).filter((name) => values[name] !== undefined);
    const { compiled, slots } = this.template(db, names);
    const parameters = slots.map((slot) => (slot instanceof Parameter ? values[slot.name] : slot));
    return db.executeQuery<R>({ ...compiled, parameters });
  }

  private template(db: Executor, names: readonly string[]): Template<R> {
    const key = `${dialectOf(db)}:${names.join(',')}`;
    const known = this.templates.get(key);
    if (known) return known;
    const standIns = Object.fromEntries(names.map((name) => [name, new Parameter(name)])) as unknown as P;
    const compiled = this.build(db, standIns).compile();
    const used = new Set(
      compiled.parameters.filter((p): p is Parameter => p instanceof Parameter).map((p) => p.name),
    );
    const unused = names.filter((name) => !used.has(name));
    if (unused.length > 0) throw new Error(`reusable query: ${unused.join(', ')} never passed as a value`);
    const template = { compiled, slots: compiled.parameters };
    this.templates.set(key, template);
    return template;
  }
}
