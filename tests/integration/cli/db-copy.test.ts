import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditRepository } from '../../../server/audit/audit-repository.js';
import { loadConfig } from '../../../server/config.js';
import { openDatabase, type DatabaseHandle, type SqliteHandle } from '../../../server/db/database.js';
import { noPdf } from '../../../server/deliveries/pdf-renderer.js';
import { createLogger } from '../../../server/lib/logger.js';
import { wire } from '../../../server/wiring.js';
import { loadSeedLetters, loadSeedRecipients } from '../../../seeds/seed-loader.js';
import { outboxMessage, testMessageId } from '../../support/temp-database.js';
import { storeSignature } from '../../support/stored-signatures.js';
import { inProject, type CommandRun } from '../../support/command-line.js';
import { freshDatabase, type FreshDatabase } from '../../support/test-database.js';

// Runs in the PostgreSQL tiers only (POSTGRES_ONLY in vitest.config.ts): it copies an SQLite file into the
// test cluster.

const SECRET_KEY = 'db-copy-test-secret-db-copy-test-secret-0123';
const NOW = new Date('2026-11-23T10:00:00.000Z');

let dir: string;
let sqliteFile: string;
let target: FreshDatabase;

/**
 * The command as a person types it in the project, with only the environment it needs. `--silent`, as the
 * README advises where output is logged: without it npm itself echoes the command line, URL and all.
 */
function dbCopy(args: string): Promise<CommandRun> {
  return inProject(`npm run --silent db:copy -- ${args}`, { DATA_DIR: dir, LOG_LEVEL: 'silent' });
}

/** A URL to the target database with a password in it (the test cluster trusts local connections). */
function targetUrl(): string {
  if (target.location.dialect !== 'postgres') throw new Error('the copy test runs on PostgreSQL only');
  return target.location.url.replace('postgres://postgres@', 'postgres://postgres:not-to-be-printed@');
}

/** Every row of every table, as comparable text, keyed by table. */
async function everyRow(db: Kysely<Record<string, Record<string, unknown>>>, tables: string[]) {
  const all: Record<string, string[]> = {};
  for (const table of tables) {
    const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(db);
    all[table] = rows
      .map((row) =>
        JSON.stringify(
          Object.keys(row)
            .sort()
            .map((key) => [key, Buffer.isBuffer(row[key]) ? (row[key] as Buffer).toString('hex') : row[key]]),
        ),
      )
      .sort();
  }
  return all;
}

function tablesOf(source: SqliteHandle): string[] {
  return source.sqlite
    .prepare<[], { name: string }>(
      "select name from sqlite_master where type = 'table' and name not like 'sqlite%' and name not like 'kysely%' order by name",
    )
    .all()
    .map((r) => r.name);
}

describe('npm run db:copy', () => {
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-db-copy-'));
    sqliteFile = path.join(dir, 'undersigned.sqlite');
    // An SQLite deployment with data in every kind of column: seeds, an account (with its audit entry),
    // signatures in three scripts, a queued e-mail with a PDF attachment (bytes).
    const platform = await wire(
      loadConfig({
        NODE_ENV: 'test',
        DATA_DIR: dir,
        DATABASE_PATH: sqliteFile,
        SECRET_KEY,
        LOG_LEVEL: 'silent',
      }),
      createLogger('silent'),
      { withWorker: false, transport: nodemailer.createTransport({ jsonTransport: true }), pdf: noPdf },
    );
    try {
      await loadSeedLetters(platform.db, NOW);
      await loadSeedRecipients(platform.db, NOW);
      const { user } = await platform.accounts.createUser('organizer@example.org', 'organizer');
      await new AuditRepository(platform.db).record(
        {
          actor: { id: user.id, email: user.email },
          action: 'user-invited',
          targetType: 'user',
          targetId: user.id,
        },
        NOW,
      );
      const letter = await platform.db
        .selectFrom('letters')
        .select('id')
        .orderBy('id')
        .executeTakeFirstOrThrow();
      const names = ['김지훈', 'Олена Коваленко', 'Ana Lima', '이수민', 'Тарас'];
      for (const [i, name] of names.entries()) {
        await storeSignature(platform.db, SECRET_KEY, letter.id, {
          name,
          email: `signer-${i}@example.org`,
          status: i === 3 ? 'pending' : 'confirmed',
          country: ['KR', 'UA', 'BR', 'KR', 'UA'][i]!,
          createdAt: `2026-11-0${i + 1}T09:00:00.000Z`,
        });
      }
      await platform.repositories.outbox.enqueue(
        outboxMessage({
          attachments: [
            { fileName: 'letter.pdf', contentType: 'application/pdf', content: Buffer.from([0, 1, 2, 255]) },
          ],
        }),
        testMessageId(),
        NOW,
      );
    } finally {
      await platform.shutdown();
    }
    target = await freshDatabase(dir);
  });

  afterAll(async () => {
    await target?.remove();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies every row of every table, checks the counts, and never prints the password', async () => {
    const run = await dbCopy(`--from "${sqliteFile}" --to "${targetUrl()}"`);
    expect(run.stderr).not.toContain('not-to-be-printed');
    expect(run.stdout).not.toContain('not-to-be-printed');
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/every count checked against the source/);
    expect(run.stdout).toMatch(/signatures\s+5 rows/);

    const source = openDatabase(sqliteFile);
    const copy: DatabaseHandle = openDatabase(target.location);
    try {
      const tables = tablesOf(source);
      expect(tables).toContain('outbox_attachments');
      const asAny = (h: DatabaseHandle) => h.db as unknown as Kysely<Record<string, Record<string, unknown>>>;
      const [before, after] = [await everyRow(asAny(source), tables), await everyRow(asAny(copy), tables)];
      for (const table of tables) expect(after[table], table).toEqual(before[table]);
      expect(before.signatures).toHaveLength(5);
      expect(before.audit_events!.length).toBeGreaterThan(0);

      // The ids go on after the copied ones: a new row gets a new id, not a clash with a copied one.
      const highest = await copy.db
        .selectFrom('users')
        .select((eb) => eb.fn.max('id').as('id'))
        .executeTakeFirstOrThrow();
      const added = await copy.db
        .insertInto('users')
        .values({
          email: 'second@example.org',
          role: 'organizer',
          password_hash: 'x',
          must_change_password: 1,
          created_at: NOW.toISOString(),
          updated_at: NOW.toISOString(),
        } as never)
        .returning('id')
        .executeTakeFirstOrThrow();
      expect(added.id).toBeGreaterThan(Number(highest.id));
    } finally {
      await copy.close();
      await source.close();
    }
  });

  it('refuses a target that already holds data, and changes nothing there', async () => {
    const copy = openDatabase(target.location);
    const usersBefore = await copy.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    const run = await dbCopy(`--from "${sqliteFile}" --to "${targetUrl()}"`);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/Nothing was copied: The target already holds data \(.*users/);
    const usersAfter = await copy.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow();
    expect(Number(usersAfter.n)).toBe(Number(usersBefore.n));
    await copy.close();
  });

  it('says how to use it when the target is missing or not PostgreSQL', async () => {
    for (const args of ['', `--to "mysql://localhost/x"`]) {
      const run = await dbCopy(args);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('Usage: npm run db:copy -- --to postgres://');
    }
  });

  it('names the missing SQLite file instead of creating an empty one', async () => {
    const missing = path.join(dir, 'nowhere', 'undersigned.sqlite');
    const run = await dbCopy(`--from "${missing}" --to "${targetUrl()}"`);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`There is no SQLite database at ${missing}`);
  });
});
