import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { User } from '../../server/accounts/account.js';
import { createAccount, signedIn } from '../support/accounts.js';
import {
  describesItsError,
  fieldErrors,
  fieldsOf,
  formFieldsFor,
  type FormFields,
} from '../support/admin-forms.js';
import { createLetter } from '../support/factories.js';
import { startTags, textOf, mainOf } from '../support/html.js';
import type { Visitor } from '../support/http.js';
import { csrfTokenIn } from '../support/http.js';
import { ERROR_TITLES, expectErrorPage } from '../support/signing.js';
import { storeSignature } from '../support/stored-signatures.js';
import { createTestPlatform, type TestPlatform } from '../support/test-platform.js';

const SECRET = 'test-secret-test-secret-test-secret-0123';

/** The columns a letter's supporters list holds, written out here rather than taken from the code. */
const COLUMNS = [
  'status',
  'public_name',
  'display',
  'email',
  'country',
  'organisation',
  'title',
  'language',
  'consent_updates',
  'signed_at',
  'confirmed_at',
  'withdrawn_at',
];

const AT = '2026-11-20T10:00:00.000Z';
const SUPPORTERS = [
  { name: 'Kim Consenting', email: 'consenting@example.org', consent: true, display: 'full' as const },
  { name: 'Lee Silent', email: 'not-consenting@example.org', consent: false, display: 'initials' as const },
  { name: 'Park Hidden', email: 'hidden@example.org', consent: true, display: 'hidden' as const },
  { name: 'Choi Initials', email: 'initials-news@example.org', consent: true, display: 'initials' as const },
];

/** What two supporters who chose not to be named gave besides (set on their rows below). */
const UNSHOWN = { organisation: 'Shelter Without A Name', title: 'Night Nurse' };

interface Download {
  status: number;
  headers: Record<string, string>;
  text: string;
}

describe("a letter's supporters page", () => {
  let t: TestPlatform;
  let owner: User;
  let ownerVisitor: Visitor;
  let collaboratorVisitor: Visitor;
  let strangerVisitor: Visitor;
  let adminVisitor: Visitor;
  const letter = { id: 0, slug: 'supporters-letter' };
  const page = () => `/admin/letters/${letter.id}/supporters`;

  const exportEntries = () =>
    t.platform.db
      .selectFrom('audit_events')
      .selectAll()
      .where('action', '=', 'export')
      .orderBy('id')
      .execute();

  /** Posts the page's form as a browser would (its CSRF token from the page), reading the answer as text. */
  async function post(visitor: Visitor, fields: FormFields, path = page()): Promise<Download> {
    const form = await visitor.get('/admin');
    const response = await visitor.agent
      .post(path)
      .type('form')
      .set('Accept', 'text/html')
      .set('Sec-Fetch-Site', 'same-origin')
      .send(new URLSearchParams([...fields, ['_csrf', csrfTokenIn(form.text)]]).toString())
      .buffer(true)
      .parse((res, callback) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => callback(null, Buffer.concat(chunks)));
      });
    return {
      status: response.status,
      headers: response.headers as Record<string, string>,
      text: (response.body as Buffer).toString('utf8'),
    };
  }

  /** The form's fields as the page offers them, with some replaced. */
  async function formAsOffered(visitor: Visitor, values: Record<string, string | string[]> = {}) {
    const offered = formFieldsFor((await visitor.get(page())).text, page());
    const replaced = new Set(Object.keys(values));
    return [...offered.filter(([name]) => !replaced.has(name)), ...fieldsOf(values)];
  }

  beforeAll(async () => {
    t = await createTestPlatform();
    expect(t.config.secretKey).toBe(SECRET);
    ({ user: owner, visitor: ownerVisitor } = await signedIn(t.app, t.platform, 'organizer'));
    const collaborator = await signedIn(t.app, t.platform, 'organizer');
    collaboratorVisitor = collaborator.visitor;
    ({ visitor: strangerVisitor } = await signedIn(t.app, t.platform, 'organizer'));
    ({ visitor: adminVisitor } = await signedIn(t.app, t.platform, 'admin'));
    letter.id = (
      await createLetter(t.platform.db, t.clock.now(), { slug: letter.slug, title: 'Let them choose' })
    ).id;
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.id })
      .where('id', '=', letter.id)
      .execute();
    await t.platform.db
      .insertInto('letter_collaborators')
      .values({ letter_id: letter.id, user_id: collaborator.user.id, created_at: AT })
      .execute();
    for (const s of SUPPORTERS)
      await storeSignature(t.platform.db, SECRET, letter.id, {
        ...s,
        status: 'confirmed',
        country: 'KR',
        createdAt: AT,
      });
    await t.platform.db
      .updateTable('signatures')
      .set({ organisation: UNSHOWN.organisation, job_title: UNSHOWN.title })
      .where('email', 'in', ['hidden@example.org', 'initials-news@example.org'])
      .execute();
    await storeSignature(t.platform.db, SECRET, letter.id, {
      name: 'Choi Pending',
      email: 'pending@example.org',
      consent: true,
      status: 'pending',
      country: 'UA',
      createdAt: AT,
    });
  });
  afterAll(async () => {
    await t?.close();
  });
  // Downloads count towards the export limit (20 per 15 minutes a connection); each test starts afresh.
  beforeEach(async () => {
    await t.platform.db.deleteFrom('limit_counters').execute();
  });

  it('is linked from the editor of a published letter, and offers confirmed signatures as CSV or JSON Lines', async () => {
    const editor = await ownerVisitor.get(`/admin/letters/${letter.id}`);
    expect(startTags(editor.text, 'a').map((a) => a.attrs.href)).toContain(page());

    const response = await ownerVisitor.get(page());
    expect(response.status).toBe(200);
    expect(response.headers['cache-control']).toContain('no-store');
    const main = textOf(mainOf(response.text));
    expect(main).toContain("Download this letter's supporters");
    expect(main).toContain('Let them choose');
    expect(main).toContain('only for supporters who asked for news about this letter');
    const fields = formFieldsFor(response.text, page());
    expect(fields.filter(([n]) => n === 'status').map(([, v]) => v)).toEqual(['confirmed']);
    expect(fields.find(([n]) => n === 'format')).toEqual(['format', 'csv']);
    const formats = startTags(response.text, 'input')
      .filter((i) => i.attrs.name === 'format')
      .map((i) => i.attrs.value);
    expect(formats).toEqual(['csv', 'jsonl']);
    // No column to choose: the list's columns are fixed, and listed on the page.
    expect(fields.some(([n]) => n === 'columns')).toBe(false);
    for (const column of COLUMNS) expect(main).toContain(column);
  });

  it('is not offered for a draft, which has no supporters yet', async () => {
    const draft = await createLetter(t.platform.db, t.clock.now(), { status: 'draft' });
    await t.platform.db
      .updateTable('letters')
      .set({ owner_id: owner.id })
      .where('id', '=', draft.id)
      .execute();
    const editor = await ownerVisitor.get(`/admin/letters/${draft.id}`);
    expect(editor.status).toBe(200);
    expect(startTags(editor.text, 'a').map((a) => a.attrs.href)).not.toContain(
      `/admin/letters/${draft.id}/supporters`,
    );
  });

  it('downloads names as each supporter chose, and addresses only of confirmed supporters who asked for news', async () => {
    const before = (await exportEntries()).length;
    const file = await post(ownerVisitor, await formAsOffered(ownerVisitor));
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('text/csv; charset=utf-8');
    expect(file.headers['content-disposition']).toBe(
      `attachment; filename="signatures-${letter.slug}-2026-11-23.csv"`,
    );
    expect(file.headers['cache-control']).toBe('no-store');
    const [header, ...rows] = parse(file.text, { bom: true }) as string[][];
    expect(header).toEqual(COLUMNS);
    const byName = new Map(rows.map((row) => [row[1], row]));
    expect([...byName.keys()].sort()).toEqual(['', 'C. I.', 'Kim Consenting', 'L. S.'].sort());
    expect(byName.get('Kim Consenting')![3]).toBe('consenting@example.org');
    // Agreed to news but chose to be counted only: the address, with no name and no country beside it
    // (an address to write to, not the rest of someone who chose not to be shown).
    expect(byName.get('')![3]).toBe('hidden@example.org');
    expect(byName.get('')![4]).toBe('');
    expect(byName.get('Kim Consenting')![4]).toBe('KR');
    // Initials and news: the address, and neither the organisation nor the title they chose not to show.
    expect(byName.get('C. I.')!.slice(3, 7)).toEqual(['initials-news@example.org', 'KR', '', '']);
    expect(file.text).not.toContain(UNSHOWN.organisation);
    expect(file.text).not.toContain(UNSHOWN.title);
    expect(byName.get('L. S.')![3]).toBe('');
    // What the supporters chose not to show is nowhere in the file.
    expect(file.text).not.toContain('Lee Silent');
    expect(file.text).not.toContain('Park Hidden');
    expect(file.text).not.toContain('not-consenting@example.org');
    expect(file.text).not.toContain('Choi Pending');

    const entries = await exportEntries();
    expect(entries).toHaveLength(before + 1);
    expect(entries.at(-1)!.actor_user_id).toBe(owner.id);
    expect(JSON.parse(entries.at(-1)!.details)).toMatchObject({
      addresses: 'consented',
      rows: 4,
      completed: true,
    });
  });

  it('gives a pending signature no address: whoever signed may have typed someone else’s', async () => {
    const file = await post(
      ownerVisitor,
      await formAsOffered(ownerVisitor, { status: ['pending'], format: 'jsonl' }),
    );
    expect(file.status).toBe(200);
    expect(file.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const rows = file.text
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(rows).toEqual([
      expect.objectContaining({ public_name: 'Choi Pending', email: null, status: 'pending' }),
    ]);
    expect(Object.keys(rows[0]!)).toEqual(COLUMNS);
  });

  it('ignores columns sent with the form: the name as typed never leaves, whatever is posted', async () => {
    const file = await post(
      ownerVisitor,
      await formAsOffered(ownerVisitor, { columns: ['name', 'city', 'email'] }),
    );
    expect(file.status).toBe(200);
    const [header] = parse(file.text, { bom: true }) as string[][];
    expect(header).toEqual(COLUMNS);
    expect(file.text).not.toContain('Lee Silent');
  });

  it.each([
    ['no status ticked', { status: [] }, 'field-statuses', 'Tick at least one status'],
    ['a PDF', { format: 'pdf' }, 'field-format', 'Choose CSV or JSON Lines.'],
    ['an impossible date', { from: '2026-02-30' }, 'field-from', 'Enter a real date (YYYY-MM-DD).'],
    ['an unknown country', { country: 'XX' }, 'field-country', 'Choose a country from the list.'],
  ] as const)(
    'answers %s with a 400 beside the field, keeping the choices, and records nothing',
    async (_case, values, field, message) => {
      const before = (await exportEntries()).length;
      const response = await post(
        ownerVisitor,
        await formAsOffered(ownerVisitor, { consent: 'yes', to: '2026-11-30', ...values } as Record<
          string,
          string | string[]
        >),
      );
      expect(response.status).toBe(400);
      expect(response.headers['content-type']).toMatch(/^text\/html/);
      expect(fieldErrors(response.text, field).join(' ')).toContain(message);
      if (field !== 'field-statuses') expect(describesItsError(response.text, field)).toBe(true);
      const kept = formFieldsFor(response.text, page());
      expect(kept.find(([n]) => n === 'consent')).toEqual(['consent', 'yes']);
      expect(kept.find(([n]) => n === 'to')).toEqual(['to', '2026-11-30']);
      expect(await exportEntries()).toHaveLength(before);
    },
  );

  it('lets a collaborator and an admin download it too', async () => {
    for (const visitor of [collaboratorVisitor, adminVisitor]) {
      expect((await visitor.get(page())).status).toBe(200);
      const file = await post(visitor, await formAsOffered(visitor));
      expect(file.status).toBe(200);
      expect(file.text).toContain('consenting@example.org');
      expect(file.text).not.toContain('Lee Silent');
    }
  });

  it('refuses an organizer the letter is not shared with (403), and an unknown letter is a 404; nothing is recorded', async () => {
    const before = (await exportEntries()).length;
    expectErrorPage(await strangerVisitor.get(page()), 403, ERROR_TITLES[403]);
    const refused = await post(strangerVisitor, fieldsOf({ status: 'confirmed', format: 'csv' }));
    expect(refused.status).toBe(403);
    expect(refused.text).not.toContain('consenting@example.org');
    expect(refused.text).not.toContain('Kim Consenting');
    expectErrorPage(await ownerVisitor.get('/admin/letters/999999/supporters'), 404, ERROR_TITLES[404]);
    expect(
      (await post(ownerVisitor, fieldsOf({ status: 'confirmed' }), '/admin/letters/999999/supporters'))
        .status,
    ).toBe(404);
    expect(await exportEntries()).toHaveLength(before);
  });

  it('speaks Korean and Ukrainian', async () => {
    for (const [lang, title] of [
      ['ko', '이 편지의 서명자 명단 내려받기'],
      ['uk', 'Завантажити список підписантів цього листа'],
    ] as const) {
      const response = await ownerVisitor.get(`${page()}?lang=${lang}`);
      expect(response.status).toBe(200);
      expect(textOf(mainOf(response.text))).toContain(title);
    }
  });

  describe('the export service itself', () => {
    const request = (columns: string[], format: string) => ({
      filters: { letter: letter.slug, statuses: ['confirmed' as const] },
      columns,
      format,
      addresses: 'consented' as const,
    });
    const sink = { write: async () => {} };

    it("refuses an organizer's read of a column beyond the list's, or a PDF, whoever built the request", async () => {
      const before = (await exportEntries()).length;
      const organizer = await t.platform.repositories.users.findById(owner.id);
      for (const columns of [['public_name', 'name'], ['city']]) {
        await expect(
          t.platform.exports.run(request(columns, 'csv') as never, organizer!, sink),
        ).rejects.toMatchObject({ status: 400, code: 'columns_not_for_organizers' });
      }
      await expect(
        t.platform.exports.run(request(['public_name'], 'pdf') as never, organizer!, sink),
      ).rejects.toMatchObject({ status: 400, code: 'format_not_for_organizers' });
      expect(await exportEntries()).toHaveLength(before);
      // An account that may not read the letter is refused before its columns are looked at.
      const stranger = await createAccount(t.platform, 'organizer');
      await expect(
        t.platform.exports.run(request(['name'], 'csv') as never, stranger, sink),
      ).rejects.toMatchObject({
        status: 403,
      });
    });
  });
});
