import { sql } from 'kysely';
import type SQLite from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Executor } from '../../../server/db/database.js';
import { createTempDatabase, type TempDatabase } from '../../support/temp-database.js';
import { createTestDatabase, testDialect, type TestDatabase } from '../../support/test-database.js';

// Both chains must end in the same schema: SQLite's eighteen migrations and PostgreSQL's baseline, then
// the shared ones. Each side is read from its own catalogue and written as one line per fact, in words
// both share (types by family, checks and partial predicates normalised), so a failure is a diff of the
// facts one side lacks.

/** One line per fact of a schema, sorted. */
type Facts = string[];

/** SQLite's and PostgreSQL's integer types are one family here; the rest keep their own. */
function typeFamily(type: string): string {
  const t = type.toLowerCase();
  if (t === 'integer' || t === 'bigint' || t === 'smallint' || t === 'int' || t === 'int8' || t === 'int4')
    return 'integer';
  if (t === 'text' || t.startsWith('character')) return 'text';
  if (t === 'blob' || t === 'bytea') return 'blob';
  if (t === 'real' || t === 'double precision' || t === 'numeric') return 'real';
  return `other(${t})`;
}

/**
 * An expression as both catalogues can be made to spell it: PostgreSQL writes `x in ('a','b')` back as
 * `(x = ANY (ARRAY['a'::text, 'b'::text]))`, `x is not null` as `(x IS NOT NULL)`, and
 * `x between 1 and 3` as `((x >= 1) AND (x <= 3))`.
 */
function normaliseExpression(expression: string): string {
  return expression
    .replace(/(\w+)\s+between\s+(-?\d+)\s+and\s+(-?\d+)/gi, '$1 >= $2 and $1 <= $3')
    .replace(/::[a-z ]+(\[\])?/gi, '')
    .replace(/=\s*any\s*\(\s*array\[([^\]]*)\]\s*\)/gi, ' in ($1)')
    .replace(/^check\s*/i, '')
    .replace(/["()\s]/g, '')
    .toLowerCase();
}

function normaliseDefault(value: string | null): string {
  return value === null ? '' : ` default ${normaliseExpression(value)}`;
}

/** The facts of a SQLite schema, from its catalogue pragmas and the CREATE statements it keeps. */
function sqliteFacts(sqlite: SQLite.Database): Facts {
  const facts: Facts = [];
  const tables = sqlite
    .prepare<[], { name: string; sql: string }>(
      "select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%' and name not like 'kysely_%'",
    )
    .all();
  for (const table of tables) {
    facts.push(`table ${table.name}`);
    const columns = sqlite
      .prepare<
        [string],
        { cid: number; name: string; type: string; notnull: number; dflt_value: string | null; pk: number }
      >('select * from pragma_table_info(?)')
      .all(table.name);
    const primaryKey = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
    for (const column of columns) {
      // An integer primary key is the rowid and never null, whatever table_info says.
      const notNull = column.notnull === 1 || column.pk > 0;
      const generated = new RegExp(`"?${column.name}"?\\s+integer\\s+primary key autoincrement`, 'i').test(
        table.sql,
      );
      facts.push(
        `column ${table.name}.${column.name} #${column.cid} ${typeFamily(column.type)}${notNull ? ' not null' : ''}` +
          `${normaliseDefault(column.dflt_value)}${generated ? ' generated' : ''}`,
      );
    }
    facts.push(`primary key ${table.name} (${primaryKey.map((c) => c.name).join(', ')})`);
    for (const check of checksIn(table.sql)) facts.push(`check ${table.name}: ${normaliseExpression(check)}`);

    const foreignKeys = sqlite
      .prepare<
        [string],
        { id: number; seq: number; table: string; from: string; to: string; on_delete: string }
      >('select * from pragma_foreign_key_list(?) order by id, seq')
      .all(table.name);
    for (const id of new Set(foreignKeys.map((f) => f.id))) {
      const parts = foreignKeys.filter((f) => f.id === id);
      facts.push(
        `foreign key ${table.name} (${parts.map((p) => p.from).join(', ')}) → ${parts[0]!.table} ` +
          `(${parts.map((p) => p.to).join(', ')}) on delete ${parts[0]!.on_delete.toLowerCase()}`,
      );
    }

    const indexes = sqlite
      .prepare<[string], { name: string; unique: number; origin: string; partial: number }>(
        'select * from pragma_index_list(?)',
      )
      .all(table.name);
    for (const index of indexes) {
      if (index.origin === 'pk') continue;
      const columnsOf = sqlite
        .prepare<[string], { name: string | null }>('select name from pragma_index_info(?) order by seqno')
        .all(index.name)
        .map((c) => c.name ?? '<expression>');
      const definition = sqlite
        .prepare<[string], { sql: string | null }>(
          "select sql from sqlite_master where type = 'index' and name = ?",
        )
        .get(index.name)?.sql;
      const where = index.partial ? / where (.*)$/is.exec(definition ?? '')?.[1] : undefined;
      facts.push(
        indexFact(table.name, index.origin === 'c' ? index.name : null, columnsOf, index.unique === 1, where),
      );
    }
  }
  return facts.sort();
}

/** The CHECK expressions of a CREATE TABLE statement, with their balanced parentheses. */
function checksIn(createTable: string): string[] {
  const checks: string[] = [];
  const pattern = /\bcheck\s*\(/gi;
  for (let match = pattern.exec(createTable); match; match = pattern.exec(createTable)) {
    let depth = 1;
    let end = pattern.lastIndex;
    while (depth > 0 && end < createTable.length) {
      if (createTable[end] === '(') depth++;
      if (createTable[end] === ')') depth--;
      end++;
    }
    checks.push(createTable.slice(pattern.lastIndex, end - 1));
  }
  return checks;
}

/**
 * One index: named when it was created as an index; a unique constraint's own index (SQLite's
 * sqlite_autoindex_*, PostgreSQL's *_key) is known by its columns only, since SQLite forgets the name.
 */
function indexFact(
  table: string,
  name: string | null,
  columns: string[],
  unique: boolean,
  where?: string,
): string {
  return (
    `${unique ? 'unique ' : ''}index ${name ?? '(constraint)'} on ${table} (${columns.join(', ')})` +
    (where ? ` where ${normaliseExpression(where)}` : '')
  );
}

const ON_DELETE: Record<string, string> = {
  a: 'no action',
  r: 'restrict',
  c: 'cascade',
  n: 'set null',
  d: 'set default',
};

/** The facts of a PostgreSQL schema (the connection's current schema), from its catalogue. */
async function postgresFacts(db: Executor): Promise<Facts> {
  const facts: Facts = [];
  const { rows: tables } = await sql<{ name: string }>`
    select c.relname as name from pg_class c
    where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname not like 'kysely_%'`.execute(
    db,
  );
  const { rows: columns } = await sql<{
    table: string;
    name: string;
    position: number;
    type: string;
    not_null: boolean;
    default_value: string | null;
    identity: string;
  }>`
    select c.relname as table, a.attname as name,
      (row_number() over (partition by c.oid order by a.attnum))::int - 1 as position,
      format_type(a.atttypid, null) as type, a.attnotnull as not_null,
      pg_get_expr(d.adbin, d.adrelid) as default_value, a.attidentity as identity
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    left join pg_attrdef d on d.adrelid = a.attrelid and d.adnum = a.attnum
    where c.relnamespace = current_schema()::regnamespace and c.relkind = 'r' and c.relname not like 'kysely_%'
      and a.attnum > 0 and not a.attisdropped`.execute(db);
  for (const table of tables) facts.push(`table ${table.name}`);
  for (const column of columns) {
    const generated = column.identity !== '';
    facts.push(
      `column ${column.table}.${column.name} #${column.position} ${typeFamily(column.type)}` +
        `${column.not_null ? ' not null' : ''}${normaliseDefault(column.default_value)}${generated ? ' generated' : ''}`,
    );
  }

  const { rows: constraints } = await sql<{
    table: string;
    type: string;
    definition: string;
    columns: string[];
    target: string | null;
    target_columns: string[] | null;
    on_delete: string;
  }>`
    select c.relname as table, k.contype as type, pg_get_constraintdef(k.oid) as definition,
      array(select a.attname from unnest(k.conkey) with ordinality u(n, i)
        join pg_attribute a on a.attrelid = k.conrelid and a.attnum = u.n order by u.i)::text[] as columns,
      t.relname as target,
      array(select a.attname from unnest(k.confkey) with ordinality u(n, i)
        join pg_attribute a on a.attrelid = k.confrelid and a.attnum = u.n order by u.i)::text[] as target_columns,
      k.confdeltype as on_delete
    from pg_constraint k
    join pg_class c on c.oid = k.conrelid
    left join pg_class t on t.oid = k.confrelid
    where c.relnamespace = current_schema()::regnamespace and c.relname not like 'kysely_%'`.execute(db);
  for (const constraint of constraints) {
    if (constraint.type === 'p')
      facts.push(`primary key ${constraint.table} (${constraint.columns.join(', ')})`);
    if (constraint.type === 'c')
      facts.push(`check ${constraint.table}: ${normaliseExpression(constraint.definition)}`);
    if (constraint.type === 'f')
      facts.push(
        `foreign key ${constraint.table} (${constraint.columns.join(', ')}) → ${constraint.target} ` +
          `(${(constraint.target_columns ?? []).join(', ')}) on delete ${ON_DELETE[constraint.on_delete]}`,
      );
  }

  const { rows: indexes } = await sql<{
    table: string;
    name: string;
    unique: boolean;
    columns: string[];
    predicate: string | null;
    constraint_type: string | null;
  }>`
    select c.relname as table, ic.relname as name, i.indisunique as unique,
      array(select coalesce(a.attname, '<expression>') from unnest(i.indkey) with ordinality u(n, o)
        left join pg_attribute a on a.attrelid = i.indrelid and a.attnum = u.n order by u.o)::text[] as columns,
      pg_get_expr(i.indpred, i.indrelid) as predicate,
      (select k.contype from pg_constraint k where k.conindid = i.indexrelid and k.conrelid = i.indrelid) as constraint_type
    from pg_index i
    join pg_class c on c.oid = i.indrelid
    join pg_class ic on ic.oid = i.indexrelid
    where c.relnamespace = current_schema()::regnamespace and c.relname not like 'kysely_%'`.execute(db);
  for (const index of indexes) {
    if (index.constraint_type === 'p') continue;
    facts.push(
      indexFact(
        index.table,
        index.constraint_type === 'u' ? null : index.name,
        index.columns,
        index.unique,
        index.predicate ?? undefined,
      ),
    );
  }
  return facts.sort();
}

// Needs the tests' PostgreSQL cluster, which the -pg projects start: it runs there, on a copy of the
// cluster's template (migrated by migrateToLatest like any database), beside a fresh SQLite file.
describe.runIf(testDialect() === 'postgres')('the schemas of both databases', () => {
  let sqliteDb: TempDatabase;
  let postgres: TestDatabase;
  beforeAll(async () => {
    sqliteDb = await createTempDatabase();
    postgres = await createTestDatabase();
  });
  afterAll(async () => {
    await sqliteDb?.close();
    await postgres?.close();
  });

  it('are the same: tables, columns, keys, foreign keys, checks and indexes', async () => {
    const sqlite = sqliteFacts(sqliteDb.sqlite);
    expect(sqlite.length).toBeGreaterThan(300);
    expect(await postgresFacts(postgres.db)).toEqual(sqlite);
  });

  it('notices a column, an index, a foreign key or a check missing on PostgreSQL', async () => {
    const before = await postgresFacts(postgres.db);
    const missing = async (statement: string): Promise<string[]> => {
      // Inside a transaction rolled back, so the database stays as the migrations made it.
      let after: Facts = [];
      await postgres.db
        .transaction()
        .execute(async (trx) => {
          await sql.raw(statement).execute(trx);
          after = await postgresFacts(trx);
          throw new Rollback();
        })
        .catch((error: unknown) => {
          if (!(error instanceof Rollback)) throw error;
        });
      return before.filter((fact) => !after.includes(fact));
    };
    expect(await missing('alter table signatures drop column review_reasons')).toContain(
      'column signatures.review_reasons #26 text',
    );
    expect(await missing('drop index outbox_messages_claim')).toEqual([
      "index outbox_messages_claim on outbox_messages (priority, next_attempt_at) where statusin'queued','retrying'",
    ]);
    expect(await missing('alter table deliveries drop constraint deliveries_outbox_message_id_fkey')).toEqual(
      ['foreign key deliveries (outbox_message_id) → outbox_messages (id) on delete no action'],
    );
    expect(await missing('alter table letters drop constraint letters_status_check')).toEqual([
      "check letters: statusin'draft','open','closed','delivered'",
    ]);
  });

  it('notices a column, an index, a foreign key or a check missing on SQLite', async () => {
    const before = sqliteFacts(sqliteDb.sqlite);
    const other = sqliteDb.sqlite;
    other.exec('begin');
    try {
      other.exec('drop index signatures_suspect');
      // The table's last column: dropping an earlier one also moves the place (#n) of those after it.
      other.exec('alter table users drop column invitation_message_id');
      const after = sqliteFacts(other);
      expect(before.filter((fact) => !after.includes(fact))).toEqual([
        'column users.invitation_message_id #15 integer',
        'index signatures_suspect on signatures (created_at) where suspect_reasonsisnotnull',
      ]);
    } finally {
      other.exec('rollback');
    }
  });
});

class Rollback extends Error {}
