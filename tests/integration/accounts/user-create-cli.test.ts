import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApp } from '../../../server/app.js';
import { loadConfig } from '../../../server/config.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { createLogger } from '../../../server/lib/logger.js';
import { projectRoot } from '../../../server/lib/paths.js';
import { wire, type Platform } from '../../../server/wiring.js';
import { createAccount } from '../../support/accounts.js';
import { Visitor } from '../../support/http.js';
import { freshDatabase, testDialect, type FreshDatabase } from '../../support/test-database.js';
import { createTestPlatform, type TestPlatform } from '../../support/test-platform.js';

const SECRET_KEY = 'cli-test-secret-cli-test-secret-0123456789';
const USAGE = 'Usage: npm run user:create -- --email <address> --role <admin|organizer>';

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * On PostgreSQL, the database the command and the platform share (DATABASE_URL); on SQLite none is made
 * beforehand, since the command creates the file itself.
 */
let database: FreshDatabase | undefined;

/** Runs `user:create` as a person would, in its own process, with only the environment it needs. */
function userCreate(dataDir: string, args: string[]): Promise<Run> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/cli/user-create.ts', ...args], {
    cwd: projectRoot,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? os.tmpdir(),
      NODE_ENV: 'test',
      DATA_DIR: dataDir,
      ...database?.env,
      SECRET_KEY,
      LOG_LEVEL: 'silent',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The one-time password in the command's output. */
function oneTimePasswordIn(stdout: string): string {
  const match = /^One-time password: (\S+)$/m.exec(stdout);
  if (!match) throw new Error(`no one-time password in:\n${stdout}`);
  return match[1]!;
}

/** The platform over the same DATA_DIR, wired as `npm start` wires it (mail goes nowhere). */
async function openPlatform(
  dataDir: string,
): Promise<{ platform: Platform; app: ReturnType<typeof createApp> }> {
  // A busy test machine must not shed the test's requests (tests/http/overload.test.ts tests shedding).
  const config = loadConfig({
    NODE_ENV: 'test',
    DATA_DIR: dataDir,
    ...database?.env,
    SECRET_KEY,
    LOG_LEVEL: 'silent',
    OVERLOAD_MAX_LAG_MS: '0',
  });
  const platform = await wire(config, createLogger('silent'), {
    clock: new ManualClock(),
    withWorker: false,
    transport: nodemailer.createTransport({ jsonTransport: true }),
  });
  return { platform, app: createApp(platform.appDeps) };
}

describe('npm run user:create', () => {
  let dataDir: string;
  let opened: Platform | undefined;

  beforeEach(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-cli-'));
    database = testDialect() === 'postgres' ? await freshDatabase(dataDir) : undefined;
  });
  afterEach(async () => {
    await opened?.shutdown();
    opened = undefined;
    await database?.remove();
    database = undefined;
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('creates an organizer and prints a one-time password that logs in and must be changed', async () => {
    const run = await userCreate(dataDir, ['--email', 'Organizer@Example.org', '--role', 'organizer']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toContain('Created organizer organizer@example.org.');
    const password = oneTimePasswordIn(run.stdout);
    expect(password).toMatch(/^[A-Za-z2-9]{20}$/);
    // The account is in the platform's database file (which bad arguments must never create).
    if (!database) expect(existsSync(path.join(dataDir, 'undersigned.sqlite'))).toBe(true);

    const { platform, app } = await openPlatform(dataDir);
    opened = platform;
    const user = await platform.repositories.users.findByEmail('organizer@example.org');
    expect(user).toMatchObject({ role: 'organizer', mustChangePassword: true, disabled: false });
    const hash = await platform.repositories.users.passwordHashOf(user!.id);
    expect(hash).toMatch(/^\$argon2id\$/);
    expect(hash).not.toContain(password);

    const login = await new Visitor(app).submit('/login', '/login', {
      email: 'organizer@example.org',
      password,
      next: '/admin',
    });
    expect(login.status).toBe(303);
    expect(login.headers.location).toBe('/account/password');
  });

  it('creates an admin when asked for one', async () => {
    const run = await userCreate(dataDir, ['--email', 'chief@example.org', '--role', 'admin']);
    expect(run.code).toBe(0);
    oneTimePasswordIn(run.stdout);
    const { platform } = await openPlatform(dataDir);
    opened = platform;
    expect(await platform.repositories.users.findByEmail('chief@example.org')).toMatchObject({
      role: 'admin',
    });
  });

  it('refuses an address that already has an account, whatever its case, with exit code 1', async () => {
    expect((await userCreate(dataDir, ['--email', 'twice@example.org', '--role', 'organizer'])).code).toBe(0);
    const again = await userCreate(dataDir, ['--email', 'TWICE@example.org', '--role', 'admin']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe('An account with the address TWICE@example.org already exists.');
    expect(again.stdout).not.toContain('One-time password');

    const { platform } = await openPlatform(dataDir);
    opened = platform;
    const users = await platform.repositories.users.list();
    expect(users.map((u) => [u.email, u.role])).toEqual([['twice@example.org', 'organizer']]);
  });

  it('refuses an address that is not an e-mail address with exit code 1', async () => {
    const run = await userCreate(dataDir, ['--email', 'not-an-address', '--role', 'organizer']);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe('The address not-an-address is not valid.');
    expect(run.stdout).not.toContain('One-time password');
  });

  it.each([
    ['an unknown role', ['--email', 'someone@example.org', '--role', 'superuser']],
    ['no role', ['--email', 'someone@example.org']],
    ['no address', ['--role', 'organizer']],
    ['no arguments at all', []],
    ['an unknown option', ['--email', 'someone@example.org', '--role', 'organizer', '--force']],
    ['an option without its value', ['--email', 'someone@example.org', '--role']],
  ])('refuses %s with exit code 2 and the usage, creating nothing', async (_label, args) => {
    const run = await userCreate(dataDir, args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(USAGE);
    expect(run.stdout).toBe('');
    // Bad arguments are refused before the database is even opened.
    expect(existsSync(path.join(dataDir, 'undersigned.sqlite'))).toBe(false);
  });
});

describe('the first admin', () => {
  let t: TestPlatform;

  beforeEach(async () => {
    t = await createTestPlatform();
  });
  afterEach(async () => {
    await t.close();
  });

  async function admins() {
    return (await t.platform.repositories.users.list()).filter((u) => u.role === 'admin');
  }

  it('is created on a platform without accounts, with a one-time password that logs in', async () => {
    const created = await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    if (created.kind !== 'created') throw new Error(`expected an admin to be created, got ${created.kind}`);
    expect(created.user).toMatchObject({
      email: 'first-admin@example.org',
      role: 'admin',
      mustChangePassword: true,
    });
    const login = await new Visitor(t.app).submit('/login', '/login', {
      email: 'first-admin@example.org',
      password: created.oneTimePassword,
      next: '/admin',
    });
    expect(login.headers.location).toBe('/account/password');
  });

  it('is created only once: a second start finds the admin and creates nobody', async () => {
    await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    expect(await t.platform.accounts.ensureFirstAdmin('first-admin@example.org')).toEqual({ kind: 'exists' });
    expect(await t.platform.accounts.ensureFirstAdmin('another-admin@example.org')).toEqual({
      kind: 'exists',
    });
    expect((await admins()).map((u) => u.email)).toEqual(['first-admin@example.org']);
  });

  it('is created once when several processes start together on a fresh database; the others carry on', async () => {
    // Both find no admin before either has written one: the one that loses on the unique address must
    // start as if the admin had existed (several web processes on one PostgreSQL failed to start).
    const outcomes = await Promise.all([
      t.platform.accounts.ensureFirstAdmin('first-admin@example.org'),
      t.platform.accounts.ensureFirstAdmin('first-admin@example.org'),
    ]);
    expect(outcomes.map((o) => o.kind).sort()).toEqual(['created', 'exists']);
    expect((await admins()).map((u) => u.email)).toEqual(['first-admin@example.org']);
  });

  // The interleavings CI met on PostgreSQL, where another start's admin is written while this one runs:
  // each must carry on as if the admin had existed, not fail, nor call it an account to sort out.
  it.each<{ moment: string; missed: ('countActiveAdmins' | 'findByEmail')[] }>([
    {
      moment: 'between its own look at the address and its insert',
      missed: ['countActiveAdmins', 'findByEmail'],
    },
    { moment: 'between its count of admins and its look at the address', missed: ['countActiveAdmins'] },
  ])('carries on when another process wrote the admin $moment', async ({ missed }) => {
    await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    const users = t.platform.repositories.users;
    // What this start read before the other one's admin was written.
    if (missed.includes('countActiveAdmins')) vi.spyOn(users, 'countActiveAdmins').mockResolvedValueOnce(0);
    if (missed.includes('findByEmail')) vi.spyOn(users, 'findByEmail').mockResolvedValueOnce(undefined);
    try {
      expect(await t.platform.accounts.ensureFirstAdmin('first-admin@example.org')).toEqual({
        kind: 'exists',
      });
    } finally {
      vi.restoreAllMocks();
    }
    expect((await admins()).map((u) => u.email)).toEqual(['first-admin@example.org']);
  });

  it('answers account_exists, not a database error, when the address was written between the look and the insert', async () => {
    // Two `user:create` runs for one address at once: the later insert meets the unique key.
    await createAccount(t.platform, 'organizer', 'twice@example.org');
    vi.spyOn(t.platform.repositories.users, 'findByEmail').mockResolvedValueOnce(undefined);
    try {
      await expect(t.platform.accounts.createUser('twice@example.org', 'organizer')).rejects.toMatchObject({
        status: 409,
        code: 'account_exists',
      });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('answers an invitation to an address another admin invited a moment before with the field error, not a 500', async () => {
    const admin = await createAccount(t.platform, 'admin', 'inviting-admin@example.org');
    await createAccount(t.platform, 'organizer', 'invited-twice@example.org');
    // The other admin's account was written between this invitation's look and its insert.
    vi.spyOn(t.platform.repositories.users, 'findByEmail').mockResolvedValueOnce(undefined);
    try {
      expect(
        await t.platform.appDeps.userAdmin.invite(admin, 'invited-twice@example.org', 'organizer'),
      ).toEqual({ kind: 'invalid', errors: { email: 'account.errors.exists' } });
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('is not created when an admin was made with user:create before the first start', async () => {
    await createAccount(t.platform, 'admin', 'made-by-hand@example.org');
    expect(await t.platform.accounts.ensureFirstAdmin('first-admin@example.org')).toEqual({ kind: 'exists' });
    expect((await admins()).map((u) => u.email)).toEqual(['made-by-hand@example.org']);
  });

  it('is created when only organizers exist', async () => {
    await createAccount(t.platform, 'organizer', 'organizer@example.org');
    const created = await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    expect(created.kind === 'created' && created.user.role).toBe('admin');
  });

  it('is created when every admin is disabled, since nobody could run the platform', async () => {
    const disabled = await createAccount(t.platform, 'admin', 'former-admin@example.org');
    await t.platform.db
      .updateTable('users')
      .set({ disabled_at: t.clock.now().toISOString() })
      .where('id', '=', disabled.id)
      .execute();
    const created = await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    expect(created.kind === 'created' && created.user).toMatchObject({
      email: 'first-admin@example.org',
      role: 'admin',
    });
  });

  it('is created when the only other admin is invited and has not set a password: nobody could log in', async () => {
    const admin = await createAccount(t.platform, 'admin', 'departing-admin@example.org');
    await t.platform.appDeps.userAdmin.invite(admin, 'invited-admin@example.org', 'admin');
    await t.platform.db
      .updateTable('users')
      .set({ disabled_at: t.clock.now().toISOString() })
      .where('id', '=', admin.id)
      .execute();
    const created = await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    expect(created.kind === 'created' && created.user).toMatchObject({
      email: 'first-admin@example.org',
      role: 'admin',
    });
  });

  it('gives an invited admin at ADMIN_EMAIL the one-time password, and ends the invitation link', async () => {
    const admin = await createAccount(t.platform, 'admin', 'departing-admin@example.org');
    await t.platform.appDeps.userAdmin.invite(admin, 'first-admin@example.org', 'admin');
    await t.platform.db
      .updateTable('users')
      .set({ disabled_at: t.clock.now().toISOString() })
      .where('id', '=', admin.id)
      .execute();
    const invited = (await t.platform.repositories.users.findByEmail('first-admin@example.org'))!;

    const created = await t.platform.accounts.ensureFirstAdmin('first-admin@example.org');
    if (created.kind !== 'created') throw new Error(`expected the one-time password, got ${created.kind}`);
    expect(created.user).toMatchObject({ id: invited.id, role: 'admin', mustChangePassword: true });
    const login = await new Visitor(t.app).submit('/login', '/login', {
      email: 'first-admin@example.org',
      password: created.oneTimePassword,
      next: '/admin',
    });
    expect(login.headers.location).toBe('/account/password');
    expect(await t.platform.repositories.users.hasPendingInvitation(invited.id)).toBe(false);
    // Now there is an admin who can log in: the next start creates nobody.
    expect(await t.platform.accounts.ensureFirstAdmin('first-admin@example.org')).toEqual({ kind: 'exists' });
  });

  it('neither promotes nor re-enables an existing account that has the address: the operator is told instead', async () => {
    await createAccount(t.platform, 'organizer', 'first-admin@example.org');
    expect(await t.platform.accounts.ensureFirstAdmin('first-admin@example.org')).toEqual({ kind: 'taken' });
    expect(await admins()).toEqual([]);
  });
});
