import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../server/config.js';
import { noPdf } from '../../../server/deliveries/pdf-renderer.js';
import { ManualClock } from '../../../server/lib/clock.js';
import { createLogger } from '../../../server/lib/logger.js';
import { wire } from '../../../server/wiring.js';
import { createLetter } from '../../support/factories.js';
import { storeSignature, type StoredSignature } from '../../support/stored-signatures.js';
import { inProject, type CommandRun } from '../../support/command-line.js';
import { freshDatabase, type FreshDatabase } from '../../support/test-database.js';

const SECRET_KEY = 'cli-test-secret-cli-test-secret-0123456789';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const SLUG = 'let-them-choose';

const SIGNATURES: StoredSignature[] = [
  {
    name: '김지훈',
    email: 'jihoon@example.org',
    status: 'confirmed',
    country: 'KR',
    createdAt: '2026-11-01T09:00:00.000Z',
  },
  {
    name: 'Олена Коваленко',
    email: 'olena@example.net',
    status: 'confirmed',
    country: 'UA',
    createdAt: '2026-11-02T09:00:00.000Z',
  },
  {
    name: '=HYPERLINK("http://evil.example","click")',
    email: 'formula@example.org',
    status: 'confirmed',
    country: 'US',
    createdAt: '2026-11-03T09:00:00.000Z',
    display: 'initials',
  },
  {
    name: 'Still pending',
    email: 'pending@example.org',
    status: 'pending',
    country: 'KR',
    createdAt: '2026-11-04T09:00:00.000Z',
  },
  {
    name: 'Gone again',
    email: 'withdrawn@example.org',
    status: 'withdrawn',
    country: 'GB',
    createdAt: '2026-11-05T09:00:00.000Z',
  },
];
const OTHER_LETTER: StoredSignature = {
  name: 'Signer of another letter',
  email: 'other@example.org',
  status: 'confirmed',
  country: 'KR',
  createdAt: '2026-11-06T09:00:00.000Z',
};

/** The database the command reads (TEST_DATABASE: a file in the data folder, or PostgreSQL). */
let database: FreshDatabase;

/** Runs a command line in the project, as a person would type it, with only the environment it needs. */
function shell(dataDir: string, command: string): Promise<CommandRun> {
  return inProject(command, { DATA_DIR: dataDir, ...database.env, SECRET_KEY, LOG_LEVEL: 'silent' });
}

/** Every row of the audit log's export entries, oldest first. */
async function exportEntries(dataDir: string) {
  const platform = await wire(
    loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...database.env, SECRET_KEY, LOG_LEVEL: 'silent' }),
    createLogger('silent'),
    { withWorker: false, transport: nodemailer.createTransport({ jsonTransport: true }), pdf: noPdf },
  );
  try {
    return await platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .orderBy('id')
      .execute();
  } finally {
    await platform.shutdown();
  }
}

describe('npm run export', () => {
  let dataDir: string;
  let file: (name: string) => string;

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(os.tmpdir(), 'undersigned-export-cli-'));
    file = (name) => path.join(dataDir, name);
    database = await freshDatabase(dataDir);
    // The database the command will read, prepared as the platform itself would have it.
    const platform = await wire(
      loadConfig({ NODE_ENV: 'test', DATA_DIR: dataDir, ...database.env, SECRET_KEY, LOG_LEVEL: 'silent' }),
      createLogger('silent'),
      {
        clock: new ManualClock(),
        withWorker: false,
        transport: nodemailer.createTransport({ jsonTransport: true }),
        pdf: noPdf,
      },
    );
    try {
      const now = platform.clock.now();
      const letter = await createLetter(platform.db, now, { slug: SLUG });
      for (const s of SIGNATURES) await storeSignature(platform.db, SECRET_KEY, letter.id, s);
      const other = await createLetter(platform.db, now, { slug: 'another-letter' });
      await storeSignature(platform.db, SECRET_KEY, other.id, OTHER_LETTER);
    } finally {
      await platform.shutdown();
    }
  }, 60_000);
  afterAll(async () => {
    await database.remove();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('writes a CSV file that begins with the byte-order mark and the header, not npm’s banner', async () => {
    const run = await shell(
      dataDir,
      `npm run export -- --letter ${SLUG} --format csv --status confirmed > "${file('confirmed.csv')}"`,
    );
    expect(run.code, run.stderr).toBe(0);
    expect(run.stderr).toContain('Exported 3 signatures.');
    const bytes = readFileSync(file('confirmed.csv'));
    expect(bytes.subarray(0, 3)).toEqual(BOM);
    const text = bytes.subarray(3).toString('utf8');
    expect(text.split('\n')[0]).toBe(
      '"letter","status","public_name","country","organisation","title","confirmed_at"',
    );
    expect(text).not.toContain('undersigned@');
    expect(text).not.toContain('> ');
    const [header, ...rows] = parse(bytes, { bom: true }) as string[][];
    expect(header).toHaveLength(7);
    expect(rows).toHaveLength(3);
    // The third signer chose initials: the first letter, "H." (initials pass over what stands before a
    // letter, a formula's "=" too); the full name, still a formula, is neutralised in the test below.
    expect(rows.map((r) => r[2])).toEqual(['김지훈', 'Олена Коваленко', 'H.']);
    expect(rows.map((r) => r[3])).toEqual(['KR', 'UA', 'US']);
    for (const row of rows) expect(row.slice(0, 2)).toEqual([SLUG, 'confirmed']);
  }, 120_000);

  it('neutralises formula-like cells in the file and takes the statuses and columns asked for', async () => {
    const run = await shell(
      dataDir,
      `npm run export -- --letter ${SLUG} --format csv --status confirmed,pending --columns name,status > "${file('chosen.csv')}"`,
    );
    expect(run.code, run.stderr).toBe(0);
    const rows = parse(readFileSync(file('chosen.csv')), { bom: true }) as string[][];
    expect(rows).toEqual([
      ['status', 'name'],
      ['confirmed', '김지훈'],
      ['confirmed', 'Олена Коваленко'],
      ['confirmed', `'=HYPERLINK("http://evil.example","click")`],
      ['pending', 'Still pending'],
    ]);
  }, 120_000);

  it('writes JSON Lines: one object per signature and nothing else', async () => {
    const run = await shell(
      dataDir,
      `npm run export -- --letter ${SLUG} --format jsonl --status confirmed --columns name,country,email > "${file('confirmed.jsonl')}"`,
    );
    expect(run.code, run.stderr).toBe(0);
    const text = readFileSync(file('confirmed.jsonl'), 'utf8');
    const lines = text.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines.map((line) => JSON.parse(line) as unknown)).toEqual([
      { name: '김지훈', email: 'jihoon@example.org', country: 'KR' },
      { name: 'Олена Коваленко', email: 'olena@example.net', country: 'UA' },
      { name: '=HYPERLINK("http://evil.example","click")', email: 'formula@example.org', country: 'US' },
    ]);
  }, 120_000);

  it('records each export in the audit log as the platform’s, made from the command line', async () => {
    const entries = await exportEntries(dataDir);
    expect(entries.length).toBeGreaterThanOrEqual(3);
    const csv = entries.find((e) => JSON.parse(e.details).format === 'csv');
    expect(csv).toMatchObject({ actor_email: 'platform', actor_user_id: null, target_id: SLUG });
    expect(JSON.parse(csv!.details)).toMatchObject({
      letter: SLUG,
      statuses: ['confirmed'],
      rows: 3,
      completed: true,
      via: 'command line',
    });
    for (const entry of entries) {
      for (const s of SIGNATURES) expect(entry.details).not.toContain(s.email);
    }
  }, 60_000);

  it.each([
    ['an unknown option', '--letter let-them-choose --verbose', /Unknown option '--verbose'/],
    ['an unknown format', '--letter let-them-choose --format xlsx', /format/],
    ['an unknown status', '--letter let-them-choose --status deleted', /status/],
    ['an impossible date', '--letter let-them-choose --from 2026-02-30', /from/],
    ['a PDF of every letter', '--format pdf', /letter/],
  ])(
    'stops with exit code 2 and the usage for %s',
    async (_case, args, problem) => {
      const run = await shell(dataDir, `npm run export -- ${args} > "${file('bad.out')}"`);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(problem);
      expect(run.stderr).toContain(
        'Usage: npm run --silent export -- --letter <slug> --format csv|jsonl|pdf',
      );
      expect(readFileSync(file('bad.out')).includes(BOM)).toBe(false);
    },
    120_000,
  );

  it('stops with exit code 1 and says so when the letter does not exist', async () => {
    const before = (await exportEntries(dataDir)).length;
    const run = await shell(
      dataDir,
      `npm run export -- --letter no-such-letter --format csv > "${file('unknown.csv')}"`,
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'Cannot export (letter_not_found): There is no letter at /letters/no-such-letter.',
    );
    expect(readFileSync(file('unknown.csv')).length).toBe(0);
    // Nothing was exported, so nothing was recorded.
    expect(await exportEntries(dataDir)).toHaveLength(before);
  }, 120_000);
});
