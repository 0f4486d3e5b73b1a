import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../server/db/database.js';
import { migrateToLatest } from '../../server/db/migrate.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** An SQLite file migrated to the latest schema, which each test's new SQLite database copies. */
    sqliteTemplate: string;
  }
}

/**
 * Shared by every project that lists it: one template for the run, kept on globalThis (which the
 * projects' setups share in vitest's own process), removed after the last project.
 */
interface SharedTemplate {
  ready: Promise<string>;
  users: number;
}
const shared = globalThis as { undersignedSqliteTemplate?: SharedTemplate };

/**
 * Migrates one SQLite file for the whole run, as the PostgreSQL tiers keep a migrated template database:
 * a test's new database is a copy of it (tests/support/test-database.ts) instead of running the
 * migrations again (~0.1-0.2 s of CPU a database, once per test platform). The file is closed, so its
 * write-ahead log is written in and gone: a copy of the one file is the whole database.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const entry = (shared.undersignedSqliteTemplate ??= { ready: migratedTemplate(), users: 0 });
  entry.users += 1;
  const file = await entry.ready;
  project.provide('sqliteTemplate', file);
  return async () => {
    entry.users -= 1;
    if (entry.users > 0) return;
    shared.undersignedSqliteTemplate = undefined;
    rmSync(path.dirname(file), { recursive: true, force: true });
  };
}

async function migratedTemplate(): Promise<string> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-template-'));
  const file = path.join(dir, 'template.sqlite');
  try {
    const { db } = openDatabase(file);
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    return file;
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
