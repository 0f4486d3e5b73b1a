import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type SQLite from 'better-sqlite3';
import { openDatabase, type Db } from '../../server/db/database.js';
import type { NewOutboxMessage } from '../../server/outbox/outbox.js';
import { migratedSqliteFile } from './test-database.js';

export interface TempDatabase {
  db: Db;
  sqlite: SQLite.Database;
  /** The SQLite file. */
  file: string;
  /** Opens a second, independent connection to the same file (as another process would). */
  connect(): { db: Db; sqlite: SQLite.Database };
  close(): Promise<void>;
}

/** A fresh, migrated SQLite file in its own temporary folder. */
export async function createTempDatabase(): Promise<TempDatabase> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-db-'));
  const file = path.join(dir, 'undersigned.sqlite');
  await migratedSqliteFile(file);
  const { db, sqlite } = openDatabase(file);
  const extra: Db[] = [];
  return {
    db,
    sqlite,
    file,
    connect() {
      const connection = openDatabase(file);
      extra.push(connection.db);
      return connection;
    },
    async close() {
      for (const other of extra) await other.destroy();
      await db.destroy();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

let outboxSequence = 0;

/** A rendered e-mail ready for the outbox; override any field. */
export function outboxMessage(overrides: Partial<NewOutboxMessage> = {}): NewOutboxMessage {
  outboxSequence += 1;
  return {
    kind: 'signature-confirmation',
    priority: 0,
    signatureId: null,
    toAddress: `supporter-${outboxSequence}@example.org`,
    subject: `Please confirm your signature (${outboxSequence})`,
    textBody: 'Confirm: http://localhost:3000/signatures/confirm/x',
    htmlBody: '<p>Confirm</p>',
    headers: { 'Auto-Submitted': 'auto-generated' },
    ...overrides,
  };
}

/** A unique Message-ID for a test message. */
export function testMessageId(): string {
  outboxSequence += 1;
  return `<test-${outboxSequence}-${process.pid}@undersigned.example.org>`;
}
