import { parse } from 'csv-parse/sync';
import { PDFParse } from 'pdf-parse';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { chromiumAt } from '../../server/deliveries/pdf-renderer.js';
import { EXPORT_COLUMNS } from '../../server/exports/export.js';
import { OPERATOR } from '../../server/exports/export-service.js';
import { createAccount, signedIn } from '../support/accounts.js';
import {
  describesItsError,
  fieldErrors,
  fieldsOf,
  formFieldsFor,
  type FormFields,
} from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { byId, startTags } from '../support/html.js';
import { csrfTokenIn, Visitor } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage, signAndConfirm } from '../support/signing.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const FORMULA_START = /^[=+\-@\t\r]/;

/** Signatures made through the signing form and confirmed from the e-mail, on letter A, today. */
const SIGNED = [
  { name: '김지훈', email: 'jihoon@example.org', country: 'KR', updates: 'yes' },
  { name: 'Олена Коваленко', email: 'olena@example.net', country: 'UA' },
  { name: '=HYPERLINK("http://evil.example","click")', email: 'formula@example.org', country: 'KR' },
] as const;

interface Stored {
  name: string;
  letter: 'a' | 'b';
  status: 'pending' | 'confirmed' | 'withdrawn' | 'invalidated';
  country: string;
  createdAt: string;
  consent?: boolean;
}

/** How a withdrawn signature's row reads in an export's name column: it names no one. */
const WITHDRAWN = '';

/** Signatures already in the database (imported long ago, or with characters the form refuses now). */
const STORED: Stored[] = [
  {
    name: '+82 10 1234 5678',
    letter: 'a',
    status: 'confirmed',
    country: 'US',
    createdAt: '2026-11-01T00:00:00.000Z',
  },
  { name: '-5 minus', letter: 'a', status: 'pending', country: 'KR', createdAt: '2026-11-10T23:59:59.000Z' },
  {
    name: '@SUM(A1:A9)',
    letter: 'a',
    status: 'withdrawn',
    country: 'UA',
    createdAt: '2026-10-15T12:00:00.000Z',
  },
  {
    name: '\tTabbed name',
    letter: 'a',
    status: 'invalidated',
    country: 'KR',
    createdAt: '2026-11-20T08:00:00.000Z',
  },
  {
    name: '\rCarriage name',
    letter: 'a',
    status: 'confirmed',
    country: 'GB',
    createdAt: '2026-09-01T00:00:00.000Z',
    consent: true,
  },
  {
    name: 'Just before the range',
    letter: 'a',
    status: 'pending',
    country: 'KR',
    createdAt: '2026-10-31T23:59:59.999Z',
  },
  {
    name: 'Just after the range',
    letter: 'a',
    status: 'pending',
    country: 'KR',
    createdAt: '2026-11-11T00:00:00.000Z',
  },
  {
    name: 'Signer of the other letter',
    letter: 'b',
    status: 'confirmed',
    country: 'KR',
    createdAt: '2026-11-05T00:00:00.000Z',
  },
];

const SUPPORTER_EMAILS = [...SIGNED.map((s) => s.email), ...STORED.map((_, i) => `stored-${i}@example.org`)];

/** Fields of the export form; an array sends the field once per value, as checkboxes do. */
function exportForm(values: Record<string, string | string[]> = {}): FormFields {
  return fieldsOf({
    letter: '',
    status: ['confirmed'],
    country: '',
    from: '',
    to: '',
    consent: 'any',
    columns: ['letter', 'status', 'name', 'country', 'consent_updates', 'signed_at'],
    format: 'csv',
    ...values,
  });
}

interface Download {
  status: number;
  headers: Record<string, string>;
  bytes: Buffer;
  text: string;
}

/** Posts the export form with its CSRF token, as a browser would, and reads the answer as bytes. */
async function download(visitor: Visitor, fields: FormFields, query = ''): Promise<Download> {
  const page = await visitor.get('/admin/exports');
  const body = new URLSearchParams([...fields, ['_csrf', csrfTokenIn(page.text)]]);
  const response = await visitor.agent
    .post(`/admin/exports${query}`)
    .type('form')
    .set('Accept', 'text/html')
    .send(body.toString())
    .buffer(true)
    .parse((res, callback) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => callback(null, Buffer.concat(chunks)));
    });
  const bytes = response.body as Buffer;
  return {
    status: response.status,
    headers: response.headers as Record<string, string>,
    bytes,
    text: bytes.toString('utf8'),
  };
}

/** The rows of a CSV download (header first), read by a CSV parser. */
function csvRows(file: Download): string[][] {
  expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
  return parse(file.bytes, { bom: true }) as string[][];
}

/** The value of one column in each data row of a CSV download. */
function csvColumn(file: Download, column: string): string[] {
  const [header, ...rows] = csvRows(file);
  const index = header!.indexOf(column);
  expect(index, `the file has a ${column} column`).toBeGreaterThanOrEqual(0);
  return rows.map((row) => row[index]!);
}

/** A name as the CSV carries it: formula-like ones behind an apostrophe (written out here, not taken from the code). */
const inCsv = (name: string) => (FORMULA_START.test(name) ? `'${name}` : name);

describe('signature exports', () => {
  let t: TestPlatform;
  let admin: User;
  let adminVisitor: Visitor;
  let organizerVisitor: Visitor;
  const letters = { a: { id: 0, slug: 'let-them-choose' }, b: { id: 0, slug: 'protect-the-soldiers' } };

  async function exportEntries() {
    return t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .orderBy('id')
      .execute();
  }

  async function store(signature: Stored, index: number) {
    await storeSignature(t.platform.db, SECRET, letters[signature.letter].id, {
      ...signature,
      email: `stored-${index}@example.org`,
    });
  }

  beforeAll(async () => {
    t = await createTestPlatform();
    expect(t.config.secretKey).toBe(SECRET);
    ({ user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    ({ visitor: organizerVisitor } = await signedIn(t.app, t.platform, 'organizer'));
    letters.a.id = (await createLetter(t.platform.db, t.clock.now(), { slug: letters.a.slug })).id;
    letters.b.id = (await createLetter(t.platform.db, t.clock.now(), { slug: letters.b.slug })).id;
    for (const s of SIGNED) {
      await signAndConfirm(t, new Visitor(t.app), letters.a.slug, {
        name: s.name,
        email: s.email,
        country: s.country,
        ...('updates' in s ? { updates: s.updates } : {}),
      });
    }
    for (const [index, s] of STORED.entries()) await store(s, index);
  });
  afterAll(async () => {
    await t?.close();
  });
  // Exports are limited to 20 per 15 minutes per connection (tested with the other request limits);
  // this file downloads far more on one clock, so each test starts with the limit's counters empty.
  beforeEach(async () => {
    await t.platform.db.deleteFrom('limit_counters').execute();
  });

  describe('the form', () => {
    it('offers the letters, statuses, columns and formats, with confirmed signatures and the default columns chosen', async () => {
      const page = await adminVisitor.get('/admin/exports');
      expect(page.status).toBe(200);
      const letterOptions = startTags(page.text, 'option')
        .map((o) => o.attrs.value)
        .filter((v) => v === letters.a.slug || v === letters.b.slug);
      expect(letterOptions.sort()).toEqual([letters.a.slug, letters.b.slug].sort());
      const columns = startTags(page.text, 'input')
        .filter((i) => i.attrs.name === 'columns')
        .map((i) => i.attrs.value);
      expect(columns).toEqual([...EXPORT_COLUMNS]);
      const fields = formFieldsFor(page.text, '/admin/exports');
      expect(fields.filter(([n]) => n === 'status').map(([, v]) => v)).toEqual(['confirmed']);
      expect(fields.filter(([n]) => n === 'columns').map(([, v]) => v)).not.toContain('email');
      expect(fields.find(([n]) => n === 'format')).toEqual(['format', 'csv']);
    });

    it('downloads, as it stands, the confirmed signatures of every letter with the default columns', async () => {
      const page = await adminVisitor.get('/admin/exports');
      const file = await download(adminVisitor, formFieldsFor(page.text, '/admin/exports'));
      expect(file.status).toBe(200);
      expect(file.headers['content-disposition']).toBe(
        'attachment; filename="signatures-all-letters-2026-11-23.csv"',
      );
      expect(file.headers['cache-control']).toBe('no-store');
      const [header, ...rows] = csvRows(file);
      expect(header).toEqual([
        'letter',
        'status',
        'public_name',
        'country',
        'organisation',
        'title',
        'confirmed_at',
      ]);
      // The public name is the name as shown on the letter: trimmed, so "\rCarriage name" is no formula there.
      expect(rows.map((r) => r[2]).sort()).toEqual(
        [
          ...SIGNED.map((s) => s.name),
          ...STORED.filter((s) => s.status === 'confirmed').map((s) => s.name.trim()),
        ]
          .map(inCsv)
          .sort(),
      );
    });
  });

  describe('a CSV file', () => {
    it('begins with a UTF-8 byte-order mark, then a header row of the chosen columns', async () => {
      const file = await download(
        adminVisitor,
        exportForm({ letter: letters.a.slug, columns: ['country', 'name', 'email'] }),
      );
      expect(file.status).toBe(200);
      expect(file.bytes.subarray(0, 3)).toEqual(BOM);
      expect(file.bytes.subarray(3).toString('utf8').split('\n')[0]).toBe('"name","email","country"');
      expect(file.headers['content-disposition']).toBe(
        `attachment; filename="signatures-${letters.a.slug}-2026-11-23.csv"`,
      );
    });

    it('has one row per matching signature, with Korean and Ukrainian names intact', async () => {
      const file = await download(adminVisitor, exportForm({ letter: letters.a.slug }));
      const rows = csvRows(file).slice(1);
      expect(rows).toHaveLength(5);
      expect(csvColumn(file, 'name')).toEqual(expect.arrayContaining(['김지훈', 'Олена Коваленко']));
      // The bytes themselves are UTF-8, as a spreadsheet reading the BOM expects.
      expect(file.bytes.includes(Buffer.from('김지훈', 'utf8'))).toBe(true);
      expect(file.bytes.includes(Buffer.from('Олена Коваленко', 'utf8'))).toBe(true);
      const korean = rows.find((r) => r.includes('김지훈'))!;
      expect(korean).toEqual([
        'let-them-choose',
        'confirmed',
        '김지훈',
        'KR',
        'true',
        '2026-11-23T10:00:00.000Z',
      ]);
    });

    it('neutralises formula-like names, and a CSV parser reads every one back behind its apostrophe', async () => {
      const file = await download(
        adminVisitor,
        exportForm({ letter: letters.a.slug, status: ['pending', 'confirmed', 'withdrawn', 'invalidated'] }),
      );
      const names = csvColumn(file, 'name');
      const formulaLike = [
        SIGNED[2].name,
        // A withdrawn signature's row carries no name (the next test).
        ...STORED.filter((s) => s.letter === 'a' && s.status !== 'withdrawn').map((s) => s.name),
      ].filter((n) => FORMULA_START.test(n));
      expect(formulaLike).toHaveLength(5);
      for (const name of formulaLike) expect(names).toContain(`'${name}`);
      for (const row of csvRows(file)) for (const cell of row) expect(cell).not.toMatch(FORMULA_START);
      expect(names).toHaveLength(10);
    });
  });

  it('keeps a withdrawn signature as a row that says nothing of who signed: the supporter was promised their name leaves every list', async () => {
    const columns = ['status', 'name', 'public_name', 'email', 'city', 'organisation', 'title', 'country'];
    const file = await download(
      adminVisitor,
      exportForm({ letter: letters.a.slug, status: ['withdrawn'], columns }),
    );
    expect(file.status).toBe(200);
    expect(csvRows(file).slice(1)).toEqual([['withdrawn', '', '', '', 'UA', '', '', '']]);
    expect(file.text).not.toContain('SUM(A1:A9)');
    const lines = await download(
      adminVisitor,
      exportForm({ letter: letters.a.slug, status: ['withdrawn'], columns, format: 'jsonl' }),
    );
    expect(JSON.parse(lines.text)).toEqual({
      status: 'withdrawn',
      name: '',
      public_name: '',
      email: null,
      city: '',
      organisation: '',
      title: '',
      country: 'UA',
    });
  });

  it('writes JSON Lines: one parsable object per signature, with the chosen columns and typed values', async () => {
    const file = await download(
      adminVisitor,
      exportForm({
        letter: letters.a.slug,
        format: 'jsonl',
        columns: ['name', 'consent_updates', 'letter_version'],
      }),
    );
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="signatures-${letters.a.slug}-2026-11-23.jsonl"`,
    );
    expect(file.text.endsWith('\n')).toBe(true);
    const lines = file.text.trimEnd().split('\n');
    expect(lines).toHaveLength(5);
    const objects = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    for (const o of objects) expect(Object.keys(o)).toEqual(['name', 'consent_updates', 'letter_version']);
    expect(objects).toContainEqual({ name: '김지훈', consent_updates: true, letter_version: 1 });
    expect(objects).toContainEqual({ name: 'Олена Коваленко', consent_updates: false, letter_version: 1 });
    // JSON is read by programs, not spreadsheets: the name is as signed.
    expect(objects).toContainEqual({ name: SIGNED[2].name, consent_updates: false, letter_version: 1 });
  });

  describe('filters', () => {
    const ALL = ['pending', 'confirmed', 'withdrawn', 'invalidated'];
    it.each([
      ['a letter', { letter: 'protect-the-soldiers' }, ['Signer of the other letter']],
      [
        'statuses',
        { status: ['pending', 'withdrawn'] },
        ['-5 minus', WITHDRAWN, 'Just before the range', 'Just after the range'],
      ],
      ['one status', { status: ['invalidated'] }, ['\tTabbed name']],
      ['a country', { status: ALL, country: 'UA' }, ['Олена Коваленко', WITHDRAWN]],
      [
        'a date range, both days included',
        { letter: 'let-them-choose', status: ALL, from: '2026-11-01', to: '2026-11-10' },
        ['+82 10 1234 5678', '-5 minus'],
      ],
      ['consent to news', { consent: 'yes' }, ['김지훈', '\rCarriage name']],
      [
        'no consent to news',
        { letter: 'let-them-choose', consent: 'no' },
        ['Олена Коваленко', SIGNED[2].name, '+82 10 1234 5678'],
      ],
    ] as const)('by %s select the right signatures', async (_filter, values, expected) => {
      const before = (await exportEntries()).length;
      const file = await download(adminVisitor, exportForm(values as Record<string, string | string[]>));
      expect(file.status).toBe(200);
      expect(csvColumn(file, 'name').sort()).toEqual(expected.map(inCsv).sort());
      const entries = await exportEntries();
      expect(entries).toHaveLength(before + 1);
      expect(JSON.parse(entries.at(-1)!.details)).toMatchObject({ rows: expected.length, completed: true });
    });

    it('that match nothing give a file with the header row only', async () => {
      const file = await download(adminVisitor, exportForm({ country: 'FR' }));
      expect(file.status).toBe(200);
      expect(
        file.bytes.equals(
          Buffer.concat([
            BOM,
            Buffer.from('"letter","status","name","country","consent_updates","signed_at"\n'),
          ]),
        ),
      ).toBe(true);
      expect(csvRows(file)).toHaveLength(1);
      const json = await download(adminVisitor, exportForm({ country: 'FR', format: 'jsonl' }));
      expect(json.status).toBe(200);
      expect(json.text).toBe('');
    });
  });

  describe('bad filters', () => {
    it.each([
      [
        'an unknown status',
        { status: ['confirmed', 'deleted'] },
        'field-statuses',
        'Choose statuses from the list.',
      ],
      [
        'no status ticked',
        { status: [] },
        'field-statuses',
        'Tick at least one status: the export lists signatures in the statuses ticked.',
      ],
      [
        'no column ticked',
        { columns: [] },
        'field-columns',
        'Tick at least one column: the export holds the columns ticked.',
      ],
      ['an unknown country', { country: 'XX' }, 'field-country', 'Choose a country from the list.'],
      ['an impossible date', { from: '2026-02-30' }, 'field-from', 'Enter a real date (YYYY-MM-DD).'],
      [
        'an end before the start',
        { from: '2026-11-20', to: '2026-11-01' },
        'field-to',
        'The end date is before the start date.',
      ],
      [
        'an unknown column',
        { columns: ['name', 'password_hash'] },
        'field-columns',
        'Choose columns from the list.',
      ],
      ['an unknown format', { format: 'xlsx' }, 'field-format', 'Choose CSV, JSON Lines or PDF.'],
      [
        'a PDF of every letter',
        { format: 'pdf' },
        'field-letter',
        'A PDF annex is for one letter: choose it.',
      ],
      ['an unknown letter', { letter: 'no-such-letter' }, 'field-letter', 'Choose a letter from the list.'],
      [
        'an oversized letter',
        { letter: 'a'.repeat(5_000) },
        'field-letter',
        'Choose a letter from the list.',
      ],
    ] as const)(
      'get a 400 for %s, with the message beside the field',
      async (_case, values, field, message) => {
        const before = (await exportEntries()).length;
        const response = await download(
          adminVisitor,
          exportForm(values as Record<string, string | string[]>),
        );
        expect(response.status).toBe(400);
        expect(response.headers['content-type']).toMatch(/^text\/html/);
        expect(response.headers['content-disposition']).toBeUndefined();
        expect(fieldErrors(response.text, field)).toEqual([message]);
        // Tied to its field (or group of choices), so a screen reader says it there.
        expect(describesItsError(response.text, field)).toBe(true);
        // Nothing was exported, so nothing is in the audit log.
        expect(await exportEntries()).toHaveLength(before);
      },
    );

    it('keep what the admin typed and chose', async () => {
      const response = await download(
        adminVisitor,
        exportForm({
          letter: letters.b.slug,
          status: ['pending', 'withdrawn'],
          country: 'UA',
          from: '2026-11-31',
          to: '2026-12-01',
          consent: 'no',
          columns: ['email', 'name'],
          format: 'jsonl',
        }),
      );
      expect(response.status).toBe(400);
      expect(fieldErrors(response.text, 'field-from')).toEqual(['Enter a real date (YYYY-MM-DD).']);
      expect(byId(response.text, 'field-from')!.attrs.value).toBe('2026-11-31');
      expect(byId(response.text, 'field-to')!.attrs.value).toBe('2026-12-01');
      const fields = formFieldsFor(response.text, '/admin/exports');
      expect(fields.filter(([n]) => n === 'status').map(([, v]) => v)).toEqual(['pending', 'withdrawn']);
      expect(fields.filter(([n]) => n === 'columns').map(([, v]) => v)).toEqual(['name', 'email']);
      expect(fields.find(([n]) => n === 'letter')).toEqual(['letter', letters.b.slug]);
      expect(fields.find(([n]) => n === 'country')).toEqual(['country', 'UA']);
      expect(fields.find(([n]) => n === 'consent')).toEqual(['consent', 'no']);
      expect(fields.find(([n]) => n === 'format')).toEqual(['format', 'jsonl']);
    });
  });

  it('says beside the format that this server makes no PDF (no Chromium), keeping every choice, and records nothing', async () => {
    const before = (await exportEntries()).length;
    const response = await download(
      adminVisitor,
      exportForm({ letter: letters.b.slug, status: ['confirmed', 'pending'], country: 'KR', format: 'pdf' }),
    );
    expect(response.status).toBe(422);
    expect(response.headers['content-disposition']).toBeUndefined();
    expect(fieldErrors(response.text, 'field-format')).toEqual([
      'PDF rendering is off on this server (no Chromium). Export CSV or JSON Lines instead.',
    ]);
    const fields = formFieldsFor(response.text, '/admin/exports');
    expect(fields.find(([n]) => n === 'letter')).toEqual(['letter', letters.b.slug]);
    expect(fields.filter(([n]) => n === 'status').map(([, v]) => v)).toEqual(['pending', 'confirmed']);
    expect(fields.find(([n]) => n === 'country')).toEqual(['country', 'KR']);
    expect(await exportEntries()).toHaveLength(before);
  });

  it('is for admins only: an organizer gets 403 and nothing is recorded', async () => {
    const before = (await exportEntries()).length;
    expectErrorPage(await organizerVisitor.get('/admin/exports'), 403, ERROR_TITLES[403]);
    const page = await organizerVisitor.get('/admin');
    const response = await organizerVisitor.agent
      .post('/admin/exports')
      .type('form')
      .set('Accept', 'text/html')
      .send(new URLSearchParams([...exportForm(), ['_csrf', csrfTokenIn(page.text)]]).toString());
    expectErrorPage(response, 403, ERROR_TITLES[403]);
    expect(response.text).not.toContain('김지훈');
    expect(await exportEntries()).toHaveLength(before);
  });

  describe('the audit log', () => {
    it('records every export: who, the filters, the row count, and that it completed', async () => {
      const before = (await exportEntries()).length;
      const file = await download(
        adminVisitor,
        exportForm({
          letter: letters.a.slug,
          status: ['confirmed', 'pending'],
          country: 'KR',
          from: '2026-11-01',
          to: '2026-11-30',
          consent: 'no',
          columns: ['name', 'email'],
          format: 'jsonl',
        }),
      );
      expect(file.text.trimEnd().split('\n')).toHaveLength(3);
      const entries = await exportEntries();
      expect(entries).toHaveLength(before + 1);
      const entry = entries.at(-1)!;
      expect(entry).toMatchObject({
        actor_user_id: admin.id,
        actor_email: admin.email,
        action: 'export',
        target_type: 'letter',
        target_id: letters.a.slug,
        at: '2026-11-23T10:00:00.000Z',
      });
      expect(JSON.parse(entry.details)).toEqual({
        letter: letters.a.slug,
        statuses: ['confirmed', 'pending'],
        country: 'KR',
        from: '2026-11-01',
        to: '2026-11-30',
        consent: false,
        columns: ['name', 'email'],
        format: 'jsonl',
        rows: 3,
        completed: true,
      });
    });

    it('shows the export to admins on the audit page', async () => {
      const page = await adminVisitor.get('/admin/audit?action=export');
      expect(page.status).toBe(200);
      const rows = startTags(page.text, 'tr').filter((tr) => tr.attrs.class === 'audit-row');
      expect(rows.length).toBe((await exportEntries()).length);
      expect(page.text).toContain('Rows: 3');
    });

    it('never holds the e-mail address of a supporter, even of an export of addresses', async () => {
      const file = await download(
        adminVisitor,
        exportForm({
          status: ['pending', 'confirmed', 'withdrawn', 'invalidated'],
          columns: ['name', 'email'],
        }),
      );
      // Every address, but the withdrawn signature's (its row names no one).
      const withdrawn = STORED.flatMap((s, i) =>
        s.status === 'withdrawn' ? [`stored-${i}@example.org`] : [],
      );
      expect(withdrawn).toHaveLength(1);
      expect(csvColumn(file, 'email').sort()).toEqual(
        [WITHDRAWN, ...SUPPORTER_EMAILS.filter((e) => !withdrawn.includes(e))].sort(),
      );
      const everything = await t.platform.db.selectFrom('audit_events').selectAll().execute();
      expect(everything.filter((e) => e.action === 'export').length).toBeGreaterThan(10);
      const stored = JSON.stringify(everything);
      for (const email of SUPPORTER_EMAILS) expect(stored).not.toContain(email);
    });
  });
});

describe('a CSV export read by a spreadsheet that splits on another separator', () => {
  let t: TestPlatform;
  let admin: User;
  let adminVisitor: Visitor;
  const slug = 'separator-letter';
  const HOSTILE = ['Org;@SUM(1+1)', 'Org,=1+1', 'Org|+cmd', 'Org\t-1', 'Org;\uff1dSUM(1)'];
  /** Any of these starts a formula, in ASCII or full width. */
  const FORMULA = /^[=+\-@\t\r\uff1d\uff0b\uff0d\uff20]/;

  beforeAll(async () => {
    t = await createTestPlatform();
    ({ user: admin, visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    const letter = await createLetter(t.platform.db, t.clock.now(), { slug });
    for (const [index, name] of HOSTILE.entries()) {
      await storeSignature(t.platform.db, SECRET, letter.id, {
        name,
        email: `hostile-${index}@example.org`,
        status: 'confirmed',
        country: 'KR',
        createdAt: '2026-11-20T00:00:00.000Z',
      });
    }
  });
  afterAll(async () => {
    await t?.close();
  });

  it('quotes every cell, empty ones too, so a spreadsheet that honours quotes never splits one', async () => {
    // City is empty in every row: written bare (`,,`), it broke the README's "every cell quoted".
    const file = await download(
      adminVisitor,
      exportForm({ letter: slug, columns: ['name', 'country', 'city'] }),
    );
    expect(file.status).toBe(200);
    const lines = file.bytes
      .subarray(3)
      .toString('utf8')
      .trimEnd()
      .split(/\r?\n(?=")/);
    expect(lines).toHaveLength(HOSTILE.length + 1);
    for (const line of lines) expect(line).toMatch(/^"(?:[^"]|"")*"(?:,"(?:[^"]|"")*")*$/);
    expect(file.text).toContain(`"Org;'@SUM(1+1)"`);
  });

  it('leaves no piece of any cell starting with a formula character, split on ; , | or a tab', async () => {
    const file = await download(adminVisitor, exportForm({ letter: slug, columns: ['name', 'country'] }));
    const names = csvColumn(file, 'name');
    expect(names).toHaveLength(HOSTILE.length);
    for (const name of names) {
      for (const separator of [';', ',', '|', '\t']) {
        for (const piece of name.split(separator)) expect(piece, JSON.stringify(name)).not.toMatch(FORMULA);
      }
    }
    // Nothing but apostrophes was added.
    expect(names.map((n) => n.replaceAll("'", '')).sort()).toEqual([...HOSTILE].sort());
  });

  it('keeps JSON Lines raw: it is read by programs, not spreadsheets', async () => {
    const file = await download(
      adminVisitor,
      exportForm({ letter: slug, columns: ['name'], format: 'jsonl' }),
    );
    const names = file.text
      .trimEnd()
      .split('\n')
      .map((line) => (JSON.parse(line) as { name: string }).name);
    expect(names.sort()).toEqual([...HOSTILE].sort());
  });

  describe('the export service itself', () => {
    const request = {
      filters: {
        letter: slug,
        statuses: ['confirmed' as const],
        country: undefined,
        from: undefined,
        to: undefined,
        consent: undefined,
      },
      columns: ['name' as const],
      format: 'csv' as const,
    };
    const chunks: string[] = [];
    const sink = {
      async write(chunk: string | Buffer) {
        chunks.push(chunk.toString());
      },
    };
    const exportEntries = () =>
      t.platform.db.selectFrom('audit_events').selectAll().where('action', '=', 'export').execute();

    it('refuses an organizer with 403 whoever called it, before reading or recording anything', async () => {
      const organizer = await createAccount(t.platform, 'organizer');
      const before = (await exportEntries()).length;
      chunks.length = 0;
      await expect(t.platform.exports.run(request, organizer, sink)).rejects.toMatchObject({
        status: 403,
        code: 'admin_only',
      });
      await expect(t.platform.exports.check(organizer, request)).rejects.toMatchObject({ status: 403 });
      expect(chunks).toEqual([]);
      expect(await exportEntries()).toHaveLength(before);
    });

    it('lets an admin export, recorded under the admin', async () => {
      chunks.length = 0;
      expect(await t.platform.exports.run(request, admin, sink)).toBe(HOSTILE.length);
      expect(chunks.join('')).toContain(`"Org;'@SUM(1+1)"`);
      expect((await exportEntries()).at(-1)).toMatchObject({ actor_user_id: admin.id });
    });

    it('lets the operator at the shell export without an account, recorded as the platform', async () => {
      chunks.length = 0;
      expect(await t.platform.exports.run(request, OPERATOR, sink, { via: 'command line' })).toBe(
        HOSTILE.length,
      );
      const entry = (await exportEntries()).at(-1)!;
      expect(entry.actor_user_id).toBeNull();
      expect(JSON.parse(entry.details)).toMatchObject({ via: 'command line', rows: HOSTILE.length });
    });
  });
});

describe.skipIf(!chromiumAt(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'))('a PDF annex export', () => {
  let t: TestPlatform;
  let visitor: Visitor;

  beforeAll(async () => {
    t = await createTestPlatform({ pdf: true });
    ({ visitor } = await signedIn(t.app, t.platform, 'admin'));
    const { slug } = await createLetter(t.platform.db, t.clock.now(), {
      slug: 'annex-letter',
      texts: [
        {
          language: 'en',
          title: 'Protect the captured soldiers',
          summary: 'A test letter.',
          body: 'Dear all,',
        },
        {
          language: 'ko',
          title: '포로가 된 병사들을 보호하십시오',
          summary: '시험 편지.',
          body: '안녕하십니까.',
        },
      ],
    });
    await signAndConfirm(t, new Visitor(t.app), slug, {
      name: 'Olena Kovalenko',
      email: 'olena@example.net',
      country: 'UA',
    });
    await signAndConfirm(t, new Visitor(t.app), slug, {
      name: 'Hidden Person',
      email: 'hidden@example.org',
      display: 'hidden',
    });
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it('returns the letter’s annex as application/pdf, with signatories as they chose to appear', async () => {
    // Every column ticked, the address and the name as typed too: the PDF holds the annex all the same.
    const everything = ['letter', 'status', 'name', 'public_name', 'email', 'country', 'signed_at'];
    const file = await download(
      visitor,
      exportForm({ letter: 'annex-letter', format: 'pdf', columns: everything }),
    );
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/pdf');
    expect(file.headers['content-disposition']).toBe(
      'attachment; filename="signatures-annex-letter-2026-11-23.pdf"',
    );
    expect(file.bytes.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const parser = new PDFParse({ data: new Uint8Array(file.bytes) });
    const text = await parser.getText().finally(() => parser.destroy());
    expect(text.text).toContain('Olena Kovalenko');
    expect(text.text).not.toContain('Hidden Person');
    const entry = await t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .executeTakeFirstOrThrow();
    // The audit log says what left: the annex's columns, not the ticked ones (it said "email").
    expect(JSON.parse(entry.details)).toMatchObject({
      format: 'pdf',
      rows: 2,
      completed: true,
      columns: ['status', 'public_name', 'title', 'organisation', 'country'],
    });
  }, 60_000);

  it("writes the annex in the admin's language where the letter has a text in it, else in the letter's own", async () => {
    const textOfPdf = async (bytes: Buffer) => {
      const parser = new PDFParse({ data: new Uint8Array(bytes) });
      return (await parser.getText().finally(() => parser.destroy())).text.replace(/\s+/g, ' ');
    };
    const korean = await textOfPdf(
      (await download(visitor, exportForm({ letter: 'annex-letter', format: 'pdf' }), '?lang=ko')).bytes,
    );
    expect(korean).toContain('포로가 된 병사들을 보호하십시오');
    expect(korean).not.toContain('Protect the captured soldiers');
    // No Ukrainian text: the letter's own (English), not a Ukrainian frame around an English title.
    const ukrainian = await textOfPdf(
      (await download(visitor, exportForm({ letter: 'annex-letter', format: 'pdf' }), '?lang=uk')).bytes,
    );
    expect(ukrainian).toContain('Protect the captured soldiers');
    expect(ukrainian).toContain('Annex');
  }, 60_000);
});

describe.skipIf(!chromiumAt(process.env.CHROMIUM_PATH ?? '/usr/bin/chromium'))(
  'a PDF annex export of signatures that are not all confirmed',
  () => {
    let t: TestPlatform;
    let visitor: Visitor;
    afterAll(async () => {
      await t?.close();
    });

    const mixed = 'mixed-letter';
    const STATUSES = [
      ['Confirmed Person', 'confirmed'],
      ['Second Confirmed', 'confirmed'],
      ['Pending Person', 'pending'],
      ['Withdrawn Person', 'withdrawn'],
      ['Invalidated Person', 'invalidated'],
    ] as const;

    /** The text of a PDF export of the mixed letter, spaces squeezed (PDF text breaks lines anywhere). */
    async function pdfText(statuses: string[], extra: Record<string, string> = {}): Promise<string> {
      const file = await download(
        visitor,
        exportForm({ letter: mixed, format: 'pdf', status: statuses, ...extra }),
      );
      expect(file.status).toBe(200);
      expect(file.headers['content-type']).toBe('application/pdf');
      const parser = new PDFParse({ data: new Uint8Array(file.bytes) });
      const text = await parser.getText().finally(() => parser.destroy());
      return text.text.replace(/\s+/g, ' ');
    }

    beforeAll(async () => {
      t = await createTestPlatform({ pdf: true });
      ({ visitor } = await signedIn(t.app, t.platform, 'admin'));
      const letter = await createLetter(t.platform.db, t.clock.now(), { slug: mixed });
      for (const [index, [name, status]] of STATUSES.entries()) {
        await storeSignature(t.platform.db, SECRET, letter.id, {
          name,
          email: `mixed-${index}@example.org`,
          status,
          country: 'KR',
          createdAt: '2026-11-20T00:00:00.000Z',
        });
      }
    });

    it('says which statuses it holds, how many of each, the filters and when it was exported, and never claims they were all confirmed', async () => {
      const text = await pdfText(['pending', 'confirmed', 'withdrawn', 'invalidated'], { country: 'KR' });
      expect(text).toContain('This export holds 5 signatures');
      expect(text).toContain('1 pending (never confirmed');
      expect(text).toContain('2 confirmed');
      expect(text).toContain('1 withdrawn by the signatory');
      expect(text).toContain('1 invalidated by a moderator');
      expect(text).toContain('Not every signature in this export was confirmed');
      expect(text).not.toContain('Every signature was confirmed');
      expect(text).not.toContain('confirmed signatures:');
      expect(text).toContain('statuses pending, confirmed, withdrawn, invalidated');
      expect(text).toContain('country South Korea');
      expect(text).toContain('Signature export made on November 23, 2026 at 10:00 UTC');
      // Each name is marked with its status; a withdrawn signature is counted, never named.
      expect(text).toMatch(/Pending Person .*pending/);
      for (const [name, status] of STATUSES)
        if (status === 'withdrawn') expect(text).not.toContain(name);
        else expect(text).toContain(name);
    }, 60_000);

    it('says every signature was confirmed only when it holds confirmed ones alone', async () => {
      const text = await pdfText(['confirmed']);
      expect(text).toContain('This export holds 2 signatures: 2 confirmed.');
      expect(text).toContain('Every signature in this export was confirmed from the signatory');
      expect(text).not.toContain('Pending Person');
      expect(text).not.toContain('Not every signature');
    }, 60_000);
  },
);
