import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inject } from 'vitest';
import type { DatabaseLocation } from '../../server/config.js';
import { openDatabase, type DatabaseHandle, type Db } from '../../server/db/database.js';
import type { DialectName } from '../../server/db/dialect.js';
import { migrateToLatest } from '../../server/db/migrate.js';
import { administer, TEMPLATE_DATABASE } from './postgres.js';

/** The database the tests run on: TEST_DATABASE=postgres (the -pg projects) or SQLite (the default). */
export function testDialect(): DialectName {
  return process.env.TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
}

/** Connections each pool of a test opens: many test files run at once against one cluster. */
export const TEST_POOL_SIZE = 3;

/**
 * Makes `file` a new SQLite database at the latest schema: a copy of the run's migrated template
 * (tests/support/sqlite-global-setup.ts), or, in a project without that setup, migrated here.
 */
export async function migratedSqliteFile(file: string): Promise<void> {
  const template = inject('sqliteTemplate');
  if (template) {
    copyFileSync(template, file);
    return;
  }
  const { db } = openDatabase(file);
  try {
    await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

/** An empty database of its own, already migrated, and how to remove it. */
export interface FreshDatabase {
  location: DatabaseLocation;
  /** The environment that points a platform (or a process) at it. */
  env: Record<string, string>;
  remove(): Promise<void>;
}

let created = 0;

/**
 * A new migrated database for one caller: on PostgreSQL a copy of the cluster's migrated template
 * (created in milliseconds), on SQLite a copy of the run's migrated template file, in `dir`.
 */
export async function freshDatabase(dir: string): Promise<FreshDatabase> {
  if (testDialect() === 'sqlite') {
    const file = path.join(dir, 'undersigned.sqlite');
    await migratedSqliteFile(file);
    return {
      location: { dialect: 'sqlite', path: file },
      env: { DATABASE_PATH: file },
      remove: async () => {},
    };
  }
  const clusterDir = inject('postgresDir');
  const url = (database: string) => `postgres://postgres@/${database}?host=${encodeURIComponent(clusterDir)}`;
  created += 1;
  const name = `test_${process.pid}_${created}_${Date.now().toString(36)}`;
  await administer(url, `create database ${name} template ${TEMPLATE_DATABASE}`);
  return {
    location: { dialect: 'postgres', url: url(name), poolSize: TEST_POOL_SIZE },
    env: { DATABASE_URL: url(name), DATABASE_POOL_SIZE: String(TEST_POOL_SIZE) },
    // With force: a connection a failed test left open does not keep the database.
    remove: () => administer(url, `drop database if exists ${name} with (force)`),
  };
}

export interface TestDatabase {
  db: Db;
  /** The open handle under `db` (its dialect, write mark, and SQLite's connection on SQLite). */
  handle: DatabaseHandle;
  location: DatabaseLocation;
  /** A temporary folder of its own (DATA_DIR for a process started on this database). */
  dir: string;
  /** The environment that points a platform process at this database (DATABASE_PATH or DATABASE_URL). */
  env: Record<string, string>;
  /** Opens a second, independent connection to the same database (as another process would). */
  connect(): DatabaseHandle;
  close(): Promise<void>;
}

/**
 * A fresh, migrated database of the kind the run tests (TEST_DATABASE): tests of repositories and
 * services use it, so they run on both. Tests about SQLite itself use createTempDatabase.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-db-'));
  let fresh: FreshDatabase;
  try {
    fresh = await freshDatabase(dir);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const handle = openDatabase(fresh.location);
  const others: DatabaseHandle[] = [];
  return {
    db: handle.db,
    handle,
    location: fresh.location,
    dir,
    env: fresh.env,
    connect() {
      const other = openDatabase(fresh.location);
      others.push(other);
      return other;
    },
    async close() {
      for (const other of others) await other.close();
      await handle.close();
      await fresh.remove();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
