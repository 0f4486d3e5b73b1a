import {
  chmodSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../server/config.js';
import { createLogger } from '../../server/lib/logger.js';
import { noPdf } from '../../server/deliveries/pdf-renderer.js';
import { wire, type Platform } from '../../server/wiring.js';
import { loopbackTransport, MAIL_FROM } from '../support/mail-worker.js';
import { TEST_PUBLIC_URL } from '../support/test-platform.js';

/** The permission bits of a file or folder, as `ls -l` shows them in octal. */
const modeOf = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('files that hold personal data or secrets are private to the platform’s account', () => {
  const cleanup: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const step of cleanup.splice(0).reverse()) await step();
  });

  /** A temporary folder with DATA_DIR inside it, not yet created. */
  function tempDataDir(): string {
    const parent = mkdtempSync(path.join(os.tmpdir(), 'undersigned-modes-'));
    cleanup.push(async () => rmSync(parent, { recursive: true, force: true }));
    return path.join(parent, 'data');
  }

  /**
   * Starts the platform as `npm start` does without SMTP_URL or SECRET_KEY (a secret.key file, the
   * capture server), then hands one message to the capture server over SMTP.
   */
  async function startAndCapture(dataDir: string): Promise<Platform> {
    const config = loadConfig({
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      PUBLIC_URL: TEST_PUBLIC_URL,
      LOG_LEVEL: 'silent',
      MAIL_FROM,
    });
    const platform = await wire(config, createLogger('silent'), { withWorker: true, pdf: noPdf });
    cleanup.push(() => platform.shutdown());
    const transport = loopbackTransport(platform.capturePort!);
    await transport.sendMail({ from: MAIL_FROM, to: 'ji-hoon@example.org', subject: 'Hello', text: 'Hello' });
    transport.close();
    return platform;
  }

  it('creates the database, its log files, the secret key, the mailbox and each message as 0600 / 0700', async () => {
    const dataDir = tempDataDir();
    await startAndCapture(dataDir);
    const database = path.join(dataDir, 'undersigned.sqlite');
    const mailbox = path.join(dataDir, 'mailbox');
    expect(modeOf(dataDir)).toBe('700');
    for (const file of [database, `${database}-wal`, `${database}-shm`, path.join(dataDir, 'secret.key')]) {
      expect(modeOf(file), file).toBe('600');
    }
    expect(modeOf(mailbox)).toBe('700');
    const messages = readdirSync(mailbox).filter((name) => name.endsWith('.eml'));
    expect(messages).toHaveLength(1);
    for (const name of messages) expect(modeOf(path.join(mailbox, name)), name).toBe('600');
  });

  it('tightens files that an older version left readable by others, at start', async () => {
    const dataDir = tempDataDir();
    mkdirSync(path.join(dataDir, 'mailbox'), { recursive: true });
    const database = path.join(dataDir, 'undersigned.sqlite');
    // A database in WAL mode with its -wal and -shm files present, as a running or crashed process leaves them.
    const older = new SQLite(database);
    cleanup.push(async () => void older.close());
    older.pragma('journal_mode = WAL');
    older.exec('create table kept (value text); insert into kept values (1);');
    const oldMessage = path.join(dataDir, 'mailbox', '2026-11-01T00-00-00-000Z-0123abcd.eml');
    writeFileSync(oldMessage, 'Subject: old\r\nTo: ji-hoon@example.org\r\n\r\nold\r\n');
    writeFileSync(path.join(dataDir, 'secret.key'), 'an-older-secret-key-that-is-long-enough-0123\n');
    const wide = [
      database,
      `${database}-wal`,
      `${database}-shm`,
      oldMessage,
      path.join(dataDir, 'secret.key'),
    ];
    for (const file of wide) {
      expect(existsSync(file), file).toBe(true);
      chmodSync(file, 0o644);
    }
    chmodSync(path.join(dataDir, 'mailbox'), 0o755);

    await startAndCapture(dataDir);
    for (const file of wide) expect(modeOf(file), file).toBe('600');
    expect(modeOf(path.join(dataDir, 'mailbox'))).toBe('700');
  });
});
