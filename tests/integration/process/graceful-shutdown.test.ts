import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../../server/db/database.js';
import { seedsDir } from '../../../server/lib/paths.js';
import { OutboxRepository } from '../../../server/outbox/outbox-repository.js';
import { freePort } from '../../support/free-port.js';
import {
  exitWithin,
  READY,
  spawnPlatformProcess,
  startPlatformProcess,
  until,
  type PlatformProcess,
} from '../../support/platform-process.js';
import { outboxMessage } from '../../support/temp-database.js';
import { freshDatabase, type FreshDatabase } from '../../support/test-database.js';

/** The slugs of the demo letters in seeds/letters, if any exist yet. */
function seedSlugs(): string[] {
  const dir = path.join(seedsDir, 'letters');
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => (JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { slug: string }).slug)
    .sort();
}

describe('the server process', () => {
  const cleanups: (() => void | Promise<void>)[] = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** A migrated database of the kind under test (TEST_DATABASE), removed after the test. */
  async function testDatabase(dataDir: string): Promise<FreshDatabase> {
    const database = await freshDatabase(dataDir);
    cleanups.push(() => database.remove());
    return database;
  }

  function tempDataDir(): string {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-process-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    return dir;
  }

  function track(server: PlatformProcess): PlatformProcess {
    cleanups.push(() => {
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });
    return server;
  }

  it(
    'serves pages, sends queued mail, and on SIGTERM finishes its work and exits with code 0, leaving a consistent database',
    { timeout: 60_000 },
    async () => {
      const dataDir = tempDataDir();
      const database = await testDatabase(dataDir);
      // A confirmation already waiting in the outbox when the process starts.
      {
        const opened = openDatabase(database.location);
        await new OutboxRepository(opened.db).enqueue(
          outboxMessage({ toAddress: 'waiting@example.org' }),
          '<waiting-1@undersigned.example.org>',
          new Date(),
        );
        await opened.close();
      }
      const seeds = seedSlugs();
      const port = await freePort();
      // The demo letters on, as the default configuration has them.
      const server = track(
        await startPlatformProcess('server/main.ts', {
          DATA_DIR: dataDir,
          ...database.env,
          PORT: String(port),
          SEED_DEMO: '1',
        }),
      );
      expect(server.output()).toContain(`${READY.web} http://localhost:${port}`);

      // Node's fetch keeps the connection alive afterwards: shutting down must not wait for it.
      const home = await fetch(`http://127.0.0.1:${port}/`);
      expect(home.status).toBe(200);
      const html = await home.text();
      for (const slug of seeds) expect(html).toContain(`/letters/${slug}`);

      // The worker delivers the waiting message to the embedded capture server.
      const mailbox = path.join(dataDir, 'mailbox');
      await until(
        server,
        () => existsSync(mailbox) && readdirSync(mailbox).some((name) => name.endsWith('.eml')),
        'the queued message was captured',
      );

      server.child.kill('SIGTERM');
      const exit = await exitWithin(server, 15_000);
      expect(exit, server.output()).toEqual({ code: 0, signal: null });
      expect(server.output()).toContain('SIGTERM: finishing requests and mail in flight');

      if (database.location.dialect === 'sqlite') {
        const databaseFile = database.location.path;
        // Closed properly: the write-ahead log was checkpointed into the file and removed.
        expect(existsSync(`${databaseFile}-wal`)).toBe(false);
        const sqlite = new SQLite(databaseFile, { readonly: true, fileMustExist: true });
        try {
          expect(sqlite.pragma('integrity_check', { simple: true })).toBe('ok');
          expect(sqlite.pragma('foreign_key_check')).toEqual([]);
        } finally {
          sqlite.close();
        }
      }
      const after = openDatabase(database.location);
      try {
        // The send in flight was recorded before the process stopped: never left "sending".
        const message = await after.db
          .selectFrom('outbox_messages')
          .select(['status', 'last_reply'])
          .where('message_id', '=', '<waiting-1@undersigned.example.org>')
          .executeTakeFirstOrThrow();
        expect(message.status).toBe('sent');
        expect(message.last_reply).toMatch(/^250\b/);
        // The demo letters were loaded into the empty database only if seeds/letters has any.
        const slugs = await after.db.selectFrom('letters').select('slug').orderBy('slug').execute();
        expect(slugs.map((row) => row.slug)).toEqual(seeds);
      } finally {
        await after.close();
      }
    },
  );

  it(
    'says at start that the SMTP relay cannot be reached, without naming its password, and keeps running',
    { timeout: 60_000 },
    async () => {
      const dataDir = tempDataDir();
      const database = await testDatabase(dataDir);
      // A port nothing listens on: a relay that is down, or a typo in SMTP_URL.
      const closed = await freePort();
      const worker = track(
        await startPlatformProcess('server/worker-main.ts', {
          DATA_DIR: dataDir,
          ...database.env,
          LOG_LEVEL: 'warn',
          SMTP_URL: `smtp://letters:a-relay-secret@127.0.0.1:${closed}`,
        }),
      );
      await until(
        worker,
        () => worker.output().includes('could not be reached or refused the login'),
        'the warning about the relay',
        20_000,
      );
      expect(worker.output()).toContain('ECONNREFUSED');
      expect(worker.output()).not.toContain('a-relay-secret');
      expect(worker.child.exitCode).toBeNull();
    },
  );

  it(
    'refuses to start with an invalid configuration, naming the variable, with exit code 1',
    { timeout: 60_000 },
    async () => {
      const dataDir = tempDataDir();
      const server = track(spawnPlatformProcess('server/main.ts', { DATA_DIR: dataDir, PORT: 'not-a-port' }));
      const exit = await server.exited;
      expect(exit.code).toBe(1);
      expect(server.output()).toMatch(/PORT: /);
      expect(server.output()).not.toContain(READY.web);
    },
  );
});
